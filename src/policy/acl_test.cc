#include "policy/acl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace coffer::policy {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::ElementsAre;

constexpr char kRootPolicy[] = "<root>";

std::shared_ptr<const Policy> MakePolicy(const std::string& name, std::string_view text) {
  auto p = ParsePolicy(name, text);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::make_shared<const Policy>(p.ok() ? *std::move(p) : Policy());
}

// Policies named p0, p1, ... in order; kRootPolicy stands for the built-in root policy.
std::shared_ptr<const Acl> AclOf(const std::vector<std::string>& texts) {
  std::vector<std::shared_ptr<const Policy>> policies;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i] == kRootPolicy) {
      auto root = std::make_shared<Policy>();
      root->name = "root";
      policies.push_back(std::move(root));
    } else {
      policies.push_back(MakePolicy("p" + std::to_string(i), texts[i]));
    }
  }
  return Acl::Create(policies);
}

constexpr char kKv[] = R"(
path "secret/data/*" { capabilities = ["read", "list"] }
path "secret/data/admin" { capabilities = ["deny"] }
path "secret/data/app/config" { capabilities = ["update"] }
path "secret/data/app*" { capabilities = ["create", "read"] }
path "secret/metadata/app" { capabilities = ["list"] }
path "secret/create-only" { capabilities = ["create"] }
path "secret/patchable/*" { capabilities = ["patch", "read"] }
)";

constexpr char kPrefixChain[] = R"(
path "a/*" { capabilities = ["read"] }
path "a/b/*" { capabilities = ["deny"] }
path "a/b/c/d/*" { capabilities = ["list"] }
)";

constexpr char kDocs[] = R"(path "kv/+/docs/*" { capabilities = ["list"] })";

constexpr char kSegments[] = R"(
path "kv/+/config" { capabilities = ["read"] }
path "kv/+/app*" { capabilities = ["list"] }
)";

// One policy per priority rule: the first pattern of each must win where both match.
constexpr char kLaterFirstWildcard[] = R"(
path "foo/a*" { capabilities = ["read"] }
path "foo/+" { capabilities = ["update"] }
)";
constexpr char kLaterFirstWildcardSegments[] = R"(
path "foo/bar/+/baz" { capabilities = ["read"] }
path "foo/+/bar/baz" { capabilities = ["update"] }
)";
constexpr char kNotEndingInStar[] = R"(
path "foo/+/bar" { capabilities = ["read"] }
path "foo/+/ba*" { capabilities = ["update"] }
)";
constexpr char kPlusOverStar[] = R"(
path "foo/+" { capabilities = ["read"] }
path "foo/*" { capabilities = ["update"] }
)";
constexpr char kFewerPlus[] = R"(
path "foo/+/bar/baz" { capabilities = ["read"] }
path "foo/+/+/baz" { capabilities = ["update"] }
)";
constexpr char kLonger[] = R"(
path "foo/+/bar/ba*" { capabilities = ["read"] }
path "foo/+/bar/b*" { capabilities = ["update"] }
)";
constexpr char kLexicallyGreater[] = R"(
path "x/+/y/+" { capabilities = ["read"] }
path "x/+/+/z" { capabilities = ["update"] }
)";
constexpr char kSegmentOverShorterPrefix[] = R"(
path "foo/b/+" { capabilities = ["update"] }
path "foo/*" { capabilities = ["read"] }
)";

constexpr char kSharedRead[] = R"(path "shared/*" { capabilities = ["read"] })";
constexpr char kSharedUpdate[] = R"(path "shared/*" { capabilities = ["update"] })";
constexpr char kSharedDeny[] = R"(path "shared/*" { capabilities = ["deny"] })";
constexpr char kSecretGrant[] = R"(path "shared/secret" { capabilities = ["read", "update"] })";
constexpr char kSecretDeny[] = R"(path "shared/secret" { capabilities = ["deny"] })";
constexpr char kTeamGlob[] = R"(path "team/*" { capabilities = ["read"] })";
constexpr char kTeamExact[] = R"(path "team/doc" { capabilities = ["list"] })";

constexpr char kAllowed[] = R"(
path "params/allowed" {
  capabilities = ["create", "update", "read"]
  allowed_parameters = {
    "foo" = []
    "bar" = ["zip", "zap"]
  }
})";
constexpr char kAllowedStar[] = R"(
path "params/star" {
  capabilities = ["update"]
  allowed_parameters = {
    "*" = []
    "bar" = ["zip"]
  }
})";
constexpr char kDenied[] = R"(
path "params/denied" {
  capabilities = ["update"]
  denied_parameters = {
    "secret" = []
    "level" = ["admin", "root*"]
  }
})";
constexpr char kDeniedAll[] = R"(
path "params/none" {
  capabilities = ["update"]
  denied_parameters = { "*" = [] }
})";
constexpr char kDeniedWins[] = R"(
path "params/both" {
  capabilities = ["update"]
  allowed_parameters = { "foo" = [] }
  denied_parameters = { "foo" = ["bad"] }
})";
constexpr char kRequired[] = R"(
path "params/required" {
  capabilities = ["create", "delete"]
  required_parameters = ["Name"]
})";
constexpr char kGlobValues[] = R"(
path "params/glob" {
  capabilities = ["update"]
  allowed_parameters = { "env" = ["prod-*", "*-test", "*stage*", "*"] }
})";
constexpr char kTypedValues[] = R"(
path "params/typed" {
  capabilities = ["update"]
  allowed_parameters = {
    "ttl" = [30, 60]
    "flag" = [true]
  }
})";
constexpr char kMergeA[] = R"(
path "merge/p" {
  capabilities = ["update"]
  allowed_parameters = { "a" = ["1"] "b" = ["x"] }
})";
constexpr char kMergeB[] = R"(
path "merge/p" {
  capabilities = ["update"]
  allowed_parameters = { "a" = ["2"] "b" = [] }
})";
constexpr char kRequiredX[] = R"(path "merge/r" { capabilities = ["create"] required_parameters = ["x"] })";
constexpr char kRequiredY[] = R"(path "merge/r" { capabilities = ["create"] required_parameters = ["y"] })";
constexpr char kWrap[] = R"(
path "wrap/x" {
  capabilities = ["read"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "1h"
})";

struct Case {
  const char* what;
  std::vector<std::string> policies;
  const char* path;
  Operation op;
  const char* data;  // JSON request data; "" for none
  bool allowed;
  int64_t wrap_ttl = 0;
};

const Operation R = Operation::kRead, L = Operation::kList, C = Operation::kCreate, U = Operation::kUpdate,
                P = Operation::kPatch, D = Operation::kDelete, H = Operation::kHelp;

const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      // Exact rules versus `*` prefixes.
      {"glob grants read", {kKv}, "secret/data/foo", R, "", true},
      {"glob lacks delete", {kKv}, "secret/data/foo", D, "", false},
      {"exact rule wins outright over a matching glob", {kKv}, "secret/data/app/config", R, "", false},
      {"exact rule grants its own capability", {kKv}, "secret/data/app/config", U, "", true},
      {"exact deny", {kKv}, "secret/data/admin", R, "", false},
      {"an exact rule covers only its path", {kKv}, "secret/data/admin/x", R, "", true},
      {"a glob does not cover its own parent", {kKv}, "secret/data", R, "", false},
      {"a glob ending in / needs the /", {kKv}, "secret/dataX", R, "", false},
      {"the longest prefix wins", {kKv}, "secret/data/apple", C, "", true},
      {"a shorter prefix lacks create", {kKv}, "secret/data/other", C, "", false},
      {"the longest prefix decides even when a shorter one grants more", {kKv}, "secret/data/apple", L, "", false},
      {"a leading slash is ignored", {kKv}, "/secret/data/foo", R, "", true},
      {"LIST with a trailing slash falls back to the exact path", {kKv}, "secret/metadata/app/", L, "", true},
      {"READ gets no trailing-slash fallback", {kKv}, "secret/metadata/app/", R, "", false},
      {"a LIST path without its slash is matched as Vault's HTTP layer sends it", {kDocs}, "kv/t/docs", L, "", true},
      {"... so a glob covers listing its own folder", {kKv}, "secret/data", L, "", true},
      {"create is not update", {kKv}, "secret/create-only", C, "", true},
      {"update is not create", {kKv}, "secret/create-only", U, "", false},
      {"patch capability", {kKv}, "secret/patchable/x", P, "", true},
      {"update does not imply patch", {kKv}, "secret/data/app/config", P, "", false},
      {"deny by default", {kKv}, "other/thing", R, "", false},
      {"help is always allowed", {kKv}, "other/thing", H, "", true},
      // The prefix search walks up to enclosing prefixes.
      {"a nested deny prefix applies below it", {kPrefixChain}, "a/b/c/x", R, "", false},
      {"the outer prefix applies beside it", {kPrefixChain}, "a/c", R, "", true},
      {"a/b/ is not a prefix of a/bc", {kPrefixChain}, "a/bc", R, "", true},
      {"the deepest prefix", {kPrefixChain}, "a/b/c/d/e", L, "", true},
      {"the deepest prefix lacks read", {kPrefixChain}, "a/b/c/d/e", R, "", false},
      {"a prefix matches itself", {kPrefixChain}, "a/", R, "", true},
      // `+` segments.
      {"+ matches one segment", {kSegments}, "kv/team/config", R, "", true},
      {"+ does not match two segments", {kSegments}, "kv/team/x/config", R, "", false},
      {"+ does not match zero segments", {kSegments}, "kv/config", R, "", false},
      {"+ with a trailing glob", {kSegments}, "kv/team/apple/x", L, "", true},
      {"+ rules keep their own capabilities", {kSegments}, "kv/team/config", L, "", false},
      // Priority between non-exact matches, one rule at a time.
      {"later first wildcard wins (glob vs +)", {kLaterFirstWildcard}, "foo/ab", R, "", true},
      {"later first wildcard wins: loser's capability absent", {kLaterFirstWildcard}, "foo/ab", U, "", false},
      {"the + rule applies where the glob does not match", {kLaterFirstWildcard}, "foo/zz", U, "", true},
      {"later first wildcard wins (+ vs +)", {kLaterFirstWildcardSegments}, "foo/bar/bar/baz", R, "", true},
      {"later first wildcard wins (+ vs +): loser", {kLaterFirstWildcardSegments}, "foo/bar/bar/baz", U, "", false},
      {"not ending in * wins", {kNotEndingInStar}, "foo/x/bar", R, "", true},
      {"not ending in * wins: loser", {kNotEndingInStar}, "foo/x/bar", U, "", false},
      {"the * rule applies where the exact-length one does not", {kNotEndingInStar}, "foo/x/baz", U, "", true},
      {"foo/+ beats foo/*", {kPlusOverStar}, "foo/x", R, "", true},
      {"foo/+ beats foo/*: loser", {kPlusOverStar}, "foo/x", U, "", false},
      {"foo/* still covers deeper paths", {kPlusOverStar}, "foo/x/y", U, "", true},
      {"fewer + wins", {kFewerPlus}, "foo/x/bar/baz", R, "", true},
      {"fewer + wins: loser", {kFewerPlus}, "foo/x/bar/baz", U, "", false},
      {"more + applies where the other does not match", {kFewerPlus}, "foo/x/qux/baz", U, "", true},
      {"longer pattern wins", {kLonger}, "foo/x/bar/baz", R, "", true},
      {"longer pattern wins: loser", {kLonger}, "foo/x/bar/baz", U, "", false},
      {"shorter pattern applies alone", {kLonger}, "foo/x/bar/bz", U, "", true},
      {"lexically greater pattern wins", {kLexicallyGreater}, "x/1/y/z", R, "", true},
      {"lexically greater pattern wins: loser", {kLexicallyGreater}, "x/1/y/z", U, "", false},
      {"a + rule beats a shorter prefix", {kSegmentOverShorterPrefix}, "foo/b/c", U, "", true},
      {"a + rule beats a shorter prefix: loser", {kSegmentOverShorterPrefix}, "foo/b/c", R, "", false},
      // Several policies.
      {"union across policies (read)", {kSharedRead, kSharedUpdate}, "shared/x", R, "", true},
      {"union across policies (update)", {kSharedRead, kSharedUpdate}, "shared/x", U, "", true},
      {"union grants nothing extra", {kSharedRead, kSharedUpdate}, "shared/x", D, "", false},
      {"a later deny wins", {kSecretGrant, kSecretDeny}, "shared/secret", R, "", false},
      {"an earlier deny wins", {kSecretDeny, kSecretGrant}, "shared/secret", U, "", false},
      {"a deny glob in one policy beats a grant in another", {kSharedRead, kSharedDeny}, "shared/x", R, "", false},
      {"an exact rule from one policy beats a glob from another", {kTeamGlob, kTeamExact}, "team/doc", R, "", false},
      {"... and grants its own capability", {kTeamGlob, kTeamExact}, "team/doc", L, "", true},
      {"... while the glob still covers siblings", {kTeamGlob, kTeamExact}, "team/other", R, "", true},
      {"the root policy allows everything", {kRootPolicy}, "sys/anything/at/all", D, "", true},
      {"root among other policies", {kTeamGlob, kRootPolicy}, "sys/seal", U, "", true},
      {"no policies allow nothing", {}, "secret/data/foo", R, "", false},
      // Allowed parameters.
      {"no data passes allowed_parameters", {kAllowed}, "params/allowed", U, "", true},
      {"an allowed key with any value", {kAllowed}, "params/allowed", U, R"({"foo": "anything"})", true},
      {"an allowed value", {kAllowed}, "params/allowed", U, R"({"bar": "zip"})", true},
      {"a value not in the list", {kAllowed}, "params/allowed", U, R"({"bar": "nope"})", false},
      {"a key not in the list", {kAllowed}, "params/allowed", U, R"({"baz": 1})", false},
      {"a list value with every element allowed", {kAllowed}, "params/allowed", U, R"({"bar": ["zip", "zap"]})", true},
      {"a list value with one element not allowed", {kAllowed}, "params/allowed", U, R"({"bar": ["zip", "x"]})", false},
      {"a comma-separated string counts as its parts", {kAllowed}, "params/allowed", U, R"({"bar": "zip, zap"})", true},
      {"an empty string is not vacuously allowed", {kAllowed}, "params/allowed", U, R"({"bar": ""})", false},
      {"parameter names compare case-insensitively", {kAllowed}, "params/allowed", C, R"({"FOO": 1})", true},
      {"reads are constrained too (query parameters)", {kAllowed}, "params/allowed", R, R"({"baz": "1"})", false},
      {"a read without parameters", {kAllowed}, "params/allowed", R, "", true},
      {"* allows other keys", {kAllowedStar}, "params/star", U, R"({"other": 1})", true},
      {"* does not lift a listed key's values", {kAllowedStar}, "params/star", U, R"({"bar": "nope"})", false},
      {"a listed key's allowed value", {kAllowedStar}, "params/star", U, R"({"bar": "zip"})", true},
      // Denied parameters.
      {"a denied key with any value", {kDenied}, "params/denied", U, R"({"secret": "x"})", false},
      {"a key with a value not denied", {kDenied}, "params/denied", U, R"({"level": "user"})", true},
      {"a denied value", {kDenied}, "params/denied", U, R"({"level": "admin"})", false},
      {"a denied value glob", {kDenied}, "params/denied", U, R"({"level": "rooted"})", false},
      {"keys not denied pass", {kDenied}, "params/denied", U, R"({"other": 1})", true},
      {"one denied element denies a list", {kDenied}, "params/denied", U, R"({"level": ["user", "admin"]})", false},
      {"one denied part denies a comma-separated string",
       {kDenied},
       "params/denied",
       U,
       R"({"level": "user,admin"})",
       false},
      {"denied * refuses any data", {kDeniedAll}, "params/none", U, R"({"x": 1})", false},
      {"denied * allows a request without data", {kDeniedAll}, "params/none", U, "", true},
      {"denied wins over allowed", {kDeniedWins}, "params/both", U, R"({"foo": "bad"})", false},
      {"allowed value not denied", {kDeniedWins}, "params/both", U, R"({"foo": "good"})", true},
      // Required parameters.
      {"a required parameter missing", {kRequired}, "params/required", C, "", false},
      {"a required parameter present", {kRequired}, "params/required", C, R"({"name": "x"})", true},
      {"delete is not checked for parameters", {kRequired}, "params/required", D, "", true},
      {"required names match lower-case request keys, as Vault",
       {kRequired},
       "params/required",
       C,
       R"({"NAME": "x"})",
       false},
      // Value globs and types.
      {"value glob with a trailing *", {kGlobValues}, "params/glob", U, R"({"env": "prod-eu"})", true},
      {"value glob with a leading *", {kGlobValues}, "params/glob", U, R"({"env": "eu-test"})", true},
      {"value glob with * on both ends", {kGlobValues}, "params/glob", U, R"({"env": "mystage1"})", true},
      {"value matching no glob", {kGlobValues}, "params/glob", U, R"({"env": "dev"})", false},
      {"a lone * value is literal", {kGlobValues}, "params/glob", U, R"({"env": "*"})", true},
      {"a number in the list", {kTypedValues}, "params/typed", U, R"({"ttl": 30})", true},
      {"a number not in the list", {kTypedValues}, "params/typed", U, R"({"ttl": 45})", false},
      {"a string is not the number", {kTypedValues}, "params/typed", U, R"({"ttl": "30"})", false},
      {"numbers compare by value", {kTypedValues}, "params/typed", U, R"({"ttl": 60.0})", true},
      {"a bool in the list", {kTypedValues}, "params/typed", U, R"({"flag": true})", true},
      {"a bool not in the list", {kTypedValues}, "params/typed", U, R"({"flag": false})", false},
      // Merging parameter constraints across policies.
      {"merged allowed values (first policy)", {kMergeA, kMergeB}, "merge/p", U, R"({"a": "1"})", true},
      {"merged allowed values (second policy)", {kMergeA, kMergeB}, "merge/p", U, R"({"a": "2"})", true},
      {"merged allowed values (neither)", {kMergeA, kMergeB}, "merge/p", U, R"({"a": "3"})", false},
      {"an empty list absorbs a value list when merged", {kMergeA, kMergeB}, "merge/p", U, R"({"b": "any"})", true},
      {"required parameters are unioned (one missing)", {kRequiredX, kRequiredY}, "merge/r", C, R"({"x": 1})", false},
      {"required parameters are unioned (both present)",
       {kRequiredX, kRequiredY},
       "merge/r",
       C,
       R"({"x": 1, "y": 2})",
       true},
      // Response-wrapping bounds.
      {"a wrapping bound refuses an unwrapped request", {kWrap}, "wrap/x", R, "", false, 0},
      {"a wrapping TTL within bounds", {kWrap}, "wrap/x", R, "", true, 1800},
      {"a wrapping TTL above the maximum", {kWrap}, "wrap/x", R, "", false, 7200},
      {"a wrapping TTL below the minimum", {kWrap}, "wrap/x", R, "", false, 30},
  };
  return kCases;
}

TEST(AclCheck, Table) {
  ASSERT_GE(Cases().size(), 60u);
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.what);
    auto acl = AclOf(c.policies);
    json data = *c.data ? json::parse(c.data) : json::object();
    AclResult result = acl->Check(c.path, c.op, data, c.wrap_ttl);
    EXPECT_EQ(result.allowed, c.allowed) << c.path << " " << logical::OperationName(c.op);
  }
}

TEST(AclCheck, ReportsTheMatchedRuleAndSudo) {
  auto acl = AclOf({R"(
path "sys/audit/*" { capabilities = ["read", "update", "sudo"] }
path "sys/mounts" { capabilities = ["read"] }
path "secret/*" { capabilities = ["deny"] }
)"});
  AclResult audit = acl->Check("sys/audit/file", Operation::kUpdate, json::object());
  EXPECT_TRUE(audit.allowed);
  EXPECT_TRUE(audit.sudo);
  EXPECT_EQ(audit.capabilities, kRead | kUpdate | kSudo);

  // Sudo is reported even when the operation itself is refused.
  AclResult refused = acl->Check("sys/audit/file", Operation::kDelete, json::object());
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.sudo);

  AclResult mounts = acl->Check("sys/mounts", Operation::kRead, json::object());
  EXPECT_TRUE(mounts.allowed);
  EXPECT_FALSE(mounts.sudo);

  AclResult denied = acl->Check("secret/x", Operation::kRead, json::object());
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.capabilities, kDeny);

  AclResult nothing = acl->Check("nowhere", Operation::kRead, json::object());
  EXPECT_EQ(nothing.capabilities, 0u);

  auto root = AclOf({kRootPolicy});
  EXPECT_TRUE(root->root());
  AclResult r = root->Check("sys/raw/x", Operation::kDelete, json::object());
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.sudo);
}

TEST(AclCheck, NonObjectRequestDataCountsAsEmpty) {
  auto acl = AclOf({kRequired, kAllowed});
  EXPECT_FALSE(acl->Check("params/required", Operation::kCreate, json()).allowed);
  EXPECT_TRUE(acl->Check("params/allowed", Operation::kUpdate, json()).allowed);
  EXPECT_TRUE(acl->Check("params/allowed", Operation::kUpdate, json::array({1, 2})).allowed);
}

TEST(AclCheck, TemplatedRulesDoNotApplyWithoutAnIdentity) {
  auto acl = AclOf({R"(
path "identity/entity/id/{{identity.entity.id}}" { capabilities = ["read"] }
path "identity/entity/id/*" { capabilities = ["list"] }
)"});
  EXPECT_FALSE(acl->Check("identity/entity/id/{{identity.entity.id}}", Operation::kRead, json::object()).allowed);
  EXPECT_TRUE(acl->Check("identity/entity/id/x", Operation::kList, json::object()).allowed);
}

TEST(AclCapabilities, AnswersAsSysCapabilitiesDoes) {
  auto acl = AclOf({R"(
path "secret/data/*" { capabilities = ["update", "read", "list", "create"] }
path "secret/data/locked" { capabilities = ["deny"] }
path "secret/metadata/app" { capabilities = ["list", "delete"] }
path "sys/policies/acl/*" { capabilities = ["read", "sudo"] }
)"});
  EXPECT_THAT(acl->CapabilityNamesFor("secret/data/x"), ElementsAre("create", "list", "read", "update"));
  EXPECT_EQ(acl->Capabilities("secret/data/x"), kCreate | kRead | kUpdate | kList);
  EXPECT_THAT(acl->CapabilityNamesFor("secret/data/locked"), ElementsAre("deny"));
  EXPECT_THAT(acl->CapabilityNamesFor("elsewhere"), ElementsAre("deny"));
  EXPECT_EQ(acl->Capabilities("elsewhere"), 0u);
  // Like a LIST, a trailing slash also tries the path without it.
  EXPECT_THAT(acl->CapabilityNamesFor("secret/metadata/app/"), ElementsAre("delete", "list"));
  EXPECT_THAT(acl->CapabilityNamesFor("/sys/policies/acl/ops"), ElementsAre("read", "sudo"));
  EXPECT_THAT(AclOf({kRootPolicy})->CapabilityNamesFor("anything"), ElementsAre("root"));
  EXPECT_EQ(AclOf({kRootPolicy})->Capabilities("anything"), kAllCapabilities);
  EXPECT_THAT(AclOf({})->CapabilityNamesFor("anything"), ElementsAre("deny"));
}

TEST(AclMountAccess, SeesMountsWithAnyGrantAtOrBelowThem) {
  auto acl = AclOf({R"(
path "secret/data/app/*" { capabilities = ["read"] }
path "denied/*" { capabilities = ["deny"] }
path "denied/x" { capabilities = ["deny"] }
path "exact/one/thing" { capabilities = ["update"] }
path "team/+/docs" { capabilities = ["list"] }
path "mount" { capabilities = ["read"] }
)"});
  EXPECT_TRUE(acl->HasMountAccess("secret/"));
  EXPECT_TRUE(acl->HasMountAccess("secret"));  // a missing trailing slash is added, as Vault does
  EXPECT_TRUE(acl->HasMountAccess("exact/"));
  EXPECT_TRUE(acl->HasMountAccess("team/"));
  EXPECT_TRUE(acl->HasMountAccess("mount/"));  // the mount path itself, without its slash
  EXPECT_FALSE(acl->HasMountAccess("denied/"));
  EXPECT_FALSE(acl->HasMountAccess("other/"));
  EXPECT_FALSE(acl->HasMountAccess("other/deep/"));
  EXPECT_TRUE(AclOf({kRootPolicy})->HasMountAccess("anything/"));
  EXPECT_FALSE(AclOf({})->HasMountAccess("secret/"));

  // A rule starting with + reaches every mount it could continue under, as in Vault.
  auto plus = AclOf({R"(path "+/config" { capabilities = ["read"] })"});
  EXPECT_TRUE(plus->HasMountAccess("any-mount/"));
  EXPECT_FALSE(plus->HasMountAccess("two/segments/"));
}

// The prefix search (sorted array plus enclosing-prefix chains) must agree with a brute-force
// longest-prefix scan on many overlapping prefixes.
TEST(AclPrefixSearch, AgreesWithBruteForce) {
  std::mt19937 random(20240601);
  const std::string alphabet = "ab/";
  auto random_string = [&](size_t max_length) {
    std::string s(random() % (max_length + 1), ' ');
    for (char& c : s) c = alphabet[random() % alphabet.size()];
    return s;
  };
  std::map<std::string, uint32_t> prefixes;  // prefix → capabilities
  std::string text;
  for (int i = 0; i < 300; ++i) {
    std::string prefix = random_string(7);
    // A leading '/' is dropped by the parser, which would merge two of these prefixes.
    if (prefix.starts_with("/") || prefixes.count(prefix)) continue;
    uint32_t bits = (random() % 127 + 1) << 1;  // a non-empty set of non-deny capabilities
    prefixes[prefix] = bits;
    text += "path \"" + prefix + "*\" { capabilities = [";
    for (const std::string& name : CapabilityNames(bits)) text += "\"" + name + "\", ";
    text += "] }\n";
  }
  auto acl = AclOf({text});
  for (int i = 0; i < 5000; ++i) {
    std::string path = random_string(10);
    while (!path.empty() && path.front() == '/') path.erase(0, 1);  // Check ignores leading slashes
    const std::string* best = nullptr;
    for (const auto& [prefix, bits] : prefixes) {
      if (path.starts_with(prefix) && (best == nullptr || prefix.size() > best->size())) best = &prefix;
    }
    uint32_t want = best == nullptr ? 0 : prefixes[*best];
    ASSERT_EQ(acl->Check(path, Operation::kRead, json::object()).capabilities, want) << "path " << path;
  }
}

// A token with 1,000 policies of 20 rules each: every kind of rule still resolves correctly.
TEST(AclScale, ThousandPoliciesOfTwentyRules) {
  std::vector<std::string> texts;
  for (int i = 0; i < 1000; ++i) {
    std::string t;
    std::string app = "app" + std::to_string(i);
    for (int j = 0; j < 10; ++j) {
      t += "path \"" + app + "/data/" + std::to_string(j) + "/*\" { capabilities = [\"read\"] }\n";
    }
    for (int j = 0; j < 5; ++j) {
      t += "path \"" + app + "/config/" + std::to_string(j) + "\" { capabilities = [\"update\"] }\n";
    }
    for (int j = 0; j < 4; ++j) {
      t += "path \"" + app + "/+/meta/" + std::to_string(j) + "\" { capabilities = [\"list\"] }\n";
    }
    t += "path \"shared/+/x\" { capabilities = [\"" + std::string(i % 2 ? "read" : "list") + "\"] }\n";
    texts.push_back(std::move(t));
  }
  auto acl = AclOf(texts);
  EXPECT_EQ(acl->rule_count(), 1000u * 19 + 1);  // "shared/+/x" is one merged rule
  json none = json::object();
  EXPECT_TRUE(acl->Check("app500/data/7/secret", Operation::kRead, none).allowed);
  EXPECT_FALSE(acl->Check("app500/data/7/secret", Operation::kUpdate, none).allowed);
  EXPECT_FALSE(acl->Check("app500/data/10/secret", Operation::kRead, none).allowed);
  EXPECT_TRUE(acl->Check("app999/config/4", Operation::kUpdate, none).allowed);
  EXPECT_FALSE(acl->Check("app999/config/5", Operation::kUpdate, none).allowed);
  EXPECT_TRUE(acl->Check("app0/anything/meta/3", Operation::kList, none).allowed);
  EXPECT_FALSE(acl->Check("app1000/anything/meta/3", Operation::kList, none).allowed);
  EXPECT_EQ(acl->Check("shared/q/x", Operation::kRead, none).capabilities, kRead | kList);  // unioned
  EXPECT_FALSE(acl->Check("elsewhere", Operation::kRead, none).allowed);
}

}  // namespace
}  // namespace coffer::policy
