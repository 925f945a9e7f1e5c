#include <gmock/gmock.h>

#include "engines/auth/approle/approle_test_util.h"

namespace coffer::approle {
namespace {

using ::testing::HasSubstr;

TEST_F(AppRoleTest, PerFieldEndpointsReadUpdateAndReset) {
  MakeRole("f", {{"token_policies", "a"}, {"secret_id_num_uses", 4}, {"token_ttl", 60}, {"token_max_ttl", 120}});
  EXPECT_EQ(Read("role/f/policies")->DataJson(), json({{"token_policies", {"a"}}}));
  EXPECT_EQ(Read("role/f/secret-id-num-uses")->DataJson(), json({{"secret_id_num_uses", 4}}));
  EXPECT_EQ(Read("role/f/local-secret-ids")->DataJson(), json({{"local_secret_ids", false}}));
  EXPECT_EQ(Read("role/f/token-ttl")->DataJson(), json({{"token_ttl", 60}}));

  ASSERT_TRUE(Write("role/f/policies", {{"policies", "B,c"}}).ok());
  EXPECT_EQ(Read("role/f/policies")->DataJson(), json({{"token_policies", {"b", "c"}}, {"policies", {"b", "c"}}}));
  ASSERT_TRUE(Write("role/f/secret-id-ttl", {{"secret_id_ttl", "5m"}}).ok());
  ASSERT_TRUE(Write("role/f/period", {{"token_period", "1h"}}).ok());
  ASSERT_TRUE(Write("role/f/token-bound-cidrs", {{"token_bound_cidrs", "10.0.0.0/8"}}).ok());
  ASSERT_TRUE(Write("role/f/secret-id-bound-cidrs", {{"secret_id_bound_cidrs", "127.0.0.1"}}).ok());
  json d = Read("role/f")->DataJson();
  EXPECT_EQ(d["secret_id_ttl"], 300);
  EXPECT_EQ(d["token_period"], 3600);
  EXPECT_EQ(d["token_bound_cidrs"], json({"10.0.0.0/8"}));
  EXPECT_EQ(d["secret_id_bound_cidrs"], json({"127.0.0.1/32"}));
  auto legacy = Read("role/f/bound-cidr-list");
  EXPECT_EQ(legacy->DataJson(), json({{"bound_cidr_list", {"127.0.0.1/32"}}}));
  EXPECT_THAT(legacy->warnings, ::testing::Contains(HasSubstr("deprecated")));

  ASSERT_TRUE(Call(Operation::kDelete, "role/f/secret-id-num-uses").ok());
  ASSERT_TRUE(Call(Operation::kDelete, "role/f/policies").ok());
  d = Read("role/f")->DataJson();
  EXPECT_EQ(d["secret_id_num_uses"], 0);
  EXPECT_EQ(d["token_policies"], json::array());
  EXPECT_FALSE(d.contains("policies"));

  EXPECT_EQ(ErrorOf(Write("role/f/secret-id-num-uses", json::object())), "missing secret_id_num_uses");
  EXPECT_EQ(ErrorOf(Write("role/f/secret-id-num-uses", {{"secret_id_num_uses", -2}})),
            "secret_id_num_uses cannot be negative");
  EXPECT_EQ(ErrorOf(Write("role/f/token-ttl", {{"token_ttl", 500}})),
            "token_ttl should not be greater than token_max_ttl");
  EXPECT_EQ(ErrorOf(Write("role/f/token-max-ttl", {{"token_max_ttl", 30}})),
            "token_max_ttl should be greater than or equal to token_ttl");
  EXPECT_EQ(ErrorOf(Write("role/f/bind-secret-id", json::object())), "missing bind_secret_id");
  EXPECT_EQ(ErrorOf(Write("role/f/policies", json::object())), "missing token_policies");
  EXPECT_THAT(ErrorOf(Write("role/f/secret-id-bound-cidrs", {{"secret_id_bound_cidrs", "x"}})),
              HasSubstr("failed to validate CIDR blocks"));
  // Taking away the last binding is refused.
  ASSERT_TRUE(Call(Operation::kDelete, "role/f/token-bound-cidrs").ok());
  ASSERT_TRUE(Call(Operation::kDelete, "role/f/secret-id-bound-cidrs").ok());
  EXPECT_EQ(ErrorOf(Write("role/f/bind-secret-id", {{"bind_secret_id", false}})),
            "at least one constraint should be enabled on the role");
  EXPECT_EQ(Read("role/f/bind-secret-id")->DataJson(), json({{"bind_secret_id", true}}));

  EXPECT_EQ(Read("role/none/token-ttl").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Write("role/none/token-ttl", {{"token_ttl", 1}}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Call(Operation::kDelete, "role/none/token-ttl").ok());
  EXPECT_EQ(Write("role/f/local-secret-ids", {{"local_secret_ids", true}}).status().code(),
            StatusCode::kUnsupportedOperation);
}

}  // namespace
}  // namespace coffer::approle
