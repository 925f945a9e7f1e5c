#include "engines/auth/jwt/backend.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <functional>

#include "engines/auth/jwt/jose.h"
#include "engines/auth/jwt/test_keys.h"
#include "logical/inmem_storage.h"

namespace coffer::jwt {
namespace {

using json = nlohmann::json;
using logical::Operation;
using testing::SignToken;
using testing::TestKey;
using testing::TestKeyKind;

constexpr int64_t kNow = 1700000000;
const char kIssuer[] = "https://issuer.example";

const TestKey& Rsa() { return TestKey::Get(TestKeyKind::kRsa2048); }
const TestKey& P256() { return TestKey::Get(TestKeyKind::kP256); }
const TestKey& P384() { return TestKey::Get(TestKeyKind::kP384); }
const TestKey& Ed() { return TestKey::Get(TestKeyKind::kEd25519); }

json BaseClaims() {
  return {{"iss", kIssuer}, {"sub", "alice"}, {"aud", "coffer"}, {"iat", kNow - 10}, {"exp", kNow + 300}};
}
json With(json base, const json& patch) {
  base.merge_patch(patch);
  return base;
}

class Harness {
 public:
  explicit Harness(JwtBackendOptions options = {}) {
    if (!options.now) options.now = [] { return kNow; };
    logical::BackendConfig config;
    config.storage = &storage_;
    config.mount_path = "auth/jwt/";
    config.mount_accessor = "auth_jwt_test";
    backend_ = std::move(*NewJwtBackendWithOptions(config, std::move(options)));
  }

  StatusOr<logical::Response> Call(Operation op, const std::string& path, json data = json::object(),
                                   const std::string& remote = "127.0.0.1") {
    logical::Request req;
    req.operation = op;
    req.path = "auth/jwt/" + path;
    req.mount_point = "auth/jwt/";
    req.mount_type = "jwt";
    req.storage = &storage_;
    req.remote_address = remote;
    req.data = std::move(data);
    return backend_->HandleRequest(req);
  }
  Status Write(const std::string& path, json data) { return Call(Operation::kUpdate, path, std::move(data)).status(); }
  StatusOr<logical::Response> Login(const std::string& role, const std::string& token) {
    return Call(Operation::kUpdate, "login", {{"role", role}, {"jwt", token}});
  }

  logical::InmemStorage storage_;
  std::unique_ptr<logical::Backend> backend_;
};

std::string Hs256WithRsaPem(const json& claims) {
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(claims.dump());
  const std::string& secret = Rsa().public_pem();
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

std::string Tamper(const std::string& token, int part, const std::string& replacement) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::string parts[3] = {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
  parts[part] = replacement;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

struct Case {
  std::string name;
  std::function<std::string()> token;
  json role = json::object();  // merged into the base role
  std::string error;           // "" = the login succeeds; else a substring of the 400's message
  bool jwks = false;           // log in on the JWKS-configured mount instead of the PEM one
  std::function<void(const logical::Auth&)> check = nullptr;

  Case(std::string n, std::function<std::string()> t, json r = json::object(), std::string e = "", bool j = false,
       std::function<void(const logical::Auth&)> c = nullptr)
      : name(std::move(n)),
        token(std::move(t)),
        role(std::move(r)),
        error(std::move(e)),
        jwks(j),
        check(std::move(c)) {}
};

std::vector<Case> Cases() {
  auto sign = [](const TestKey& k, std::string alg, json claims = BaseClaims(), std::string kid = "") {
    return [&k, alg, claims, kid] { return SignToken(k, alg, claims, kid); };
  };
  auto valid = sign(Rsa(), "RS256");
  return {
      {"valid RS256", valid},
      {"valid RS384", sign(Rsa(), "RS384")},
      {"valid RS512", sign(Rsa(), "RS512")},
      {"valid ES256", sign(P256(), "ES256")},
      {"valid ES384", sign(P384(), "ES384")},
      {"valid EdDSA", sign(Ed(), "EdDSA")},
      {"tampered signature",
       [] {
         std::string t = SignToken(Rsa(), "RS256", BaseClaims());
         t[t.size() - 5] = t[t.size() - 5] == 'A' ? 'B' : 'A';
         return t;
       },
       {},
       "no known key successfully validated the token signature"},
      {"tampered payload",
       [] {
         return Tamper(SignToken(Rsa(), "RS256", BaseClaims()), 1,
                       Base64UrlEncode(With(BaseClaims(), {{"sub", "root"}}).dump()));
       },
       {},
       "error verifying token"},
      {"tampered header",
       [] {
         return Tamper(SignToken(Rsa(), "RS256", BaseClaims()), 0, Base64UrlEncode(R"({"alg":"RS256","kid":"x"})"));
       },
       {},
       "error verifying token"},
      {"wrong issuer",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"iss", "https://evil.example"}})),
       {},
       "invalid issuer claim (iss)"},
      {"missing issuer",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"iss", nullptr}})),
       {},
       "invalid issuer claim (iss)"},
      {"expired",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"exp", kNow - 1000}, {"iat", kNow - 2000}})),
       {},
       "token is expired (exp)"},
      {"expired within leeway", sign(Rsa(), "RS256", With(BaseClaims(), {{"exp", kNow - 100}, {"iat", kNow - 500}}))},
      {"expired, leeways disabled",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"exp", kNow - 5}, {"iat", kNow - 500}})),
       {{"clock_skew_leeway", -1}, {"expiration_leeway", -1}},
       "token is expired (exp)"},
      {"nbf in the future",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"nbf", kNow + 1000}, {"exp", kNow + 2000}})),
       {},
       "token not valid yet (nbf)"},
      {"nbf within leeway", sign(Rsa(), "RS256", With(BaseClaims(), {{"nbf", kNow + 100}}))},
      {"iat in the future",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"iat", kNow + 1000}, {"exp", kNow + 2000}})),
       {},
       "token issued in the future (iat)"},
      {"no time claims",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"iat", nullptr}, {"exp", nullptr}})),
       {},
       "no issue time, notbefore, or expiration time"},
      {"wrong audience",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"aud", "other"}})),
       {},
       "aud claim does not match any bound audience"},
      {"missing aud when bound",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"aud", nullptr}})),
       {},
       "aud claim does not match any bound audience"},
      {"aud list with a match", sign(Rsa(), "RS256", With(BaseClaims(), {{"aud", {"x", "coffer"}}}))},
      {"aud but no bound audiences",
       valid,
       {{"bound_audiences", json::array()}, {"bound_subject", "alice"}},
       "audience claim found in JWT but no audiences bound to the role"},
      {"bound subject mismatch", valid, {{"bound_subject", "bob"}}, "invalid subject claim (sub)"},
      {"alg none",
       [] { return Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(BaseClaims().dump()) + "."; },
       {},
       "unsupported signing algorithm \"none\""},
      {"HS256 keyed with the RSA public key",
       [] { return Hs256WithRsaPem(BaseClaims()); },
       {},
       "unsupported signing algorithm \"HS256\""},
      {"alg/key mismatch", sign(Rsa(), "ES256"), {}, "no known key successfully validated"},
      {"unsupported alg PS256",
       [] { return Tamper(SignToken(Rsa(), "RS256", BaseClaims()), 0, Base64UrlEncode(R"({"alg":"PS256"})")); },
       {},
       "unsupported signing algorithm \"PS256\""},
      {"alg not in jwt_supported_algs",
       sign(Rsa(), "RS512", BaseClaims(), "rsa"),
       {},
       "\"RS512\" is not in jwt_supported_algs",
       true},
      {"JWKS kid selects the key", sign(P256(), "ES256", BaseClaims(), "ec")},
      {"JWKS kid selects the key (jwks)", sign(P256(), "ES256", BaseClaims(), "ec"), {}, "", true},
      {"kid not in JWKS", sign(Rsa(), "RS256", BaseClaims(), "rotated-away"), {}, "no key with the token's kid", true},
      {"malformed base64", [] { return std::string("eyJhbGciOiJSUzI1NiJ9=.e30.c2ln"); }, {}, "error parsing token"},
      {"malformed JSON",
       [] { return Base64UrlEncode(R"({"alg":"RS256"})") + "." + Base64UrlEncode("{\"sub\":") + ".c2ln"; },
       {},
       "payload: not a JSON object"},
      {"two parts",
       [] { return Base64UrlEncode(R"({"alg":"RS256"})") + "." + Base64UrlEncode("{}"); },
       {},
       "expected 3 dot-separated parts"},
      {"bound claim match",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"env", "prod"}})),
       {{"bound_claims", {{"env", {"dev", "prod"}}}}}},
      {"bound claim mismatch",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"env", "dev"}})),
       {{"bound_claims", {{"env", "prod"}}}},
       "claim \"env\" does not match any associated bound claim values"},
      {"bound claim missing", valid, {{"bound_claims", {{"env", "prod"}}}}, "claim \"env\" is missing"},
      {"glob match",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"repo", "org/app:ref:refs/heads/main"}})),
       {{"bound_claims_type", "glob"}, {"bound_claims", {{"repo", "org/*:ref:refs/heads/*"}}}}},
      {"glob mismatch",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"repo", "evil/app:ref:refs/heads/main"}})),
       {{"bound_claims_type", "glob"}, {"bound_claims", {{"repo", "org/*:ref:refs/heads/*"}}}},
       "claim \"repo\" does not match"},
      {"string mode does not glob",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"repo", "org/app"}})),
       {{"bound_claims", {{"repo", "org/*"}}}},
       "claim \"repo\" does not match"},
      {"JSON pointer bound claim",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"ctx", {{"team", {{"name", "blue"}}}}}})),
       {{"bound_claims", {{"/ctx/team/name", "blue"}}}}},
      {"JSON pointer user claim",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"profile", {{"login", "al"}}}})),
       {{"user_claim", "/profile/login"}, {"user_claim_json_pointer", true}},
       "",
       false,
       [](const logical::Auth& a) {
         EXPECT_EQ(a.alias.name, "al");
         EXPECT_EQ(a.display_name, "al");
       }},
      {"user claim missing", valid, {{"user_claim", "email"}}, "claim \"email\" not found in token"},
      {"user claim not a string",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"uid", 42}})),
       {{"user_claim", "uid"}},
       "could not be converted to string"},
      {"claim_mappings output",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"email", "a@example.com"}, {"org", {{"team", "blue"}}}})),
       {{"claim_mappings", {{"email", "mail"}, {"/org/team", "team"}, {"absent", "gone"}}}},
       "",
       false,
       [](const logical::Auth& a) {
         EXPECT_EQ(a.alias.metadata, (std::map<std::string, std::string>{{"mail", "a@example.com"}, {"team", "blue"}}));
         EXPECT_EQ(a.metadata,
                   (std::map<std::string, std::string>{{"mail", "a@example.com"}, {"team", "blue"}, {"role", "r"}}));
       }},
      {"groups claim list",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"groups", {"dev", "", "ops"}}})),
       {{"groups_claim", "groups"}},
       "",
       false,
       [](const logical::Auth& a) {
         ASSERT_EQ(a.group_aliases.size(), 2u);
         EXPECT_EQ(a.group_aliases[0].name, "dev");
         EXPECT_EQ(a.group_aliases[1].name, "ops");
       }},
      {"groups claim string",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"groups", "admins"}})),
       {{"groups_claim", "groups"}},
       "",
       false,
       [](const logical::Auth& a) {
         ASSERT_EQ(a.group_aliases.size(), 1u);
         EXPECT_EQ(a.group_aliases[0].name, "admins");
       }},
      {"groups claim of numbers",
       sign(Rsa(), "RS256", With(BaseClaims(), {{"groups", {1, 2}}})),
       {{"groups_claim", "groups"}},
       "could not be parsed as string"},
      {"groups claim missing", valid, {{"groups_claim", "groups"}}, "claim not found in token"},
  };
}

class JwtLoginTable : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        pem_.Write("config", {{"jwt_validation_pubkeys",
                               {Rsa().public_pem(), P256().certificate_pem(), P384().public_pem(), Ed().public_pem()}},
                              {"jwt_supported_algs", SupportedAlgNames()},
                              {"bound_issuer", kIssuer}})
            .ok());
    json jwks = {{"keys", {Rsa().Jwk("rsa"), P256().Jwk("ec", "ES256"), Ed().Jwk("ed")}}};
    ASSERT_TRUE(jwks_
                    .Write("config", {{"jwks_json", jwks.dump()},
                                      {"jwt_supported_algs", {"RS256", "ES256", "EdDSA"}},
                                      {"bound_issuer", kIssuer}})
                    .ok());
  }
  Harness pem_, jwks_;
};

TEST_F(JwtLoginTable, EveryCase) {
  auto cases = Cases();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Harness& h = c.jwks ? jwks_ : pem_;
    json role = {
        {"role_type", "jwt"}, {"user_claim", "sub"}, {"bound_audiences", {"coffer"}}, {"token_policies", {"dev"}}};
    if (c.role.is_object()) role.merge_patch(c.role);
    ASSERT_TRUE(h.Write("role/r", role).ok());
    std::string token = c.token();
    auto r = h.Login("r", token);
    if (c.error.empty()) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_TRUE(r->login.has_value());
      const logical::Auth& auth = *r->login;
      EXPECT_EQ(auth.policies, std::vector<std::string>{"dev"});
      EXPECT_EQ(auth.metadata.at("role"), "r");
      EXPECT_FALSE(auth.alias.name.empty());
      if (c.check) {
        c.check(auth);
      } else {
        EXPECT_EQ(auth.alias.name, "alice");
        EXPECT_EQ(auth.display_name, "alice");
      }
    } else {
      ASSERT_FALSE(r.ok()) << "expected: " << c.error;
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
      EXPECT_EQ(r.status().message().find(token), std::string::npos);
      if (token.size() > 20) {
        EXPECT_EQ(r.status().message().find(token.substr(token.size() - 20)), std::string::npos);
      }
    }
    ASSERT_TRUE(h.Call(Operation::kDelete, "role/r").ok());
  }
}

TEST(JwtConfig, ValidatesAndReadsBack) {
  Harness h;
  EXPECT_EQ(h.Call(Operation::kRead, "config").status().code(), StatusCode::kNotFound);
  auto none = h.Write("config", {{"bound_issuer", "x"}});
  EXPECT_NE(none.message().find("exactly one of"), std::string::npos);
  EXPECT_NE(h.Write("config", {{"jwt_validation_pubkeys", {Rsa().public_pem()}}, {"jwks_json", R"({"keys":[]})"}})
                .message()
                .find("exactly one of"),
            std::string::npos);
  EXPECT_NE(h.Write("config", {{"jwt_validation_pubkeys", {"garbage"}}}).message().find("error parsing public key"),
            std::string::npos);
  EXPECT_NE(h.Write("config", {{"jwt_validation_pubkeys", {Rsa().public_pem()}}, {"jwt_supported_algs", {"HS256"}}})
                .message()
                .find("invalid jwt_supported_algs"),
            std::string::npos);
  EXPECT_NE(h.Write("config", {{"jwks_json", "{not json"}}).message().find("jwks_json"), std::string::npos);
  EXPECT_NE(h.Write("config", {{"oidc_discovery_url", "https://accounts.example"}}).message().find("not supported"),
            std::string::npos);
  EXPECT_EQ(h.Write("config", {{"jwt_validation_pubkeys", {"garbage"}}}).code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(
      h.Write("config",
              {{"jwt_validation_pubkeys", {Rsa().public_pem()}}, {"bound_issuer", "iss"}, {"default_role", "Dev"}})
          .ok());
  auto read = h.Call(Operation::kRead, "config");
  ASSERT_TRUE(read.ok());
  json d = read->DataJson();
  EXPECT_EQ(d["jwt_validation_pubkeys"], json::array({Rsa().public_pem()}));
  EXPECT_EQ(d["bound_issuer"], "iss");
  EXPECT_EQ(d["default_role"], "dev");
  EXPECT_EQ(d["jwks_url"], "");
  EXPECT_EQ(d["jwt_supported_algs"], json::array());
  EXPECT_TRUE(d["jwks_json"].is_null());
}

TEST(JwtRoles, CrudListAndValidation) {
  Harness h;
  EXPECT_EQ(h.Call(Operation::kList, "role/").status().code(), StatusCode::kNotFound);
  EXPECT_NE(h.Write("role/a", {{"role_type", "oidc"}, {"user_claim", "sub"}, {"bound_subject", "x"}})
                .message()
                .find("\"oidc\""),
            std::string::npos);
  EXPECT_EQ(h.Write("role/a", {{"role_type", "oidc"}, {"user_claim", "sub"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.Write("role/a", {{"bound_subject", "x"}}).message(), "a user claim must be defined on the role");
  EXPECT_EQ(h.Write("role/a", {{"user_claim", "sub"}}).message(),
            "must have at least one bound constraint when creating/updating a role");
  EXPECT_NE(h.Write("role/a", {{"user_claim", "sub"}, {"bound_subject", "x"}, {"bound_claims_type", "regex"}})
                .message()
                .find("bound_claims_type"),
            std::string::npos);
  EXPECT_NE(h.Write("role/a", {{"user_claim", "sub"}, {"bound_claims_type", "glob"}, {"bound_claims", {{"a", true}}}})
                .message()
                .find("bound_claims"),
            std::string::npos);
  EXPECT_NE(h.Write("role/a", {{"user_claim", "sub"}, {"bound_subject", "x"}, {"claim_mappings", {{"a", "role"}}}})
                .message()
                .find("reserved"),
            std::string::npos);
  EXPECT_NE(
      h.Write("role/a", {{"user_claim", "sub"}, {"bound_subject", "x"}, {"claim_mappings", {{"a", "k"}, {"b", "k"}}}})
          .message()
          .find("multiple keys"),
      std::string::npos);
  EXPECT_NE(h.Write("role/bad%name", {{"user_claim", "sub"}, {"bound_subject", "x"}}).message().find("role name"),
            std::string::npos);

  // Vault's deprecated names (hvac still sends some) map onto token_*.
  ASSERT_TRUE(h.Write("role/Dev", {{"user_claim", "email"},
                                   {"bound_audiences", "a,b"},
                                   {"policies", "p1,P2"},
                                   {"ttl", "1h"},
                                   {"clock_skew_leeway", -1},
                                   {"verbose_oidc_logging", false}})
                  .ok());
  auto read = h.Call(Operation::kRead, "role/dev");
  ASSERT_TRUE(read.ok()) << read.status().message();
  json d = read->DataJson();
  EXPECT_EQ(d["role_type"], "jwt");
  EXPECT_EQ(d["bound_audiences"], json::array({"a", "b"}));
  EXPECT_EQ(d["token_policies"], json::array({"p1", "p2"}));
  EXPECT_EQ(d["token_ttl"], 3600);
  EXPECT_EQ(d["clock_skew_leeway"], -1);
  EXPECT_EQ(d["expiration_leeway"], 0);
  EXPECT_EQ(d["bound_claims_type"], "string");
  EXPECT_EQ(d["user_claim"], "email");
  // An update keeps what it does not mention.
  ASSERT_TRUE(h.Write("role/dev", {{"bound_subject", "s"}}).ok());
  EXPECT_EQ(h.Call(Operation::kRead, "role/dev")->DataJson()["bound_audiences"], json::array({"a", "b"}));
  ASSERT_TRUE(h.Write("role/ops", {{"user_claim", "sub"}, {"bound_subject", "x"}}).ok());
  auto list = h.Call(Operation::kList, "role/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->DataJson()["keys"], json::array({"dev", "ops"}));
  ASSERT_TRUE(h.Call(Operation::kDelete, "role/dev").ok());
  EXPECT_EQ(h.Call(Operation::kRead, "role/dev").status().code(), StatusCode::kNotFound);
}

TEST(JwtLogin, DefaultRoleCidrsAndMissingInputs) {
  Harness h;
  EXPECT_EQ(h.Login("r", "x").status().message(), "could not load configuration");
  ASSERT_TRUE(h.Write("config", {{"jwt_validation_pubkeys", {Rsa().public_pem()}}, {"default_role", "r"}}).ok());
  EXPECT_EQ(h.Login("nope", "x").status().message(), "role \"nope\" could not be found");
  ASSERT_TRUE(
      h.Write("role/r", {{"user_claim", "sub"}, {"bound_audiences", "coffer"}, {"token_bound_cidrs", "10.0.0.0/8"}})
          .ok());
  std::string token = SignToken(Rsa(), "RS256", BaseClaims());
  EXPECT_EQ(h.Login("r", "").status().message(), "missing token");
  // No role in the request: the default role; the CIDR binding is enforced (403).
  auto denied = h.Call(Operation::kUpdate, "login", {{"jwt", token}}, "192.168.1.1");
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  auto ok = h.Call(Operation::kUpdate, "login", {{"jwt", token}}, "10.1.2.3");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->login->metadata.at("role"), "r");
  EXPECT_EQ(ok->login->bound_cidrs, std::vector<std::string>{"10.0.0.0/8"});
}

TEST(JwtLogin, JwksUrlIsCachedAndRefetchedForAnUnknownKid) {
  int fetches = 0;
  json served = {{"keys", {Rsa().Jwk("k1")}}};
  long status = 200;
  JwtBackendOptions options;
  options.http = [&](const net::HttpCall& call) -> StatusOr<net::HttpReply> {
    EXPECT_EQ(call.method, "GET");
    EXPECT_EQ(call.url, "https://idp.example/jwks");
    EXPECT_EQ(call.ca_pem, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
    ++fetches;
    return net::HttpReply{status, served.dump()};
  };
  Harness h(options);
  status = 500;
  EXPECT_NE(h.Write("config", {{"jwks_url", "https://idp.example/jwks"},
                               {"jwks_ca_pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"}})
                .message()
                .find("error checking jwks URL"),
            std::string::npos);
  status = 200;
  ASSERT_TRUE(h.Write("config", {{"jwks_url", "https://idp.example/jwks"},
                                 {"jwks_ca_pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"}})
                  .ok());
  ASSERT_TRUE(h.Write("role/r", {{"user_claim", "sub"}, {"bound_audiences", "coffer"}}).ok());
  fetches = 0;
  ASSERT_TRUE(h.Login("r", SignToken(Rsa(), "RS256", BaseClaims(), "k1")).ok());
  ASSERT_TRUE(h.Login("r", SignToken(Rsa(), "RS256", BaseClaims(), "k1")).ok());
  EXPECT_EQ(fetches, 1);  // cached
  // The issuer adds a new key with a new kid: one refetch, then success.
  auto rotated = TestKey::Fresh(TestKeyKind::kRsa2048);
  served = {{"keys", {Rsa().Jwk("k1"), rotated->Jwk("k2")}}};
  ASSERT_TRUE(h.Login("r", SignToken(*rotated, "RS256", BaseClaims(), "k2")).ok());
  EXPECT_EQ(fetches, 2);
  // A kid nobody has: refetched once more, then refused.
  auto r = h.Login("r", SignToken(*rotated, "RS256", BaseClaims(), "k3"));
  EXPECT_EQ(fetches, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no key with the token's kid"), std::string::npos);
  // Fetch failures are reported as such.
  status = 503;
  r = h.Login("r", SignToken(*rotated, "RS256", BaseClaims(), "k4"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("error fetching jwks keyset"), std::string::npos);
}

}  // namespace
}  // namespace coffer::jwt
