#include "cli/cli.h"

#include <gtest/gtest.h>

namespace coffer::cli {
namespace {

TEST(CliTest, NormalizesGoStyleFlags) {
  std::vector<std::string> in = {"server", "-dev", "-config=a.hcl", "--log-level", "debug", "-h", "-", "--", "-x"};
  std::vector<std::string> want = {"server", "--dev", "--config=a.hcl", "--log-level", "debug", "-h", "-", "--", "-x"};
  EXPECT_EQ(NormalizeFlags(in), want);
}

}  // namespace
}  // namespace coffer::cli
