#include "policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace coffer::policy {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

Policy MustParse(std::string_view text, std::string_view name = "test") {
  auto p = ParsePolicy(name, text);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *std::move(p) : Policy();
}

std::string ErrorOf(std::string_view text, std::string_view name = "ops") {
  auto p = ParsePolicy(name, text);
  EXPECT_FALSE(p.ok()) << "parsed unexpectedly: " << text;
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  return p.status().message();
}

TEST(Capabilities, NamesMapToVaultBitsAndBack) {
  EXPECT_EQ(CapabilityFromName("read"), kRead);
  EXPECT_EQ(CapabilityFromName("patch"), kPatch);
  EXPECT_EQ(CapabilityFromName("deny"), kDeny);
  EXPECT_EQ(CapabilityFromName("Read"), 0u);  // Vault's names are case-sensitive
  EXPECT_EQ(CapabilityFromName("root"), 0u);
  EXPECT_EQ(kRead, 4u);  // the same numbering as Vault's bitmap
  EXPECT_EQ(kPatch, 128u);
  EXPECT_THAT(CapabilityNames(kUpdate | kRead | kList | kSudo), ElementsAre("list", "read", "sudo", "update"));
  EXPECT_THAT(CapabilityNames(kDeny | kRead), ElementsAre("deny"));
  EXPECT_THAT(CapabilityNames(0), IsEmpty());
  EXPECT_THAT(CapabilityNames(kAllCapabilities),
              ElementsAre("create", "delete", "list", "patch", "read", "sudo", "update"));
}

TEST(ParsePolicy, HclWithSeveralPathBlocksInSourceOrder) {
  Policy p = MustParse(R"(
# KV v2 read access
path "secret/data/*" {
  capabilities = ["read", "list"]
}

path "/secret/metadata/app" {
  capabilities = ["list"]
  comment = "a leading slash is dropped"
}

path "kv/+/config" {
  capabilities = ["create", "update", "patch"]
}
)",
                       "  Readers ");
  EXPECT_EQ(p.name, "readers");
  ASSERT_EQ(p.paths.size(), 3u);
  EXPECT_EQ(p.paths[0].pattern, "secret/data/*");
  EXPECT_EQ(p.paths[0].capabilities, kRead | kList);
  EXPECT_EQ(p.paths[1].pattern, "secret/metadata/app");
  EXPECT_EQ(p.paths[1].capabilities, kList);
  EXPECT_EQ(p.paths[2].pattern, "kv/+/config");
  EXPECT_EQ(p.paths[2].capabilities, kCreate | kUpdate | kPatch);
  EXPECT_FALSE(p.paths[0].templated);
  EXPECT_THAT(p.raw, StartsWith("\n# KV v2 read access\npath"));
}

TEST(ParsePolicy, DenyClearsEveryOtherCapabilityAndConstraint) {
  Policy p = MustParse(R"(
path "secret/super-secret" {
  capabilities = ["read", "deny", "sudo"]
  required_parameters = ["x"]
  allowed_parameters = { "a" = [] }
  max_wrapping_ttl = "1h"
})");
  ASSERT_EQ(p.paths.size(), 1u);
  EXPECT_EQ(p.paths[0].capabilities, kDeny);
  EXPECT_TRUE(p.paths[0].required_parameters.empty());
  EXPECT_TRUE(p.paths[0].allowed_parameters.empty());
  EXPECT_EQ(p.paths[0].max_wrapping_ttl, 0);
}

TEST(ParsePolicy, LegacyPolicyShorthandMapsAsVaultDoes) {
  Policy p = MustParse(R"(
path "a" { policy = "read" }
path "b" { policy = "write" }
path "c" { policy = "sudo" }
path "d" { policy = "deny" }
path "e" {
  policy = "read"
  capabilities = ["create", "sudo"]
}
path "f" {
  policy = "deny"
  capabilities = ["read"]
}
)");
  ASSERT_EQ(p.paths.size(), 6u);
  EXPECT_EQ(p.paths[0].capabilities, kRead | kList);
  EXPECT_EQ(p.paths[1].capabilities, kCreate | kRead | kUpdate | kDelete | kList);  // no patch, as in Vault
  EXPECT_EQ(p.paths[2].capabilities, kCreate | kRead | kUpdate | kDelete | kList | kSudo);
  EXPECT_EQ(p.paths[3].capabilities, kDeny);
  EXPECT_EQ(p.paths[4].capabilities, kRead | kList | kCreate | kSudo);
  EXPECT_EQ(p.paths[5].capabilities, kDeny);

  EXPECT_EQ(ErrorOf("path \"a\" {\n  policy = \"admin\"\n}"),
            "policy ops: 2:12: path \"a\": invalid policy \"admin\" (expected deny, read, write or sudo)");
}

TEST(ParsePolicy, ParameterConstraintsInBothHclSpellings) {
  Policy p = MustParse(R"(
path "secret/restricted" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "Foo" = []
    "bar" = ["zip", "zap", 3, true]
    "*" = []
  }
  denied_parameters {
    "secret" = []
  }
  required_parameters = ["Bar", "baz"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 90
}
)");
  ASSERT_EQ(p.paths.size(), 1u);
  const PathRules& r = p.paths[0];
  ASSERT_EQ(r.allowed_parameters.size(), 3u);
  EXPECT_TRUE(r.allowed_parameters.at("foo").empty());  // names are lower-cased
  EXPECT_EQ(json(r.allowed_parameters.at("bar")), json::parse(R"(["zip", "zap", 3, true])"));
  EXPECT_TRUE(r.allowed_parameters.at("*").empty());
  ASSERT_EQ(r.denied_parameters.size(), 1u);
  EXPECT_TRUE(r.denied_parameters.at("secret").empty());
  EXPECT_THAT(r.required_parameters, ElementsAre("bar", "baz"));
  EXPECT_EQ(r.min_wrapping_ttl, 1);
  EXPECT_EQ(r.max_wrapping_ttl, 90);
}

TEST(ParsePolicy, WrappingTtlsAcceptVaultDurationsAndMustBeOrdered) {
  Policy p = MustParse(R"(path "a" {
  capabilities = ["read"]
  min_wrapping_ttl = "1m30s"
  max_wrapping_ttl = "2h"
})");
  EXPECT_EQ(p.paths[0].min_wrapping_ttl, 90);
  EXPECT_EQ(p.paths[0].max_wrapping_ttl, 7200);
  EXPECT_EQ(ErrorOf(R"(path "a" {
  capabilities = ["read"]
  min_wrapping_ttl = "1h"
  max_wrapping_ttl = "10m"
})"),
            "policy ops: 4:3: path \"a\": max_wrapping_ttl cannot be less than min_wrapping_ttl");
  EXPECT_EQ(ErrorOf("path \"a\" {\n  min_wrapping_ttl = \"soon\"\n}"),
            "policy ops: 2:22: path \"a\": min_wrapping_ttl: invalid duration \"soon\" (use a number of seconds or "
            "a duration such as \"30s\", \"1h\")");
  EXPECT_EQ(ErrorOf("path \"a\" {\n  max_wrapping_ttl = -5\n}"),
            "policy ops: 2:22: path \"a\": max_wrapping_ttl: must not be negative");
}

TEST(ParsePolicy, UnknownCapabilityIsNamedWithItsPosition) {
  EXPECT_EQ(ErrorOf("path \"secret/*\" {\n  capabilities = [\"read\", \"reed\"]\n}"),
            "policy ops: 2:27: path \"secret/*\": invalid capability \"reed\"");
  EXPECT_EQ(ErrorOf("path \"secret/*\" {\n  capabilities = [\"READ\"]\n}"),
            "policy ops: 2:19: path \"secret/*\": invalid capability \"READ\"");
  EXPECT_EQ(ErrorOf("path \"x\" {\n  capabilities = [\"read\", 7]\n}"),
            "policy ops: 2:27: path \"x\": capabilities must be a list of strings, found a number");
}

TEST(ParsePolicy, WildcardsMustBeATrailingStarOrWholePlusSegments) {
  EXPECT_EQ(ErrorOf("\n\npath \"secret/*/config\" {\n  capabilities = [\"read\"]\n}"),
            "policy ops: 3:1: path \"secret/*/config\": \"*\" is only allowed at the end of a path (use \"+\" for one "
            "segment)");
  EXPECT_EQ(ErrorOf("path \"secret/app+/config\" { capabilities = [\"read\"] }"),
            "policy ops: 1:1: path \"secret/app+/config\": \"+\" must be a whole path segment");
  EXPECT_EQ(ErrorOf("path \"secret/+*\" { capabilities = [\"read\"] }"),
            "policy ops: 1:1: path \"secret/+*\": invalid use of wildcards ('+*' is forbidden)");
  // Allowed forms: a trailing star anywhere in the last segment, "+" segments, a lone "*" or "+".
  Policy p = MustParse(R"(
path "secret/app*" { capabilities = ["read"] }
path "+/data/+/x*" { capabilities = ["read"] }
path "*" { capabilities = ["list"] }
path "+" { capabilities = ["list"] }
)");
  EXPECT_EQ(p.paths.size(), 4u);
}

TEST(ParsePolicy, TemplatedPathsAreMarked) {
  Policy p = MustParse(R"(path "identity/entity/id/{{identity.entity.id}}" { capabilities = ["read"] })");
  ASSERT_EQ(p.paths.size(), 1u);
  EXPECT_TRUE(p.paths[0].templated);
  EXPECT_EQ(ErrorOf(R"(path "kv/{{user.name}}/*" { capabilities = ["read"] })"),
            "policy ops: 1:1: path \"kv/{{user.name}}/*\": failed to validate policy templating: unknown template "
            "parameter \"user.name\"");
  EXPECT_THAT(ErrorOf(R"(path "kv/{{identity.entity.id" { capabilities = ["read"] })"),
              HasSubstr("\"{{\" is never closed"));
}

TEST(ParsePolicy, UnknownAndUnsupportedKeysAreRejected) {
  EXPECT_EQ(ErrorOf("path \"a\" {\n  capabilites = [\"read\"]\n}"),
            "policy ops: 2:3: path \"a\": unknown key \"capabilites\"");
  EXPECT_EQ(ErrorOf("paths \"a\" {\n  capabilities = [\"read\"]\n}"),
            "policy ops: 1:1: unknown key \"paths\" (a policy holds only path blocks)");
  EXPECT_EQ(ErrorOf("path \"a\" {\n  capabilities = [\"read\"]\n  mfa_methods = [\"totp\"]\n}"),
            "policy ops: 3:3: path \"a\": mfa_methods is a Vault Enterprise feature that Coffer does not support");
  EXPECT_EQ(ErrorOf("path \"a\" {\n  control_group = {\n    ttl = \"4h\"\n  }\n}"),
            "policy ops: 2:3: path \"a\": control_group is a Vault Enterprise feature that Coffer does not support");
  EXPECT_EQ(ErrorOf("path \"a\" \"b\" { capabilities = [\"read\"] }"),
            "policy ops: 1:1: a path block takes one label, the path pattern");
  // A top-level name is accepted and ignored, as in Vault.
  EXPECT_EQ(MustParse("name = \"x\"\npath \"a\" { capabilities = [\"read\"] }").paths.size(), 1u);
}

TEST(ParsePolicy, ParameterKeysFollowVaultsWildcardRules) {
  EXPECT_EQ(ErrorOf("path \"a\" {\n  allowed_parameters = {\n    \"fo*\" = []\n  }\n}"),
            "policy ops: 3:5: path \"a\": allowed_parameters: parameter key \"fo*\" cannot contain non-tail "
            "wildcards");
  EXPECT_EQ(ErrorOf("path \"a\" {\n  denied_parameters = {\n    \"foo\" = \"bar\"\n  }\n}"),
            "policy ops: 3:13: path \"a\": denied_parameters: the value of \"foo\" must be a list, found a string");
  EXPECT_EQ(ErrorOf("path \"a\" {\n  required_parameters = [\"*\"]\n}"),
            "policy ops: 2:26: path \"a\": required_parameters: parameter key \"*\": wildcard is not permitted here");
  EXPECT_THAT(ErrorOf("path \"a\" {\n  denied_parameters = {\n    \"/nested/key\" = []\n  }\n}"),
              HasSubstr("nested parameter paths are not supported"));
}

TEST(ParsePolicy, HclSyntaxErrorsCarryThePolicyNameAndPosition) {
  std::string message = ErrorOf("path \"a\" {\n  capabilities = [\"read\"\n}\n", "Team-A");
  EXPECT_EQ(message, "policy team-a: 3:1: expected ',' or ']' in the list opened at 2:18, found '}'");
}

TEST(ParsePolicy, JsonFormMatchesTheHclForm) {
  Policy from_json = MustParse(R"({
  "path": {
    "secret/data/*": {"capabilities": ["read", "list"]},
    "secret/restricted": {
      "capabilities": ["create"],
      "allowed_parameters": {"foo": [], "bar": ["zip", "zap"]},
      "required_parameters": ["bar"],
      "max_wrapping_ttl": "1h"
    }
  }
})");
  Policy from_hcl = MustParse(R"(
path "secret/data/*" { capabilities = ["read", "list"] }
path "secret/restricted" {
  capabilities = ["create"]
  allowed_parameters = { "foo" = [] "bar" = ["zip", "zap"] }
  required_parameters = ["bar"]
  max_wrapping_ttl = "1h"
})");
  ASSERT_EQ(from_json.paths.size(), 2u);
  ASSERT_EQ(from_hcl.paths.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(from_json.paths[i].pattern, from_hcl.paths[i].pattern);
    EXPECT_EQ(from_json.paths[i].capabilities, from_hcl.paths[i].capabilities);
    EXPECT_EQ(from_json.paths[i].allowed_parameters, from_hcl.paths[i].allowed_parameters);
    EXPECT_EQ(from_json.paths[i].required_parameters, from_hcl.paths[i].required_parameters);
    EXPECT_EQ(from_json.paths[i].max_wrapping_ttl, from_hcl.paths[i].max_wrapping_ttl);
  }
  EXPECT_EQ(from_json.paths[1].max_wrapping_ttl, 3600);
}

TEST(ParsePolicy, JsonErrors) {
  // Syntax errors point at the offending character.
  EXPECT_EQ(ErrorOf("{\n  \"path\": {\n    \"a\": {\"capabilities\": [\"read\"]}\n  }\n"),
            "policy ops: 5:1: invalid JSON: syntax error while parsing object - unexpected end of input; expected "
            "'}'");
  EXPECT_THAT(ErrorOf("{\"path\": {\"a\": {\"capabilities\": [tru]}}}"), StartsWith("policy ops: 1:"));
  EXPECT_THAT(ErrorOf("{\"path\": {\"a\": {\"capabilities\": [tru]}}}"), Not(HasSubstr("last read")));
  // JSON carries no positions for semantic errors.
  EXPECT_EQ(ErrorOf(R"({"path": {"a": {"capabilities": ["reed"]}}})"),
            "policy ops: path \"a\": invalid capability \"reed\"");
  EXPECT_EQ(ErrorOf(R"({"path": ["a"]})"), "policy ops: \"path\" must map path patterns to rules, found a string");
}

TEST(ParsePolicy, EmptyTextIsAPolicyWithoutPaths) {
  EXPECT_TRUE(MustParse("").paths.empty());
  EXPECT_TRUE(MustParse("# nothing yet\n").paths.empty());
}

TEST(ParsePolicy, SamePatternTwiceKeepsBothBlocks) {
  Policy p = MustParse(R"(
path "a/*" { capabilities = ["read"] }
path "a/*" { capabilities = ["list"] }
)");
  ASSERT_EQ(p.paths.size(), 2u);
  EXPECT_EQ(p.paths[0].capabilities, kRead);
  EXPECT_EQ(p.paths[1].capabilities, kList);
}

TEST(NormalizePolicyName, LowerCasesTrimsAndRejectsBadCharacters) {
  EXPECT_EQ(*NormalizePolicyName("  Dev-Ops_1.2 "), "dev-ops_1.2");
  EXPECT_EQ(*NormalizePolicyName("team@example.com"), "team@example.com");
  EXPECT_EQ(NormalizePolicyName("").status().message(), "invalid policy name \"\": a policy name cannot be empty");
  EXPECT_EQ(NormalizePolicyName("a/b").status().message(),
            "invalid policy name \"a/b\": use letters, digits and - _ . @ + = : , only");
  EXPECT_FALSE(NormalizePolicyName("a b").ok());
  EXPECT_FALSE(NormalizePolicyName("a\nb").ok());
  EXPECT_FALSE(NormalizePolicyName(std::string(129, 'a')).ok());
  EXPECT_TRUE(NormalizePolicyName(std::string(128, 'a')).ok());
  EXPECT_EQ(ParsePolicy("bad name", "").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::policy
