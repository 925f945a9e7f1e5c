#include <gmock/gmock.h>

#include <atomic>
#include <thread>
#include <vector>

#include "engines/auth/approle/approle_test_util.h"

namespace coffer::approle {
namespace {

using ::testing::ElementsAre;

TEST_F(AppRoleTest, LoginReturnsTheRolesTokenSettings) {
  std::string role_id = MakeRole("web", {{"token_policies", "dev,ops"},
                                         {"token_ttl", "1h"},
                                         {"token_max_ttl", "2h"},
                                         {"token_num_uses", 4},
                                         {"token_bound_cidrs", "127.0.0.0/8"},
                                         {"token_no_default_policy", true}});
  json sid = MakeSecretId("web", {{"metadata", R"({"team":"blue"})"}});
  auto r = Login(role_id, sid["secret_id"]);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->login.has_value());
  const logical::Auth& a = *r->login;
  EXPECT_THAT(a.policies, ElementsAre("dev", "ops"));
  EXPECT_EQ(a.ttl, 3600);
  EXPECT_EQ(a.max_ttl, 7200);
  EXPECT_EQ(a.num_uses, 4);
  EXPECT_TRUE(a.no_default_policy);
  EXPECT_THAT(a.bound_cidrs, ElementsAre("127.0.0.0/8"));
  EXPECT_EQ(a.display_name, "");
  EXPECT_EQ(a.metadata, (std::map<std::string, std::string>{{"role_name", "web"}, {"team", "blue"}}));
  EXPECT_EQ(a.alias.name, role_id);
  EXPECT_EQ(a.alias.metadata, (std::map<std::string, std::string>{{"role_name", "web"}}));
  EXPECT_TRUE(r->data.is_null());

  // The secret ID's token_bound_cidrs replace the role's.
  json narrow = MakeSecretId("web", {{"token_bound_cidrs", "127.0.0.1"}});
  auto r2 = Login(role_id, narrow["secret_id"]);
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_THAT(r2->login->bound_cidrs, ElementsAre("127.0.0.1/32"));
  // Unlimited secret IDs keep working.
  EXPECT_TRUE(Login(role_id, sid["secret_id"]).ok());
}

TEST_F(AppRoleTest, UnknownRoleIdAndWrongSecretIdLookTheSame) {
  std::string role_id = MakeRole("r");
  MakeRole("other");
  json sid = MakeSecretId("r");
  json other = MakeSecretId("other");
  std::vector<StatusOr<logical::Response>> failures = {
      Login("no-such-role-id", sid["secret_id"]), Login(role_id, "no-such-secret-id"),
      Login(role_id, other["secret_id"]),  // another role's secret ID
      Login(role_id, std::string(5000, 'x')),     Login("no-such-role-id", "no-such-secret-id"),
  };
  for (const auto& f : failures) {
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorOf(f), "invalid role or secret ID");
  }
  EXPECT_EQ(ErrorOf(Login("", "x")), "missing role_id");
  EXPECT_EQ(ErrorOf(Login(role_id, "")), "missing secret_id");
  EXPECT_EQ(ErrorOf(Login(" " + role_id + " ", " " + sid["secret_id"].get<std::string>())), "<ok>");  // trimmed
}

TEST_F(AppRoleTest, NumUsesCountsDownAndTheLastUseDeletes) {
  std::string role_id = MakeRole("r", {{"secret_id_num_uses", 3}});
  json sid = MakeSecretId("r");
  auto uses_left = [&] {
    return Write("role/r/secret-id/lookup", {{"secret_id", sid["secret_id"]}})->DataJson()["secret_id_num_uses"];
  };
  ASSERT_TRUE(Login(role_id, sid["secret_id"]).ok());
  EXPECT_EQ(uses_left(), 2);
  Advance(5);
  ASSERT_TRUE(Login(role_id, sid["secret_id"]).ok());
  auto lookup = Write("role/r/secret-id/lookup", {{"secret_id", sid["secret_id"]}})->DataJson();
  EXPECT_EQ(lookup["secret_id_num_uses"], 1);
  EXPECT_NE(lookup["last_updated_time"], lookup["creation_time"]);
  ASSERT_TRUE(Login(role_id, sid["secret_id"]).ok());
  EXPECT_EQ(ErrorOf(Login(role_id, sid["secret_id"])), "invalid role or secret ID");
  EXPECT_EQ(Call(Operation::kList, "role/r/secret-id").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_.Keys().size(), 3u);  // the accessor index went with it
}

TEST_F(AppRoleTest, ExpiredSecretIdIsRefusedAndRemoved) {
  std::string role_id = MakeRole("r", {{"secret_id_ttl", 60}});
  json sid = MakeSecretId("r");
  Advance(59);
  ASSERT_TRUE(Login(role_id, sid["secret_id"]).ok());
  Advance(1);
  EXPECT_EQ(ErrorOf(Login(role_id, sid["secret_id"])), "invalid role or secret ID");
  auto lookup = Write("role/r/secret-id/lookup", {{"secret_id", sid["secret_id"]}});
  ASSERT_TRUE(lookup.ok());
  EXPECT_TRUE(lookup->Empty());
  EXPECT_EQ(storage_.Keys().size(), 3u);
}

TEST_F(AppRoleTest, CidrBindings) {
  std::string role_id = MakeRole("r", {{"secret_id_bound_cidrs", "10.0.0.0/8,::1/128"}});
  json sid = MakeSecretId("r", {{"cidr_list", "10.1.0.0/16"}});
  EXPECT_TRUE(Login(role_id, sid["secret_id"], "10.1.2.3:5000").ok());
  EXPECT_EQ(ErrorOf(Login(role_id, sid["secret_id"], "10.2.0.1:5000")),
            "source address \"10.2.0.1\" unauthorized through CIDR restrictions on the secret ID");
  json any = MakeSecretId("r");
  EXPECT_TRUE(Login(role_id, any["secret_id"], "10.2.0.1:5000").ok());
  EXPECT_TRUE(Login(role_id, any["secret_id"], "[::1]:5000").ok());
  EXPECT_EQ(ErrorOf(Login(role_id, any["secret_id"], "192.168.1.1:5000")),
            "source address \"192.168.1.1\" unauthorized by CIDR restrictions on the role");

  // A counted secret ID refused by its binding keeps its use.
  MakeRole("c", {{"secret_id_num_uses", 1}});
  std::string c_id = Read("role/c/role-id")->DataJson()["role_id"];
  json once = MakeSecretId("c", {{"cidr_list", "10.0.0.1"}});
  EXPECT_EQ(ErrorOf(Login(c_id, once["secret_id"], "10.0.0.2:1")),
            "source address \"10.0.0.2\" unauthorized by CIDR restrictions on the secret ID");
  EXPECT_TRUE(Login(c_id, once["secret_id"], "10.0.0.1:1").ok());
  EXPECT_EQ(ErrorOf(Login(c_id, once["secret_id"], "10.0.0.1:1")), "invalid role or secret ID");
}

TEST_F(AppRoleTest, WithoutBindSecretIdTheRoleIdAloneLogsIn) {
  EXPECT_EQ(ErrorOf(Write("role/open", {{"bind_secret_id", false}})),
            "at least one constraint should be enabled on the role");
  std::string role_id = MakeRole("open", {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "127.0.0.0/8"}});
  auto r = Login(role_id, "");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->login->metadata, (std::map<std::string, std::string>{{"role_name", "open"}}));
  EXPECT_EQ(ErrorOf(Login(role_id, "", "10.0.0.1:1")),
            "source address \"10.0.0.1\" unauthorized by CIDR restrictions on the role");

  std::string tok = MakeRole("tok", {{"bind_secret_id", false}, {"token_bound_cidrs", "10.0.0.0/8"}});
  auto t = Login(tok, "", "192.168.0.1:1");  // token_bound_cidrs bind the token, not the login
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_THAT(t->login->bound_cidrs, ElementsAre("10.0.0.0/8"));
}

TEST_F(AppRoleTest, RacingLoginsForTheLastUseHaveOneWinner) {
  std::string role_id = MakeRole("race", {{"secret_id_num_uses", 1}});
  for (int round = 0; round < 20; ++round) {
    json sid = MakeSecretId("race");
    constexpr int kThreads = 8;
    std::atomic<int> wins{0}, invalid{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        auto r = Login(role_id, sid["secret_id"]);
        if (r.ok()) {
          ++wins;
        } else if (r.status().message() == "invalid role or secret ID") {
          ++invalid;
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(invalid.load(), kThreads - 1) << "round " << round;
  }
}

}  // namespace
}  // namespace coffer::approle
