#include "engines/auth/jwt/claims.h"

#include <gtest/gtest.h>

namespace coffer::jwt {
namespace {

using json = nlohmann::json;
constexpr int64_t kNow = 1700000000;

Status Times(json claims, Leeways l = {}) { return ValidateTimeClaims(claims, kNow, l); }

TEST(TimeClaims, LeewaysFollowVault) {
  EXPECT_EQ(EffectiveLeeway(0, 60), 60);
  EXPECT_EQ(EffectiveLeeway(-1, 60), 0);
  EXPECT_EQ(EffectiveLeeway(5, 60), 5);
  EXPECT_TRUE(Times({{"exp", kNow + 10}}).ok());
  EXPECT_TRUE(Times({{"exp", kNow - 100}}).ok());  // within clock skew (60) + expiration leeway (150)
  EXPECT_EQ(Times({{"exp", kNow - 211}}).message(), "token is expired (exp)");
  EXPECT_EQ(Times({{"exp", kNow - 5}}, {-1, -1, -1}).message(), "token is expired (exp)");
  EXPECT_TRUE(Times({{"exp", kNow - 5}}, {10, -1, -1}).ok());
  EXPECT_EQ(Times({{"exp", kNow + 600}, {"nbf", kNow + 300}}).message(), "token not valid yet (nbf)");
  EXPECT_TRUE(Times({{"exp", kNow + 600}, {"nbf", kNow + 100}}).ok());
  EXPECT_EQ(Times({{"exp", kNow + 600}, {"iat", kNow + 120}}).message(), "token issued in the future (iat)");
  EXPECT_TRUE(Times({{"exp", kNow + 600}, {"iat", kNow + 30}}).ok());
  EXPECT_TRUE(Times({{"exp", 1.7e9 + 5.5}}).ok());
  EXPECT_EQ(Times({{"sub", "x"}}).message(), "no issue time, notbefore, or expiration time encoded in token");
  EXPECT_EQ(Times({{"exp", "tomorrow"}}).message(), "invalid exp claim: not a number");
  // No exp: the token lives expiration_leeway after iat.
  EXPECT_TRUE(Times({{"iat", kNow - 100}}).ok());
  EXPECT_EQ(Times({{"iat", kNow - 300}}).message(), "token is expired (exp)");
  EXPECT_EQ(Times({{"iat", kNow - 300}}, {0, 1000, 0}).code(), StatusCode::kOk);
}

TEST(Audience, StringOrListAndStrictMode) {
  EXPECT_EQ(*AudienceClaim({{"aud", "a"}}), std::vector<std::string>{"a"});
  EXPECT_EQ(*AudienceClaim({{"aud", {"a", "b"}}}), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(AudienceClaim({{"x", 1}})->empty());
  EXPECT_FALSE(AudienceClaim({{"aud", 5}}).ok());
  EXPECT_FALSE(AudienceClaim({{"aud", {"a", 5}}}).ok());
  EXPECT_TRUE(ValidateAudience({"b", "c"}, {"a", "c"}, true).ok());
  EXPECT_EQ(ValidateAudience({"b"}, {"a"}, true).message(), "aud claim does not match any bound audience");
  EXPECT_EQ(ValidateAudience({"b"}, {}, true).message(), "aud claim does not match any bound audience");
  EXPECT_EQ(ValidateAudience({}, {"a"}, true).message(),
            "audience claim found in JWT but no audiences bound to the role");
  EXPECT_TRUE(ValidateAudience({}, {"a"}, false).ok());
}

TEST(GetClaim, NamesAndJsonPointers) {
  json c = {{"a", {{"b", "deep"}, {"x/y", 1}, {"t~n", 2}}}, {"list", {"zero", "one"}}, {"/odd", "top"}, {"n", nullptr}};
  EXPECT_EQ(*GetClaim(c, "/a/b"), "deep");
  EXPECT_EQ(*GetClaim(c, "/a/x~1y"), 1);
  EXPECT_EQ(*GetClaim(c, "/a/t~0n"), 2);
  EXPECT_EQ(*GetClaim(c, "/list/1"), "one");
  EXPECT_EQ(GetClaim(c, "/list/2"), nullptr);
  EXPECT_EQ(GetClaim(c, "/list/01"), nullptr);
  EXPECT_EQ(GetClaim(c, "/list/-"), nullptr);
  EXPECT_EQ(GetClaim(c, "/a/b/c"), nullptr);
  EXPECT_EQ(GetClaim(c, "/a/~2"), nullptr);
  EXPECT_EQ(GetClaim(c, "/missing"), nullptr);
  EXPECT_EQ(GetClaim(c, "n"), nullptr);
  EXPECT_EQ(*GetClaim(c, "a")->find("b"), "deep");
  EXPECT_EQ(GetClaim(c, "a/b"), nullptr);  // not a pointer without the leading '/'
}

TEST(Glob, MatchesLikeGoGlob) {
  struct Case {
    const char* pattern;
    const char* value;
    bool match;
  } cases[] = {{"*", "", true},
               {"*", "anything", true},
               {"abc", "abc", true},
               {"abc", "abd", false},
               {"ab*", "abc", true},
               {"ab*", "xabc", false},
               {"*bc", "abc", true},
               {"*bc", "abcd", false},
               {"a*c", "abbbc", true},
               {"a*c", "ac", true},
               {"a*b*c", "axbyc", true},
               {"a*b*c", "acb", false},
               {"repo:org/*:ref:refs/heads/main", "repo:org/app:ref:refs/heads/main", true},
               {"repo:org/*:ref:refs/heads/main", "repo:other/app:ref:refs/heads/main", false},
               {"aa*aa", "aaa", false}};
  for (const auto& c : cases) EXPECT_EQ(GlobMatch(c.pattern, c.value), c.match) << c.pattern << " " << c.value;
}

TEST(BoundClaims, ExactGlobListsAndPointers) {
  json claims = {{"env", "prod"}, {"groups", {"dev", "ops"}}, {"admin", true}, {"n", 7}, {"org", {{"team", "blue"}}}};
  EXPECT_TRUE(ValidateBoundClaims({{"env", "prod"}}, claims, false).ok());
  EXPECT_TRUE(ValidateBoundClaims({{"env", {"dev", "prod"}}}, claims, false).ok());
  EXPECT_TRUE(ValidateBoundClaims({{"groups", "ops"}}, claims, false).ok());
  EXPECT_TRUE(ValidateBoundClaims({{"admin", true}, {"n", 7}}, claims, false).ok());
  EXPECT_TRUE(ValidateBoundClaims({{"/org/team", "blue"}}, claims, false).ok());
  EXPECT_EQ(ValidateBoundClaims({{"env", "dev"}}, claims, false).message(),
            "claim \"env\" does not match any associated bound claim values");
  EXPECT_EQ(ValidateBoundClaims({{"/org/name", "x"}}, claims, false).message(), "claim \"/org/name\" is missing");
  EXPECT_FALSE(ValidateBoundClaims({{"org", "blue"}}, claims, false).ok());  // an object is not a list
  EXPECT_FALSE(ValidateBoundClaims({{"env", "pr*"}}, claims, false).ok());   // not a glob in string mode
  EXPECT_TRUE(ValidateBoundClaims({{"env", "pr*"}}, claims, true).ok());
  EXPECT_TRUE(ValidateBoundClaims({{"groups", {"x*", "o*"}}}, claims, true).ok());
  EXPECT_FALSE(ValidateBoundClaims({{"groups", "q*"}}, claims, true).ok());
  EXPECT_TRUE(CheckBoundClaimsShape({{"a", "x"}, {"b", {"y", true, 3}}}, false).ok());
  EXPECT_FALSE(CheckBoundClaimsShape({{"a", {{"x", 1}}}}, false).ok());
  EXPECT_FALSE(CheckBoundClaimsShape({{"a", true}}, true).ok());
  EXPECT_FALSE(CheckBoundClaimsShape(json::array(), false).ok());
}

TEST(Identity, MetadataUserAndGroups) {
  json claims = {{"email", "a@example.com"},     {"org", {{"team", "blue"}}}, {"n", 1},
                 {"groups", {"dev", "", "ops"}}, {"single", "admins"},        {"bad_groups", {"x", 3}},
                 {"profile", {{"login", "al"}}}};
  auto md = ExtractMetadata(claims, {{"email", "mail"}, {"/org/team", "team"}, {"absent", "x"}});
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(*md, (std::map<std::string, std::string>{{"mail", "a@example.com"}, {"team", "blue"}}));
  EXPECT_EQ(ExtractMetadata(claims, {{"n", "num"}}).status().message(), "error converting claim 'n' to string");
  EXPECT_EQ(*UserClaimValue(claims, "email", false), "a@example.com");
  EXPECT_EQ(*UserClaimValue(claims, "/profile/login", true), "al");
  EXPECT_FALSE(UserClaimValue(claims, "/profile/login", false).ok());  // plain name lookup
  EXPECT_EQ(UserClaimValue(claims, "n", false).status().message(), "claim \"n\" could not be converted to string");
  EXPECT_EQ(UserClaimValue(claims, "sub", false).status().message(), "claim \"sub\" not found in token");
  EXPECT_EQ(*GroupsClaimValues(claims, "groups"), (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(*GroupsClaimValues(claims, "single"), std::vector<std::string>{"admins"});
  EXPECT_FALSE(GroupsClaimValues(claims, "bad_groups").ok());
  EXPECT_FALSE(GroupsClaimValues(claims, "org").ok());
  EXPECT_FALSE(GroupsClaimValues(claims, "missing").ok());
}

}  // namespace
}  // namespace coffer::jwt
