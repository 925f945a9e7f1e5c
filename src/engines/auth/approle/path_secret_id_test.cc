#include <gmock/gmock.h>

#include "engines/auth/approle/approle_test_util.h"

namespace coffer::approle {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kUuid[] = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

TEST_F(AppRoleTest, GenerateLookupDestroyById) {
  MakeRole("r", {{"secret_id_num_uses", 5}, {"secret_id_ttl", "1h"}});
  json sid = MakeSecretId("r", {{"metadata", R"({"team":"blue","env":"prod"})"}, {"cidr_list", "10.0.0.0/8"}});
  EXPECT_THAT(sid["secret_id"].get<std::string>(), MatchesRegex(kUuid));
  EXPECT_THAT(sid["secret_id_accessor"].get<std::string>(), MatchesRegex(kUuid));
  EXPECT_EQ(sid["secret_id_ttl"], 3600);
  EXPECT_EQ(sid["secret_id_num_uses"], 5);

  auto lookup = Write("role/r/secret-id/lookup", {{"secret_id", sid["secret_id"]}});
  ASSERT_TRUE(lookup.ok()) << lookup.status().message();
  json d = lookup->DataJson();
  EXPECT_EQ(d["secret_id_accessor"], sid["secret_id_accessor"]);
  EXPECT_EQ(d["secret_id_num_uses"], 5);
  EXPECT_EQ(d["secret_id_ttl"], 3600);
  EXPECT_EQ(d["metadata"], json({{"team", "blue"}, {"env", "prod"}}));
  EXPECT_EQ(d["cidr_list"], json({"10.0.0.0/8"}));
  EXPECT_EQ(d["token_bound_cidrs"], json::array());
  EXPECT_EQ(d["creation_time"], "2026-09-21T14:13:20Z");
  EXPECT_EQ(d["expiration_time"], "2026-09-21T15:13:20Z");
  EXPECT_EQ(d["last_updated_time"], d["creation_time"]);

  auto list = Call(Operation::kList, "role/r/secret-id");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->DataJson()["keys"], json({sid["secret_id_accessor"]}));

  ASSERT_TRUE(Write("role/r/secret-id/destroy", {{"secret_id", sid["secret_id"]}}).ok());
  auto gone = Write("role/r/secret-id/lookup", {{"secret_id", sid["secret_id"]}});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->Empty());  // 204, as Vault
  EXPECT_EQ(Call(Operation::kList, "role/r/secret-id").status().code(), StatusCode::kNotFound);
  // Only the role, its role_id index and the salt remain: the accessor index went too.
  EXPECT_EQ(storage_.Keys().size(), 3u);
}

TEST_F(AppRoleTest, LookupAndDestroyByAccessor) {
  MakeRole("r");
  MakeRole("other");
  json sid = MakeSecretId("r");
  json acc = {{"secret_id_accessor", sid["secret_id_accessor"]}};

  auto lookup = Write("role/r/secret-id-accessor/lookup", acc);
  ASSERT_TRUE(lookup.ok()) << lookup.status().message();
  EXPECT_EQ(lookup->DataJson()["secret_id_accessor"], sid["secret_id_accessor"]);
  EXPECT_EQ(lookup->DataJson()["expiration_time"], "0001-01-01T00:00:00Z");  // no TTL
  EXPECT_EQ(lookup->DataJson()["secret_id_ttl"], 0);
  // Another role does not see it.
  auto foreign = Write("role/other/secret-id-accessor/lookup", acc);
  ASSERT_TRUE(foreign.ok());
  EXPECT_TRUE(foreign->Empty());
  EXPECT_EQ(ErrorOf(Write("role/other/secret-id-accessor/destroy", acc)), "invalid secret id accessor");

  ASSERT_TRUE(Call(Operation::kDelete, "role/r/secret-id-accessor/destroy", acc).ok());
  auto missing = Write("role/r/secret-id-accessor/lookup", acc);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrorOf(missing), "failed to find accessor entry for secret_id_accessor: \"" +
                                  sid["secret_id_accessor"].get<std::string>() + "\"");
  EXPECT_EQ(Write("role/r/secret-id-accessor/destroy", acc).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrorOf(Login(Read("role/r/role-id")->DataJson()["role_id"], sid["secret_id"])),
            "invalid role or secret ID");
}

TEST_F(AppRoleTest, CustomSecretId) {
  std::string role_id = MakeRole("r");
  auto w = Write("role/r/custom-secret-id", {{"secret_id", "my-own-secret"}, {"metadata", {{"k", "v"}}}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->DataJson()["secret_id"], "my-own-secret");
  EXPECT_EQ(ErrorOf(Write("role/r/custom-secret-id", {{"secret_id", "my-own-secret"}})),
            "SecretID is already registered");
  EXPECT_EQ(ErrorOf(Write("role/r/custom-secret-id", json::object())), "missing secret_id");
  auto login = Login(role_id, "my-own-secret");
  ASSERT_TRUE(login.ok()) << login.status().message();
  EXPECT_EQ(login->login->metadata.at("k"), "v");
}

TEST_F(AppRoleTest, SecretIdsAreStoredOnlyAsHmacs) {
  MakeRole("r");
  json sid = MakeSecretId("r");
  ASSERT_TRUE(Write("role/r/custom-secret-id", {{"secret_id", "plain-text-secret-42"}}).ok());
  const std::string secrets[] = {sid["secret_id"].get<std::string>(), "plain-text-secret-42",
                                 sid["secret_id_accessor"].get<std::string>()};
  for (const std::string& key : storage_.Keys()) {
    auto value = storage_.Get(key);
    ASSERT_TRUE(value.ok() && *value);
    for (const std::string& s : secrets) {
      EXPECT_EQ(key.find(s), std::string::npos) << key;
      if (s != secrets[2]) {  // entries name their accessor; never the secret ID
        EXPECT_EQ((*value)->find(s), std::string::npos) << key;
      }
    }
  }
}

TEST_F(AppRoleTest, SecretIdLimitsFollowTheRole) {
  MakeRole("lim", {{"secret_id_num_uses", 3}, {"secret_id_ttl", 600}});
  EXPECT_EQ(ErrorOf(Write("role/lim/secret-id", {{"num_uses", 4}})),
            "num_uses cannot be higher than the role's secret_id_num_uses");
  EXPECT_EQ(ErrorOf(Write("role/lim/secret-id", {{"num_uses", 0}})),
            "num_uses cannot be higher than the role's secret_id_num_uses");
  EXPECT_EQ(ErrorOf(Write("role/lim/secret-id", {{"num_uses", -1}})), "num_uses cannot be negative");
  EXPECT_EQ(ErrorOf(Write("role/lim/secret-id", {{"ttl", 601}})), "ttl cannot be longer than the role's secret_id_ttl");
  EXPECT_EQ(ErrorOf(Write("role/lim/secret-id", {{"ttl", 0}})), "ttl cannot be longer than the role's secret_id_ttl");
  json ok = MakeSecretId("lim", {{"num_uses", 2}, {"ttl", "5m"}});
  EXPECT_EQ(ok["secret_id_num_uses"], 2);
  EXPECT_EQ(ok["secret_id_ttl"], 300);

  // Without role limits, anything goes; a TTL beyond the mount's max is capped to it.
  MakeRole("free");
  json big = MakeSecretId("free", {{"ttl", "10000h"}, {"num_uses", 7}});
  EXPECT_EQ(big["secret_id_ttl"], kMountMaxTtl);
  EXPECT_EQ(big["secret_id_num_uses"], 7);
}

TEST_F(AppRoleTest, SecretIdBadInput) {
  MakeRole("r", {{"secret_id_bound_cidrs", "10.0.0.0/8"}, {"token_bound_cidrs", "192.168.0.0/16"}});
  EXPECT_EQ(ErrorOf(Write("role/r/secret-id", {{"cidr_list", "11.0.0.0/8"}})),
            "failed to verify subset relationship between CIDR blocks on the role [\"10.0.0.0/8\"] and CIDR blocks "
            "on the secret ID [\"11.0.0.0/8\"]");
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"cidr_list", "10.0.0.0/4"}})), HasSubstr("subset"));
  EXPECT_TRUE(Write("role/r/secret-id", {{"cidr_list", "10.1.0.0/16,10.2.3.4"}}).ok());
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"cidr_list", "bogus"}})),
              HasSubstr("failed to validate CIDR blocks: field \"cidr_list\""));
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"token_bound_cidrs", "bogus"}})),
              HasSubstr("failed to validate token CIDR blocks: field \"token_bound_cidrs\""));
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"token_bound_cidrs", "10.0.0.0/8"}})), HasSubstr("subset"));
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"ttl", "soon"}})), HasSubstr("ttl"));
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"metadata", "not json, no pairs"}})),
              HasSubstr("failed to parse metadata"));
  EXPECT_THAT(ErrorOf(Write("role/r/secret-id", {{"metadata", R"({"a": 1})"}})), HasSubstr("failed to parse metadata"));
  EXPECT_EQ(ErrorOf(Write("role/r/secret-id", {{"metadata", R"({"a": ""})"}})),
            "failed to parse metadata: invalid value for key \"a\"");
  // key=value pairs, as Vault's ParseKeyValues (lower-cased).
  json kv = MakeSecretId("r", {{"metadata", "Team=Blue, env=prod"}});
  auto lookup = Write("role/r/secret-id/lookup", {{"secret_id", kv["secret_id"]}});
  EXPECT_EQ(lookup->DataJson()["metadata"], json({{"team", "blue"}, {"env", "prod"}}));

  EXPECT_EQ(ErrorOf(Write("role/nope/secret-id", {})), "role \"nope\" does not exist");
  EXPECT_EQ(ErrorOf(Call(Operation::kList, "role/nope/secret-id")), "role \"nope\" does not exist");
  EXPECT_EQ(ErrorOf(Write("role/nope/secret-id/lookup", {{"secret_id", "x"}})), "role \"nope\" does not exist");
  EXPECT_EQ(ErrorOf(Write("role/r/secret-id/lookup", json::object())), "missing secret_id");
  EXPECT_EQ(ErrorOf(Write("role/r/secret-id-accessor/lookup", json::object())), "missing secret_id_accessor");

  MakeRole("nobind", {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "127.0.0.1/32"}});
  EXPECT_EQ(ErrorOf(Write("role/nobind/secret-id", {})), "bind_secret_id is not set on the role");
}

TEST_F(AppRoleTest, AnEntryWithoutItsAccessorIndexIsRevokedOnSight) {
  std::string role_id = MakeRole("r");
  json sid = MakeSecretId("r");
  for (const std::string& key : storage_.Keys()) {
    if (key.rfind("accessor/", 0) == 0) {
      ASSERT_TRUE(storage_.Delete(key).ok());
    }
  }
  EXPECT_EQ(ErrorOf(Write("role/r/secret-id/lookup", {{"secret_id", sid["secret_id"]}})), "invalid secret id");
  EXPECT_EQ(ErrorOf(Login(role_id, sid["secret_id"])), "invalid role or secret ID");
  EXPECT_EQ(storage_.Keys().size(), 3u);  // salt, role, role_id index
}

}  // namespace
}  // namespace coffer::approle
