#include <gmock/gmock.h>

#include "engines/auth/approle/approle_test_util.h"

namespace coffer::approle {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST_F(AppRoleTest, CreateReadShowsVaultsShape) {
  auto w = Write("role/Web", {{"token_policies", "Dev,ops"},
                              {"token_ttl", "1h"},
                              {"token_max_ttl", 7200},
                              {"secret_id_num_uses", 3},
                              {"secret_id_ttl", "10m"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->Empty());  // 204, as Vault

  auto r = Read("role/web");  // names are case-insensitive (stored lower-case)
  ASSERT_TRUE(r.ok()) << r.status().message();
  json d = r->DataJson();
  EXPECT_EQ(d["bind_secret_id"], true);
  EXPECT_TRUE(d["secret_id_bound_cidrs"].is_null());
  EXPECT_EQ(d["secret_id_num_uses"], 3);
  EXPECT_EQ(d["secret_id_ttl"], 600);
  EXPECT_EQ(d["local_secret_ids"], false);
  EXPECT_EQ(d["token_policies"], json({"dev", "ops"}));
  EXPECT_EQ(d["token_ttl"], 3600);
  EXPECT_EQ(d["token_max_ttl"], 7200);
  EXPECT_EQ(d["token_period"], 0);
  EXPECT_EQ(d["token_num_uses"], 0);
  EXPECT_EQ(d["token_bound_cidrs"], json::array());
  EXPECT_EQ(d["token_no_default_policy"], false);
  EXPECT_EQ(d["token_type"], "default");
  EXPECT_FALSE(d.contains("policies"));  // only the deprecated field sets it
  EXPECT_FALSE(d.contains("period"));
  EXPECT_FALSE(d.contains("role_id"));

  auto list = Call(Operation::kList, "role/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->DataJson()["keys"], json({"web"}));
}

TEST_F(AppRoleTest, UpdateKeepsWhatIsNotSent) {
  MakeRole("app", {{"token_policies", "a"}, {"secret_id_num_uses", 5}});
  ASSERT_TRUE(Write("role/app", {{"token_ttl", 60}}).ok());
  json d = Read("role/app")->DataJson();
  EXPECT_EQ(d["token_policies"], json({"a"}));
  EXPECT_EQ(d["secret_id_num_uses"], 5);
  EXPECT_EQ(d["token_ttl"], 60);
}

TEST_F(AppRoleTest, DeprecatedAliasesMapAsVaultDoes) {
  MakeRole("old", {{"policies", "p1,P2"}, {"period", "1h"}, {"bound_cidr_list", "10.0.0.0/8"}});
  json d = Read("role/old")->DataJson();
  EXPECT_EQ(d["policies"], json({"p1", "p2"}));
  EXPECT_EQ(d["token_policies"], json({"p1", "p2"}));
  EXPECT_EQ(d["period"], 3600);
  EXPECT_EQ(d["token_period"], 3600);
  EXPECT_EQ(d["secret_id_bound_cidrs"], json({"10.0.0.0/8"}));

  // Writing the new name alone drops the deprecated one; both together mirror it.
  ASSERT_TRUE(Write("role/old", {{"token_policies", "n"}}).ok());
  d = Read("role/old")->DataJson();
  EXPECT_EQ(d["token_policies"], json({"n"}));
  EXPECT_FALSE(d.contains("policies"));
  ASSERT_TRUE(Write("role/old", {{"token_policies", "x"}, {"policies", "ignored"}}).ok());
  d = Read("role/old")->DataJson();
  EXPECT_EQ(d["token_policies"], json({"x"}));
  EXPECT_EQ(d["policies"], json({"x"}));
  // secret_id_bound_cidrs wins over bound_cidr_list.
  ASSERT_TRUE(Write("role/old", {{"secret_id_bound_cidrs", "192.168.0.0/16"}, {"bound_cidr_list", "1.0.0.0/8"}}).ok());
  EXPECT_EQ(Read("role/old")->DataJson()["secret_id_bound_cidrs"], json({"192.168.0.0/16"}));
}

TEST_F(AppRoleTest, DeleteRemovesRoleIndexAndSecretIds) {
  std::string role_id = MakeRole("gone");
  json sid = MakeSecretId("gone");
  ASSERT_TRUE(Call(Operation::kDelete, "role/gone").ok());
  EXPECT_EQ(Read("role/gone").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Call(Operation::kList, "role").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrorOf(Login(role_id, sid["secret_id"])), "invalid role or secret ID");
  // Only the salt is left.
  EXPECT_EQ(storage_.Keys(), std::vector<std::string>({"salt"}));
  // Deleting again is a no-op 204.
  auto again = Call(Operation::kDelete, "role/gone");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Empty());
}

TEST_F(AppRoleTest, RoleIdIsAUuidAndCanBeSetUniquely) {
  std::string id = MakeRole("a");
  EXPECT_THAT(id, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));

  ASSERT_TRUE(Write("role/a/role-id", {{"role_id", "custom-a"}}).ok());
  EXPECT_EQ(Read("role/a/role-id")->DataJson()["role_id"], "custom-a");
  std::string b = MakeRole("b", {{"role_id", "custom-b"}});
  EXPECT_EQ(b, "custom-b");

  EXPECT_EQ(ErrorOf(Write("role/b/role-id", {{"role_id", "custom-a"}})), "role_id already in use");
  EXPECT_EQ(ErrorOf(Write("role/c", {{"role_id", "custom-a"}})), "role_id already in use");
  EXPECT_EQ(Read("role/c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrorOf(Write("role/a/role-id", {{"role_id", ""}})), "missing role_id");
  EXPECT_EQ(ErrorOf(Write("role/a", {{"role_id", ""}})), "invalid role_id supplied, or failed to generate a role_id");
  EXPECT_EQ(Read("role/nope/role-id").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Write("role/nope/role-id", {{"role_id", "x"}}).status().code(), StatusCode::kNotFound);

  // The old role_id no longer logs in; the new one does, and the old one is free again.
  json sid = MakeSecretId("a");
  EXPECT_EQ(ErrorOf(Login(id, sid["secret_id"])), "invalid role or secret ID");
  EXPECT_TRUE(Login("custom-a", sid["secret_id"]).ok());
  ASSERT_TRUE(Write("role/a/role-id", {{"role_id", "custom-a2"}}).ok());
  EXPECT_TRUE(Write("role/b/role-id", {{"role_id", "custom-a"}}).ok());
}

TEST_F(AppRoleTest, BadInputIs400NamingTheField) {
  auto code = [](const StatusOr<logical::Response>& r) { return r.status().code(); };
  auto w = Write("role/x", {{"token_ttl", "30x"}});
  EXPECT_EQ(code(w), StatusCode::kInvalidArgument);
  EXPECT_THAT(ErrorOf(w), HasSubstr("token_ttl"));
  w = Write("role/x", {{"secret_id_num_uses", "many"}});
  EXPECT_EQ(code(w), StatusCode::kInvalidArgument);
  EXPECT_THAT(ErrorOf(w), HasSubstr("secret_id_num_uses"));
  EXPECT_EQ(ErrorOf(Write("role/x", {{"secret_id_num_uses", -1}})), "secret_id_num_uses cannot be negative");
  w = Write("role/x", {{"secret_id_bound_cidrs", "10.0.0.0/33"}});
  EXPECT_EQ(code(w), StatusCode::kInvalidArgument);
  EXPECT_THAT(ErrorOf(w), HasSubstr("invalid CIDR blocks: field \"secret_id_bound_cidrs\""));
  w = Write("role/x", {{"token_bound_cidrs", "nonsense"}});
  EXPECT_THAT(ErrorOf(w), HasSubstr("token_bound_cidrs"));
  EXPECT_EQ(ErrorOf(Write("role/x", {{"token_ttl", 100}, {"token_max_ttl", 10}})),
            "'token_ttl' cannot be greater than 'token_max_ttl'");
  EXPECT_EQ(ErrorOf(Write("role/x", {{"bind_secret_id", false}})),
            "at least one constraint should be enabled on the role");
  EXPECT_EQ(ErrorOf(Write("role/x", {{"period", "800h"}})),
            "period of \"800h0m0s\" is greater than the backend's maximum lease TTL of \"768h0m0s\"");
  EXPECT_THAT(ErrorOf(Write("role/x", {{"token_type", "batch"}})), HasSubstr("token_type"));
  // Nothing of the failed writes was stored.
  EXPECT_EQ(Read("role/x").status().code(), StatusCode::kNotFound);

  MakeRole("x", {{"local_secret_ids", true}});
  EXPECT_EQ(Read("role/x")->DataJson()["local_secret_ids"], true);
  EXPECT_EQ(ErrorOf(Write("role/x", {{"local_secret_ids", false}})),
            "local_secret_ids can only be modified during role creation");
  // Names as Vault's GenericNameRegex accepts them; anything else is not a path.
  EXPECT_EQ(code(Write("role/-bad", {})), StatusCode::kNotFound);
  EXPECT_EQ(code(Write("role/bad.", {})), StatusCode::kNotFound);
  EXPECT_TRUE(Write("role/a.b-c_d", {}).ok());
  EXPECT_EQ(ErrorOf(Write("role/" + std::string(4097, 'a'), {})), "role_name is longer than maximum of 4096 bytes");
}

TEST_F(AppRoleTest, WarningsAsVault) {
  auto w = Write("role/w", {{"token_max_ttl", "1000h"}, {"token_type", "default-service"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_THAT(w->warnings,
              ::testing::Contains(HasSubstr("token_max_ttl is greater than the backend mount's maximum TTL")));
  EXPECT_THAT(w->warnings, ::testing::Contains("default-service has no useful meaning; adjusting to service"));
  EXPECT_EQ(Read("role/w")->DataJson()["token_type"], "service");
  w = Write("role/w", {{"no_such_field", 1}, {"token_max_ttl", "1000h"}});
  ASSERT_TRUE(w.ok());
  EXPECT_THAT(w->warnings, ::testing::Contains(HasSubstr("no_such_field")));
}

TEST_F(AppRoleTest, UpdateOfMissingRoleWithoutCreateIs400) {
  // What a caller gets when it skips the existence check (the core never does).
  logical::Request req;
  req.operation = Operation::kUpdate;
  req.path = "auth/approle/role/ghost";
  req.mount_point = "auth/approle/";
  req.storage = &storage_;
  auto r = backend_->HandleRequest(req);
  EXPECT_EQ(ErrorOf(r), "role name \"ghost\" doesn't exist");
}

TEST_F(AppRoleTest, LoginIsTheOnlyUnauthenticatedPath) {
  EXPECT_TRUE(backend_->IsUnauthenticated("login"));
  EXPECT_FALSE(backend_->IsUnauthenticated("role/x"));
  EXPECT_FALSE(backend_->IsUnauthenticated("login/x"));
  EXPECT_FALSE(backend_->IsUnauthenticated("tidy/secret-id"));
}

}  // namespace
}  // namespace coffer::approle
