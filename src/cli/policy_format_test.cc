#include "cli/policy_format.h"

#include <gtest/gtest.h>

namespace coffer::cli {
namespace {

TEST(PolicyFormatTest, IndentsAndSpaces) {
  std::string in =
      "# team policy\n\n\n"
      "path   \"secret/data/*\"   {\n"
      "capabilities=[\"read\",\"list\"]\n"
      "     }\n"
      "path \"sys/*\" {\n"
      "  capabilities = [\"deny\"]\n"
      "  max_wrapping_ttl=\"1h\"\n"
      "}   \n";
  EXPECT_EQ(FormatPolicyHcl(in),
            "# team policy\n\n"
            "path \"secret/data/*\" {\n"
            "  capabilities = [\"read\", \"list\"]\n"
            "}\n"
            "path \"sys/*\" {\n"
            "  capabilities     = [\"deny\"]\n"
            "  max_wrapping_ttl = \"1h\"\n"
            "}\n");
}

TEST(PolicyFormatTest, NestedBlocksAndMultilineLists) {
  std::string in =
      "path \"a\" {\n"
      "capabilities = [\n"
      "\"read\",\n"
      "]\n"
      "allowed_parameters = {\n"
      "\"x\" = []\n"
      "}\n"
      "}\n";
  EXPECT_EQ(FormatPolicyHcl(in),
            "path \"a\" {\n"
            "  capabilities = [\n"
            "    \"read\",\n"
            "  ]\n"
            "  allowed_parameters = {\n"
            "    \"x\" = []\n"
            "  }\n"
            "}\n");
}

TEST(PolicyFormatTest, KeepsStringsAndComments) {
  std::string in = "path \"a  b\"{ # keep   this\n  capabilities=[ \"x\" ,\"y\" ] // and  this\n}\n";
  EXPECT_EQ(FormatPolicyHcl(in), "path \"a  b\" { # keep   this\n  capabilities = [\"x\", \"y\"] // and  this\n}\n");
}

TEST(PolicyFormatTest, Idempotent) {
  std::string in = "path \"a\" {\n  capabilities = [\"read\"] # c\n}\n";
  EXPECT_EQ(FormatPolicyHcl(in), in);
  EXPECT_EQ(FormatPolicyHcl(FormatPolicyHcl(in)), in);
}

}  // namespace
}  // namespace coffer::cli
