#include "physical/test_util.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <vector>

namespace coffer::physical::testing {

TempDir::TempDir() {
  std::string pattern = "/tmp/coffer-physical-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace coffer::physical::testing
