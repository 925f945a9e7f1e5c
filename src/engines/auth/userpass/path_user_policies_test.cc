#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/auth/userpass/test_util.h"

namespace coffer::userpass {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

class UserPoliciesTest : public UserpassTest {};

TEST_F(UserPoliciesTest, TokenPoliciesReplaceTheList) {
  CreateUser("alice", "pw", {{"token_policies", "a"}, {"token_ttl", 60}});
  EXPECT_TRUE(Must(Operation::kUpdate, "users/alice/policies", {{"token_policies", "Ops, dev,ops"}}).Empty());
  json read = Must(Operation::kRead, "users/alice").data;
  EXPECT_EQ(read["token_policies"], json({"dev", "ops"}));
  EXPECT_FALSE(read.contains("policies"));
  EXPECT_EQ(read["token_ttl"], 60);  // other settings untouched
  EXPECT_EQ(Login("alice", "pw")->login->policies, (std::vector<std::string>{"dev", "ops"}));
}

TEST_F(UserPoliciesTest, DeprecatedPoliciesSetBothAndShowOnRead) {
  CreateUser("bob", "pw");
  Must(Operation::kUpdate, "users/bob/policies", {{"policies", json::array({"x", "y"})}});
  json read = Must(Operation::kRead, "users/bob").data;
  EXPECT_EQ(read["token_policies"], json({"x", "y"}));
  EXPECT_EQ(read["policies"], json({"x", "y"}));
  // token_policies alone clears the deprecated copy.
  Must(Operation::kUpdate, "users/bob/policies", {{"token_policies", "z"}});
  read = Must(Operation::kRead, "users/bob").data;
  EXPECT_EQ(read["token_policies"], json({"z"}));
  EXPECT_FALSE(read.contains("policies"));
}

TEST_F(UserPoliciesTest, EmptyListClearsAndNoFieldChangesNothing) {
  CreateUser("carol", "pw", {{"token_policies", "a,b"}});
  const auto before = Snapshot();
  Must(Operation::kUpdate, "users/carol/policies", json::object());
  EXPECT_EQ(Snapshot(), before);
  Must(Operation::kUpdate, "users/carol/policies", {{"token_policies", json::array()}});
  EXPECT_EQ(Must(Operation::kRead, "users/carol").data["token_policies"], json::array());
}

TEST_F(UserPoliciesTest, UnknownUserAndBadInputAre400) {
  auto r = Do(Operation::kUpdate, "users/ghost/policies", {{"token_policies", "a"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "username does not exist");
  EXPECT_TRUE(storage_.Keys().empty());

  CreateUser("dan", "pw");
  auto bad = Do(Operation::kUpdate, "users/dan/policies", {{"token_policies", json{{"a", 1}}}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("\"token_policies\""));
  EXPECT_EQ(Do(Operation::kRead, "users/dan/policies").status().code(), StatusCode::kUnsupportedOperation);
}

}  // namespace
}  // namespace coffer::userpass
