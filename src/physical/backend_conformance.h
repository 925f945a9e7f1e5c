// The behaviour every physical::Backend must show, as a value-parameterized test suite.
// A backend's test file instantiates it with a factory:
//   INSTANTIATE_TEST_SUITE_P(Inmem, BackendConformanceTest,
//                            ::testing::Values(BackendFactory{"inmem", ...}), FactoryName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "physical/backend.h"
#include "physical/test_util.h"

namespace coffer::physical::testing {

struct BackendFactory {
  std::string name;
  // Makes an empty backend; `dir` is a fresh temporary directory the backend may use.
  std::function<std::unique_ptr<Backend>(const std::string& dir)> make;
};

std::string FactoryName(const ::testing::TestParamInfo<BackendFactory>& info);

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The stored value, failing the test on an error.
  std::optional<std::string> MustGet(std::string_view key);
  std::vector<std::string> MustList(std::string_view prefix);

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace coffer::physical::testing
