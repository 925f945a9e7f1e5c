#include "engines/auth/kubernetes/backend.h"

#include <gtest/gtest.h>

#include "engines/auth/jwt/jose.h"
#include "engines/auth/jwt/test_keys.h"
#include "logical/inmem_storage.h"

namespace coffer::kubernetes {
namespace {

using json = nlohmann::json;
using jwt::testing::SignToken;
using jwt::testing::TestKey;
using jwt::testing::TestKeyKind;
using logical::Operation;

constexpr int64_t kNow = 1700000000;
const char kCa[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const char kReviewer[] = "reviewer-jwt-value";

json LegacyClaims(const std::string& ns = "apps", const std::string& name = "web", const std::string& uid = "uid-1") {
  return {{"iss", "kubernetes/serviceaccount"},
          {"kubernetes.io/serviceaccount/namespace", ns},
          {"kubernetes.io/serviceaccount/secret.name", name + "-token-x"},
          {"kubernetes.io/serviceaccount/service-account.name", name},
          {"kubernetes.io/serviceaccount/service-account.uid", uid},
          {"sub", "system:serviceaccount:" + ns + ":" + name}};
}

json ProjectedClaims(const std::string& ns = "apps", const std::string& name = "web",
                     const std::string& uid = "uid-1") {
  return {{"iss", "https://kubernetes.default.svc.cluster.local"},
          {"aud", {"vault"}},
          {"iat", kNow - 10},
          {"exp", kNow + 600},
          {"kubernetes.io",
           {{"namespace", ns},
            {"serviceaccount", {{"name", name}, {"uid", uid}}},
            {"pod", {{"name", "p"}, {"uid", "pu"}}}}},
          {"sub", "system:serviceaccount:" + ns + ":" + name}};
}

class Harness {
 public:
  Harness() {
    KubernetesBackendOptions options;
    options.now = [] { return kNow; };
    options.local_ca_path = "/nonexistent/ca.crt";
    options.local_jwt_path = "/nonexistent/token";
    options.http = [this](const net::HttpCall& call) -> StatusOr<net::HttpReply> {
      calls.push_back(call);
      if (!reply.ok()) return reply.status();
      return *reply;
    };
    logical::BackendConfig config;
    config.storage = &storage_;
    config.mount_path = "auth/kubernetes/";
    backend_ = std::move(*NewKubernetesBackendWithOptions(config, std::move(options)));
  }

  StatusOr<logical::Response> Call(Operation op, const std::string& path, json data = json::object(),
                                   const std::string& remote = "127.0.0.1") {
    logical::Request req;
    req.operation = op;
    req.path = "auth/kubernetes/" + path;
    req.mount_point = "auth/kubernetes/";
    req.storage = &storage_;
    req.remote_address = remote;
    req.data = std::move(data);
    return backend_->HandleRequest(req);
  }
  Status Write(const std::string& path, json data) { return Call(Operation::kUpdate, path, std::move(data)).status(); }
  StatusOr<logical::Response> Login(const std::string& role, const std::string& token) {
    return Call(Operation::kUpdate, "login", {{"role", role}, {"jwt", token}});
  }
  void Reviewed(bool authenticated, const std::string& username, const std::string& uid, long status = 201) {
    json body = {{"kind", "TokenReview"},
                 {"apiVersion", "authentication.k8s.io/v1"},
                 {"metadata", {{"creationTimestamp", nullptr}}},
                 {"spec", {{"token", "elided"}}},
                 {"status",
                  {{"authenticated", authenticated},
                   {"user", {{"username", username}, {"uid", uid}, {"groups", {"system:serviceaccounts"}}}}}}};
    reply = net::HttpReply{status, body.dump()};
  }

  std::vector<net::HttpCall> calls;
  StatusOr<net::HttpReply> reply = net::HttpReply{500, ""};
  logical::InmemStorage storage_;
  std::unique_ptr<logical::Backend> backend_;
};

const TestKey& Rsa() { return TestKey::Get(TestKeyKind::kRsa2048); }
const TestKey& Ec() { return TestKey::Get(TestKeyKind::kP256); }

TEST(KubernetesConfig, ValidatesAndHidesTheReviewerJwt) {
  Harness h;
  EXPECT_EQ(h.Call(Operation::kRead, "config").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Write("config", {{"kubernetes_ca_cert", kCa}}).message(), "no host provided");
  EXPECT_EQ(h.Write("config", {{"kubernetes_host", "https://k8s"}, {"kubernetes_ca_cert", "junk"}}).message(),
            "The provided CA PEM data contains no valid certificates");
  EXPECT_NE(h.Write("config", {{"kubernetes_host", "https://k8s"}, {"pem_keys", {"junk"}}}).message().find("pem_keys"),
            std::string::npos);
  ASSERT_TRUE(h.Write("config", {{"kubernetes_host", "https://k8s:6443"},
                                 {"kubernetes_ca_cert", kCa},
                                 {"token_reviewer_jwt", kReviewer},
                                 {"pem_keys", {Rsa().public_pem(), Ec().certificate_pem()}}})
                  .ok());
  auto read = h.Call(Operation::kRead, "config");
  ASSERT_TRUE(read.ok());
  json d = read->DataJson();
  EXPECT_EQ(d["kubernetes_host"], "https://k8s:6443");
  EXPECT_EQ(d["kubernetes_ca_cert"], kCa);
  EXPECT_EQ(d["pem_keys"].size(), 2u);
  EXPECT_EQ(d["token_reviewer_jwt_set"], true);
  EXPECT_EQ(d["disable_iss_validation"], true);
  EXPECT_EQ(d["disable_local_ca_jwt"], false);
  EXPECT_FALSE(d.contains("token_reviewer_jwt"));
  EXPECT_EQ(d.dump().find(kReviewer), std::string::npos);
}

TEST(KubernetesRoles, CrudAndValidation) {
  Harness h;
  EXPECT_EQ(h.Write("role/r", {{"bound_service_account_namespaces", "a"}}).message(),
            "\"bound_service_account_names\" can not be empty");
  EXPECT_EQ(h.Write("role/r", {{"bound_service_account_names", "a"}}).message(),
            "\"bound_service_account_namespaces\" can not be empty");
  EXPECT_EQ(h.Write("role/r", {{"bound_service_account_names", {"*", "a"}}, {"bound_service_account_namespaces", "x"}})
                .message(),
            "can not mix \"*\" with values");
  EXPECT_NE(h.Write("role/r", {{"bound_service_account_names", "a"},
                               {"bound_service_account_namespaces", "x"},
                               {"alias_name_source", "pod_name"}})
                .message()
                .find("invalid alias_name_source"),
            std::string::npos);
  // hvac sends the deprecated names (policies, ttl).
  ASSERT_TRUE(h.Write("role/Web", {{"bound_service_account_names", {"web"}},
                                   {"bound_service_account_namespaces", "apps,ops-*"},
                                   {"policies", {"web-read"}},
                                   {"ttl", 600},
                                   {"audience", "vault"}})
                  .ok());
  auto read = h.Call(Operation::kRead, "role/web");
  ASSERT_TRUE(read.ok());
  json d = read->DataJson();
  EXPECT_EQ(d["bound_service_account_names"], json::array({"web"}));
  EXPECT_EQ(d["bound_service_account_namespaces"], json::array({"apps", "ops-*"}));
  EXPECT_EQ(d["token_policies"], json::array({"web-read"}));
  EXPECT_EQ(d["token_ttl"], 600);
  EXPECT_EQ(d["audience"], "vault");
  EXPECT_EQ(d["alias_name_source"], "serviceaccount_uid");
  EXPECT_EQ(h.Call(Operation::kList, "role")->DataJson()["keys"], json::array({"web"}));
  ASSERT_TRUE(h.Call(Operation::kDelete, "role/web").ok());
  EXPECT_EQ(h.Call(Operation::kRead, "role/web").status().code(), StatusCode::kNotFound);
}

class KubernetesLogin : public ::testing::Test {
 protected:
  void Configure(json extra = json::object()) {
    json config = {{"kubernetes_host", "https://k8s.example:6443/"}, {"kubernetes_ca_cert", kCa}};
    config.merge_patch(extra);
    ASSERT_TRUE(h.Write("config", config).ok());
    ASSERT_TRUE(h.Write("role/web", {{"bound_service_account_names", {"web", "batch-*"}},
                                     {"bound_service_account_namespaces", {"apps", "*-prod"}},
                                     {"token_policies", {"web-read"}}})
                    .ok());
  }
  Harness h;
};

TEST_F(KubernetesLogin, LocalValidationWithPemKeys) {
  Configure({{"pem_keys", {Rsa().public_pem(), Ec().public_pem()}}});
  auto r = h.Login("web", SignToken(Rsa(), "RS256", LegacyClaims()));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(h.calls.empty());  // no reviewer configured and keys present: no TokenReview
  const auto& auth = *r->login;
  EXPECT_EQ(auth.alias.name, "uid-1");
  EXPECT_EQ(auth.display_name, "apps-web");
  EXPECT_EQ(auth.policies, std::vector<std::string>{"web-read"});
  EXPECT_EQ(auth.metadata, (std::map<std::string, std::string>{{"role", "web"},
                                                               {"service_account_name", "web"},
                                                               {"service_account_namespace", "apps"},
                                                               {"service_account_uid", "uid-1"},
                                                               {"service_account_secret_name", "web-token-x"}}));
  // Projected token, ES256, glob namespace and name.
  r = h.Login("web", SignToken(Ec(), "ES256", ProjectedClaims("team-prod", "batch-7", "uid-9")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->login->alias.name, "uid-9");
  EXPECT_EQ(r->login->metadata.at("service_account_secret_name"), "");

  struct Bad {
    std::string token;
    StatusCode code;
    std::string message;
  } bad[] = {
      {SignToken(Rsa(), "RS256", LegacyClaims("apps", "db")), StatusCode::kPermissionDenied,
       "service account name not authorized"},
      {SignToken(Rsa(), "RS256", LegacyClaims("kube-system", "web")), StatusCode::kPermissionDenied,
       "namespace not authorized"},
      {SignToken(*TestKey::Fresh(TestKeyKind::kP256), "ES256", LegacyClaims()), StatusCode::kPermissionDenied,
       "permission denied"},
      {SignToken(TestKey::Get(TestKeyKind::kEd25519), "EdDSA", LegacyClaims()), StatusCode::kPermissionDenied,
       "unsupported signing algorithm"},
      {SignToken(Rsa(), "RS256",
                 [] {
                   json c = ProjectedClaims();
                   c["exp"] = kNow - 500;
                   return c;
                 }()),
       StatusCode::kPermissionDenied, "token is expired (exp)"},
      {SignToken(Rsa(), "RS256",
                 [] {
                   json c = LegacyClaims();
                   c.erase("kubernetes.io/serviceaccount/service-account.uid");
                   return c;
                 }()),
       StatusCode::kPermissionDenied, "could not parse UID from claims"},
      {"not.a.jwt", StatusCode::kPermissionDenied, "malformed JWT"},
  };
  for (const auto& b : bad) {
    auto res = h.Login("web", b.token);
    ASSERT_FALSE(res.ok()) << b.message;
    EXPECT_EQ(res.status().code(), b.code) << b.message;
    EXPECT_NE(res.status().message().find(b.message), std::string::npos) << res.status().message();
  }
  EXPECT_EQ(h.Login("nope", "x").status().message(), "invalid role name \"nope\"");
  EXPECT_EQ(h.Login("web", "").status().message(), "missing jwt");
}

TEST_F(KubernetesLogin, IssuerAndAudienceBindings) {
  Configure({{"pem_keys", {Rsa().public_pem()}}, {"disable_iss_validation", false}});
  EXPECT_TRUE(h.Login("web", SignToken(Rsa(), "RS256", LegacyClaims())).ok());
  EXPECT_EQ(h.Login("web", SignToken(Rsa(), "RS256", ProjectedClaims())).status().message(),
            "invalid issuer (iss) claim");
  ASSERT_TRUE(h.Write("config", {{"kubernetes_host", "https://k8s"},
                                 {"pem_keys", {Rsa().public_pem()}},
                                 {"disable_iss_validation", false},
                                 {"issuer", "https://kubernetes.default.svc.cluster.local"}})
                  .ok());
  EXPECT_TRUE(h.Login("web", SignToken(Rsa(), "RS256", ProjectedClaims())).ok());
  ASSERT_TRUE(h.Write("role/web", {{"audience", "other"}}).ok());
  EXPECT_NE(h.Login("web", SignToken(Rsa(), "RS256", ProjectedClaims())).status().message().find("invalid audience"),
            std::string::npos);
  ASSERT_TRUE(h.Write("role/web", {{"audience", "vault"}}).ok());
  EXPECT_TRUE(h.Login("web", SignToken(Rsa(), "RS256", ProjectedClaims())).ok());
}

TEST_F(KubernetesLogin, TokenReviewWithReviewerJwt) {
  Configure({{"pem_keys", {Rsa().public_pem()}}, {"token_reviewer_jwt", kReviewer}});
  h.Reviewed(true, "system:serviceaccount:apps:web", "uid-1");
  std::string token = SignToken(Rsa(), "RS256", ProjectedClaims());
  auto r = h.Login("web", token);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(h.calls.size(), 1u);
  const auto& call = h.calls[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://k8s.example:6443/apis/authentication.k8s.io/v1/tokenreviews");
  EXPECT_EQ(call.ca_pem, kCa);
  EXPECT_NE(std::find(call.headers.begin(), call.headers.end(), std::string("Authorization: Bearer ") + kReviewer),
            call.headers.end());
  json body = json::parse(call.body);
  EXPECT_EQ(body["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_EQ(body["kind"], "TokenReview");
  EXPECT_EQ(body["spec"]["token"], token);
  EXPECT_EQ(body["spec"]["audiences"], json::array({"vault"}));

  // The review disagrees with the JWT, or refuses it.
  h.Reviewed(true, "system:serviceaccount:apps:web", "uid-other");
  EXPECT_EQ(h.Login("web", token).status().message(), "JWT UIDs did not match");
  h.Reviewed(true, "system:serviceaccount:apps:db", "uid-1");
  EXPECT_EQ(h.Login("web", token).status().message(), "JWT names did not match");
  h.Reviewed(false, "", "");
  EXPECT_EQ(h.Login("web", token).status().message(), "lookup failed: service account jwt not valid");
  h.Reviewed(true, "alice", "uid-1");
  EXPECT_EQ(h.Login("web", token).status().message(), "lookup failed: unexpected username format");
  h.Reviewed(true, "system:node:apps:web", "uid-1");
  EXPECT_EQ(h.Login("web", token).status().message(), "lookup failed: username returned is not a service account");
  h.reply = net::HttpReply{
      401,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"};
  auto unauthorized = h.Login("web", token);
  EXPECT_EQ(unauthorized.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(unauthorized.status().message().find("service account unauthorized"), std::string::npos);
  h.reply = Unavailable(
      "POST https://k8s.example:6443/apis/authentication.k8s.io/v1/tokenreviews: Couldn't connect to server");
  EXPECT_NE(h.Login("web", token).status().message().find("Couldn't connect"), std::string::npos);
  for (const auto& c : h.calls) EXPECT_EQ(c.url.find(kReviewer), std::string::npos);
}

TEST_F(KubernetesLogin, WithoutKeysTheLoginJwtReviewsItselfAndAliasByName) {
  Configure();
  ASSERT_TRUE(h.Write("role/named", {{"bound_service_account_names", "web"},
                                     {"bound_service_account_namespaces", "apps"},
                                     {"alias_name_source", "serviceaccount_name"}})
                  .ok());
  h.Reviewed(true, "system:serviceaccount:apps:web", "uid-1");
  // Unsigned as far as Coffer knows: any key signs it, the cluster vouches for it.
  std::string token = SignToken(*TestKey::Fresh(TestKeyKind::kP256), "ES256", LegacyClaims());
  auto r = h.Login("named", token);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->login->alias.name, "apps/web");
  ASSERT_EQ(h.calls.size(), 1u);
  EXPECT_NE(std::find(h.calls[0].headers.begin(), h.calls[0].headers.end(), "Authorization: Bearer " + token),
            h.calls[0].headers.end());
  EXPECT_FALSE(json::parse(h.calls[0].body)["spec"].contains("audiences"));
}

}  // namespace
}  // namespace coffer::kubernetes
