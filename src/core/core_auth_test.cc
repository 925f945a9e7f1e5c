// The core's side of auth methods: sys/auth, login without a token, the token a login issues
// (policies, display name, TTL rules, bound CIDRs), tuning, persistence, and revocation when a
// method is disabled. A minimal auth method built on the framework stands in for the real ones
// (their own tests cover them); it logs in whoever names a user it stores.
#include <gtest/gtest.h>

#include "core/core.h"
#include "engines/kv/backend.h"
#include "logical/framework.h"
#include "logical/token_fields.h"
#include "physical/inmem.h"

namespace coffer::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

// users/<name> stores token fields; login {name} logs in as that user.
StatusOr<std::unique_ptr<logical::Backend>> NewTestAuth(const logical::BackendConfig&) {
  logical::Path user;
  user.pattern = "users/{name}";
  logical::TokenFields::AddFieldsTo(&user.fields);
  auto write = [](Request& req, const FieldData& f) -> StatusOr<Response> {
    logical::TokenFields t;
    RETURN_IF_ERROR(t.Update(f));
    RETURN_IF_ERROR(req.storage->Put("users/" + f.GetString("name"), t.ToStorage().dump()));
    return Response();
  };
  user.operations[Operation::kUpdate] = write;
  user.operations[Operation::kCreate] = write;

  logical::Path login;
  login.pattern = "login";
  login.fields = {{"name", FieldType::kString, "user"}};
  login.operations[Operation::kUpdate] = [](Request& req, const FieldData& f) -> StatusOr<Response> {
    EXPECT_TRUE(req.client_token.empty());  // a login never sees a token
    ASSIGN_OR_RETURN(auto raw, req.storage->Get("users/" + f.GetString("name")));
    if (!raw) return InvalidArgument("invalid username or password");
    logical::TokenFields t = logical::TokenFields::FromStorage(json::parse(*raw));
    Response resp;
    resp.login.emplace();
    t.PopulateAuth(&*resp.login);
    resp.login->display_name = f.GetString("name");
    resp.login->metadata = {{"username", f.GetString("name")}};
    resp.login->alias.name = f.GetString("name");
    return resp;
  };
  auto b = std::make_unique<logical::FrameworkBackend>(std::vector<logical::Path>{user, login}, "test auth");
  b->SetUnauthenticatedPaths({"login"});
  return std::unique_ptr<logical::Backend>(std::move(b));
}

class CoreAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoreOptions opts;
    opts.storage = physical::NewInmemBackend();
    opts.default_lease_ttl = 3600;
    opts.max_lease_ttl = 7200;
    auto c = Core::Create(std::move(opts));
    ASSERT_TRUE(c.ok()) << c.status().message();
    core_ = std::move(*c);
    core_->RegisterEngine("kv", kv::NewKvBackend);
    core_->RegisterAuthMethod("testauth", NewTestAuth);
    auto init = core_->Initialize(1, 1);
    ASSERT_TRUE(init.ok());
    key_ = init->keys[0];
    ASSERT_TRUE(core_->SubmitUnsealKey(key_).ok());
    root_ = init->root_token;
  }

  StatusOr<Response> Call(Operation op, const std::string& path, json data = json::object(), std::string token = "-",
                          const std::string& remote = "127.0.0.1") {
    Request req;
    req.operation = op;
    req.path = path;
    req.data = std::move(data);
    req.client_token = token == "-" ? root_ : token;
    req.remote_address = remote;
    return core_->HandleRequest(req);
  }

  void EnableAndAddUser(const std::string& mount, const std::string& user, json fields) {
    ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/" + mount, {{"type", "testauth"}}).ok());
    auto w = Call(Operation::kUpdate, "auth/" + mount + "/users/" + user, std::move(fields));
    ASSERT_TRUE(w.ok()) << w.status().message();
  }

  json Login(const std::string& mount, const std::string& user, const std::string& remote = "127.0.0.1") {
    auto r = Call(Operation::kUpdate, "auth/" + mount + "/login", {{"name", user}}, "", remote);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->auth : json();
  }

  std::unique_ptr<Core> core_;
  SecretBytes key_;
  std::string root_;
};

TEST_F(CoreAuthTest, ListShowsTheTokenMethodAndEnabledOnes) {
  EnableAndAddUser("test", "alice", {{"token_policies", "dev"}});
  auto list = Call(Operation::kRead, "sys/auth");
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(list->data.contains("token/"));
  EXPECT_EQ(list->data["token/"]["type"], "token");
  ASSERT_TRUE(list->data.contains("test/"));
  EXPECT_EQ(list->data["test/"]["type"], "testauth");
  EXPECT_EQ(list->data["test/"]["accessor"].get<std::string>().rfind("auth_testauth_", 0), 0u);
  // Auth methods are not secrets engines.
  auto mounts = Call(Operation::kRead, "sys/mounts");
  EXPECT_FALSE(mounts->data.contains("test/"));
  EXPECT_FALSE(mounts->data.contains("auth/test/"));
}

TEST_F(CoreAuthTest, UnknownTypeTokenTypeAndDuplicatePathAreRefused) {
  auto bad = Call(Operation::kUpdate, "sys/auth/x", {{"type", "nope"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("unknown auth method type"), std::string::npos);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/t2", {{"type", "token"}}).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/test", {{"type", "testauth"}}).ok());
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/test", {{"type", "testauth"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kDelete, "sys/auth/token").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CoreAuthTest, LoginIssuesAnOrphanTokenWithTheRolesSettings) {
  EnableAndAddUser("test", "alice", {{"token_policies", "dev,Ops"}, {"token_ttl", "10m"}, {"token_num_uses", 3}});
  json auth = Login("test", "alice");
  ASSERT_TRUE(auth.is_object());
  EXPECT_EQ(auth["policies"], json({"default", "dev", "ops"}));
  EXPECT_EQ(auth["token_policies"], json({"default", "dev", "ops"}));
  EXPECT_EQ(auth["metadata"], json({{"username", "alice"}}));
  EXPECT_EQ(auth["lease_duration"], 600);
  EXPECT_EQ(auth["orphan"], true);
  EXPECT_EQ(auth["num_uses"], 3);
  EXPECT_EQ(auth["token_type"], "service");
  std::string token = auth["client_token"];
  auto self = Call(Operation::kRead, "auth/token/lookup-self", json::object(), token);
  ASSERT_TRUE(self.ok()) << self.status().message();
  EXPECT_EQ(self->data["display_name"], "test-alice");
  EXPECT_EQ(self->data["path"], "auth/test/login");
  EXPECT_EQ(self->data["meta"], json({{"username", "alice"}}));
}

TEST_F(CoreAuthTest, LoginFailuresAreTheMethodsErrorsAndNeedNoToken) {
  EnableAndAddUser("test", "alice", json::object());
  auto r = Call(Operation::kUpdate, "auth/test/login", {{"name", "bob"}}, "");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "invalid username or password");
  // A login with a bogus token still works: the token is ignored.
  auto ok = Call(Operation::kUpdate, "auth/test/login", {{"name", "alice"}}, "hvs.bogus");
  EXPECT_TRUE(ok.ok()) << ok.status().message();
  // Other paths of the method still need a token.
  EXPECT_EQ(Call(Operation::kUpdate, "auth/test/users/x", json::object(), "").status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(CoreAuthTest, NoDefaultPolicyAndTtlCapsFromRoleAndMount) {
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/test", {{"type", "testauth"}}).ok());
  auto refused = Call(Operation::kUpdate, "auth/test/users/alice", {{"token_ttl", "5h"}, {"token_max_ttl", "3h"}});
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  auto w = Call(Operation::kUpdate, "auth/test/users/bob", {{"token_max_ttl", "30m"}, {"token_no_default_policy", true}});
  ASSERT_TRUE(w.ok());
  json auth = Login("test", "bob");
  EXPECT_EQ(auth["policies"], json::array());
  EXPECT_EQ(auth["lease_duration"], 1800);  // the mount default (1h) capped by token_max_ttl
  // The mount's tuned max caps the lease too.
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/test/tune", {{"max_lease_ttl", "20m"}}).ok());
  auto tune = Call(Operation::kRead, "sys/auth/test/tune");
  ASSERT_TRUE(tune.ok());
  EXPECT_EQ(tune->data["max_lease_ttl"], 1200);
  auth = Login("test", "bob");
  EXPECT_EQ(auth["lease_duration"], 1200);
  // Renewal stays under the role's max TTL (counted from creation).
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/test/tune", {{"max_lease_ttl", "2h"}}).ok());
  auth = Login("test", "bob");
  EXPECT_EQ(auth["lease_duration"], 1800);
  auto renewed = Call(Operation::kUpdate, "auth/token/renew", {{"token", auth["client_token"]}, {"increment", "2h"}});
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_LE(renewed->auth["lease_duration"].get<int64_t>(), 1800);
}

TEST_F(CoreAuthTest, BoundCidrsRestrictWhereTheTokenWorks) {
  EnableAndAddUser("test", "alice", {{"token_bound_cidrs", "10.0.0.0/8"}});
  json auth = Login("test", "alice");
  std::string token = auth["client_token"];
  EXPECT_TRUE(Call(Operation::kRead, "auth/token/lookup-self", json::object(), token, "10.1.2.3").ok());
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", json::object(), token, "192.168.0.1").status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(CoreAuthTest, DisablingTheMethodRevokesItsTokensAndData) {
  EnableAndAddUser("test", "alice", json::object());
  EnableAndAddUser("other", "alice", json::object());
  std::string t1 = Login("test", "alice")["client_token"];
  std::string t2 = Login("other", "alice")["client_token"];
  ASSERT_TRUE(Call(Operation::kDelete, "sys/auth/test").ok());
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", json::object(), t1).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(Call(Operation::kRead, "auth/token/lookup-self", json::object(), t2).ok());
  // Re-enabled at the same path it starts empty.
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/test", {{"type", "testauth"}}).ok());
  EXPECT_FALSE(Call(Operation::kUpdate, "auth/test/login", {{"name", "alice"}}, "").ok());
}

TEST_F(CoreAuthTest, MethodsTheirDataAndTuningSurviveSealAndUnseal) {
  EnableAndAddUser("test", "alice", json::object());
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/test/tune", {{"default_lease_ttl", "15m"}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/auth/token/tune", {{"default_lease_ttl", "20m"}}).ok());
  std::string accessor = Call(Operation::kRead, "sys/auth")->data["test/"]["accessor"];
  std::string token_accessor = Call(Operation::kRead, "sys/auth")->data["token/"]["accessor"];
  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->SubmitUnsealKey(key_).ok());
  auto list = Call(Operation::kRead, "sys/auth");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->data["test/"]["accessor"], accessor);
  EXPECT_EQ(list->data["token/"]["accessor"], token_accessor);
  json auth = Login("test", "alice");
  EXPECT_EQ(auth["lease_duration"], 900);
  auto created = Call(Operation::kUpdate, "auth/token/create", {{"policies", json::array({"default"})}});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->auth["lease_duration"], 1200);  // the token method's tuned default
}

}  // namespace
}  // namespace coffer::core
