#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/auth/userpass/test_util.h"

namespace coffer::userpass {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class UserPasswordTest : public UserpassTest {};

TEST_F(UserPasswordTest, ChangesThePasswordAndOnlyThePassword) {
  CreateUser("alice", "old-password", {{"token_policies", "dev"}, {"token_ttl", 90}});
  const json before = StoredUser("alice");
  auto w = Must(Operation::kUpdate, "users/Alice/password", {{"password", "new-password"}});
  EXPECT_TRUE(w.Empty());
  const json after = StoredUser("alice");
  EXPECT_NE(after["password_hash"]["salt"], before["password_hash"]["salt"]);
  EXPECT_NE(after["password_hash"]["hash"], before["password_hash"]["hash"]);
  json a = after, b = before;
  a.erase("password_hash");
  b.erase("password_hash");
  EXPECT_EQ(a, b);

  EXPECT_EQ(Login("alice", "old-password").status().message(), "invalid username or password");
  auto ok = Login("alice", "new-password");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->login->policies, (std::vector<std::string>{"dev"}));
  EXPECT_THAT(after.dump(), Not(HasSubstr("new-password")));
}

TEST_F(UserPasswordTest, MissingOrEmptyPasswordIs400) {
  CreateUser("bob", "pw");
  const auto before = Snapshot();
  for (const json& body : {json::object(), json{{"password", ""}}, json{{"password", nullptr}}}) {
    SCOPED_TRACE(body.dump());
    auto r = Do(Operation::kUpdate, "users/bob/password", body);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "missing password");
  }
  auto wrong_type = Do(Operation::kUpdate, "users/bob/password", {{"password", json::array({"a"})}});
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_type.status().message(), HasSubstr("\"password\""));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(UserPasswordTest, UnknownUserIs400AndCreatesNothing) {
  auto r = Do(Operation::kUpdate, "users/ghost/password", {{"password", "pw"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "username does not exist");
  EXPECT_TRUE(storage_.Keys().empty());
  auto bad = Do(Operation::kUpdate, "users/.ghost/password", {{"password", "pw"}});
  EXPECT_THAT(bad.status().message(), HasSubstr("\"username\""));
}

TEST_F(UserPasswordTest, ReadAndDeleteAreUnsupported) {
  CreateUser("carl", "pw");
  EXPECT_EQ(Do(Operation::kRead, "users/carl/password").status().code(), StatusCode::kUnsupportedOperation);
  EXPECT_EQ(Do(Operation::kDelete, "users/carl/password").status().code(), StatusCode::kUnsupportedOperation);
}

}  // namespace
}  // namespace coffer::userpass
