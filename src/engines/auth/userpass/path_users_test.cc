#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "engines/auth/userpass/test_util.h"

namespace coffer::userpass {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const json kDefaultRead = {{"token_bound_cidrs", json::array()},
                           {"token_explicit_max_ttl", 0},
                           {"token_max_ttl", 0},
                           {"token_no_default_policy", false},
                           {"token_num_uses", 0},
                           {"token_period", 0},
                           {"token_policies", json::array()},
                           {"token_ttl", 0},
                           {"token_type", "default"}};

class UsersTest : public UserpassTest {};

TEST_F(UsersTest, CreateIs204AndReadShowsTokenFieldsButNoPassword) {
  auto w = Must(Operation::kCreate, "users/alice", {{"password", "s3cret-pw"}});
  EXPECT_TRUE(w.Empty());
  EXPECT_EQ(Must(Operation::kRead, "users/alice").data, kDefaultRead);

  Must(Operation::kUpdate, "users/alice",
       {{"token_policies", "Dev, ops"},
        {"token_ttl", "1h"},
        {"token_max_ttl", "2h"},
        {"token_explicit_max_ttl", 9000},
        {"token_period", "30m"},
        {"token_num_uses", 3},
        {"token_bound_cidrs", json::array({"10.0.0.0/8", "127.0.0.1"})},
        {"token_no_default_policy", true},
        {"token_type", "service"}});
  json expected = {{"token_bound_cidrs", {"10.0.0.0/8", "127.0.0.1/32"}},
                   {"token_explicit_max_ttl", 9000},
                   {"token_max_ttl", 7200},
                   {"token_no_default_policy", true},
                   {"token_num_uses", 3},
                   {"token_period", 1800},
                   {"token_policies", {"dev", "ops"}},
                   {"token_ttl", 3600},
                   {"token_type", "service"}};
  json read = Must(Operation::kRead, "users/alice").data;
  EXPECT_EQ(read, expected);
  EXPECT_FALSE(read.contains("password"));
  EXPECT_THAT(read.dump(), Not(HasSubstr("s3cret-pw")));
}

TEST_F(UsersTest, UpdateWithoutPasswordKeepsTheOldOne) {
  CreateUser("bob", "first-pw");
  const json before = StoredUser("bob")["password_hash"];
  Must(Operation::kUpdate, "users/bob", {{"token_ttl", 60}});
  EXPECT_EQ(StoredUser("bob")["password_hash"], before);
  EXPECT_TRUE(Login("bob", "first-pw").ok());
  EXPECT_EQ(Must(Operation::kRead, "users/bob").data["token_ttl"], 60);
}

TEST_F(UsersTest, PasswordInAUserWriteReplacesTheHash) {
  CreateUser("bob", "first-pw");
  Must(Operation::kUpdate, "users/bob", {{"password", "second-pw"}});
  EXPECT_FALSE(Login("bob", "first-pw").ok());
  EXPECT_TRUE(Login("bob", "second-pw").ok());
}

TEST_F(UsersTest, CreateNeedsAPassword) {
  for (Operation op : {Operation::kCreate, Operation::kUpdate}) {
    for (const json& body : {json::object(), json{{"password", ""}}, json{{"token_ttl", 5}}}) {
      SCOPED_TRACE(body.dump());
      auto r = Do(op, "users/carol", body);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message(), "missing password");
    }
  }
  EXPECT_TRUE(storage_.Keys().empty());
  // An existing user's password cannot be set to "".
  CreateUser("carol", "pw");
  auto r = Do(Operation::kUpdate, "users/carol", {{"password", ""}});
  EXPECT_EQ(r.status().message(), "missing password");
  EXPECT_TRUE(Login("carol", "pw").ok());
}

TEST_F(UsersTest, NamesAreLowerCased) {
  CreateUser("Alice.Smith-2", "pw");
  EXPECT_EQ(storage_.Keys(), (std::vector<std::string>{"user/alice.smith-2"}));
  EXPECT_EQ(Must(Operation::kList, "users").data, (json{{"keys", {"alice.smith-2"}}}));
  EXPECT_TRUE(Do(Operation::kRead, "users/ALICE.SMITH-2").ok());
  Must(Operation::kUpdate, "users/alice.SMITH-2", {{"token_policies", "x"}});
  EXPECT_EQ(Must(Operation::kRead, "users/alice.smith-2").data["token_policies"], json({"x"}));
  Must(Operation::kDelete, "users/ALICE.smith-2");
  EXPECT_TRUE(storage_.Keys().empty());
}

TEST_F(UsersTest, ListIsSortedAnd404WhenEmpty) {
  auto empty = Do(Operation::kList, "users/");
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  CreateUser("zed", "pw");
  CreateUser("amy", "pw");
  CreateUser("mo", "pw");
  EXPECT_EQ(Must(Operation::kList, "users/").data, (json{{"keys", {"amy", "mo", "zed"}}}));
  EXPECT_EQ(Must(Operation::kList, "users").data, (json{{"keys", {"amy", "mo", "zed"}}}));
}

TEST_F(UsersTest, DeleteRemovesTheUserAndIsIdempotent) {
  CreateUser("dave", "pw");
  EXPECT_TRUE(Must(Operation::kDelete, "users/dave").Empty());
  EXPECT_EQ(Do(Operation::kRead, "users/dave").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Login("dave", "pw").status().message(), "invalid username or password");
  EXPECT_TRUE(Must(Operation::kDelete, "users/dave").Empty());
  EXPECT_TRUE(storage_.Keys().empty());
}

TEST_F(UsersTest, ReadOfUnknownUserIs404) {
  auto r = Do(Operation::kRead, "users/nobody");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(UsersTest, ExistenceCheck) {
  auto req = MakeRequest(Operation::kCreate, "users/erin", {{"password", "pw"}});
  auto before = backend_->ExistenceCheck(req);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, std::optional<bool>(false));
  CreateUser("erin", "pw");
  auto req2 = MakeRequest(Operation::kUpdate, "users/ERIN", json::object());
  EXPECT_EQ(*backend_->ExistenceCheck(req2), std::optional<bool>(true));
}

// Vault's deprecated fields: they set the token_* value; a read shows them only while set.
TEST_F(UsersTest, DeprecatedAliasesMapAsVaultMapsThem) {
  Must(Operation::kCreate, "users/frank",
       {{"password", "pw"}, {"policies", "B,a"}, {"ttl", "10m"}, {"max_ttl", 3600}, {"bound_cidrs", "192.168.0.0/16"}});
  json read = Must(Operation::kRead, "users/frank").data;
  EXPECT_EQ(read["token_policies"], json({"a", "b"}));
  EXPECT_EQ(read["policies"], json({"a", "b"}));
  EXPECT_EQ(read["token_ttl"], 600);
  EXPECT_EQ(read["ttl"], 600);
  EXPECT_EQ(read["token_max_ttl"], 3600);
  EXPECT_EQ(read["max_ttl"], 3600);
  EXPECT_EQ(read["token_bound_cidrs"], json({"192.168.0.0/16"}));
  EXPECT_EQ(read["bound_cidrs"], json({"192.168.0.0/16"}));

  // Moving to the new names drops the old ones from reads.
  Must(Operation::kUpdate, "users/frank",
       {{"token_policies", "c"}, {"token_ttl", 60}, {"token_max_ttl", 120}, {"token_bound_cidrs", "10.0.0.0/8"}});
  read = Must(Operation::kRead, "users/frank").data;
  EXPECT_EQ(read, (json{{"token_bound_cidrs", {"10.0.0.0/8"}},
                        {"token_explicit_max_ttl", 0},
                        {"token_max_ttl", 120},
                        {"token_no_default_policy", false},
                        {"token_num_uses", 0},
                        {"token_period", 0},
                        {"token_policies", {"c"}},
                        {"token_ttl", 60},
                        {"token_type", "default"}}));
}

TEST_F(UsersTest, BothNamesGivenTheTokenFieldWinsAndBothShow) {
  Must(Operation::kCreate, "users/gina",
       {{"password", "pw"}, {"policies", "old"}, {"token_policies", "new"}, {"ttl", 5}, {"token_ttl", 50}});
  json read = Must(Operation::kRead, "users/gina").data;
  EXPECT_EQ(read["token_policies"], json({"new"}));
  EXPECT_EQ(read["policies"], json({"new"}));
  EXPECT_EQ(read["token_ttl"], 50);
  EXPECT_EQ(read["ttl"], 50);
}

TEST_F(UsersTest, BadInputIs400NamingTheFieldAndChangesNothing) {
  CreateUser("hank", "pw", {{"token_ttl", 30}});
  const auto before = Snapshot();
  struct Case {
    std::string path;
    json body;
    std::string needle;
  };
  for (const Case& c : std::vector<Case>{
           {"users/hank", {{"token_ttl", "soon"}}, "\"token_ttl\""},
           {"users/hank", {{"token_num_uses", -1}}, "'token_num_uses'"},
           {"users/hank", {{"token_type", "batch"}}, "\"token_type\""},
           {"users/hank", {{"token_type", "weird"}}, "'token_type'"},
           {"users/hank", {{"token_bound_cidrs", "not-a-cidr"}}, "\"token_bound_cidrs\""},
           {"users/hank", {{"bound_cidrs", "300.1.1.1/8"}}, "\"bound_cidrs\""},
           {"users/hank", {{"ttl", "later"}}, "\"ttl\""},
           {"users/hank", {{"ttl", "-5s"}}, "'ttl'"},
           {"users/hank", {{"max_ttl", "-1h"}}, "'max_ttl'"},
           {"users/hank", {{"max_ttl", 10}}, "'token_ttl' cannot be greater than 'token_max_ttl'"},
           {"users/hank", {{"token_max_ttl", 10}}, "'token_ttl' cannot be greater than 'token_max_ttl'"},
           {"users/hank", {{"token_no_default_policy", "maybe"}}, "\"token_no_default_policy\""},
           {"users/hank", {{"password", json::object()}}, "\"password\""},
           {"users/hank", {{"policies", json::object()}}, "\"policies\""},
           {"users/-hank", {{"password", "pw"}}, "\"username\""},
           {"users/hank-", {{"password", "pw"}}, "\"username\""},
           {"users/ha$nk", {{"password", "pw"}}, "\"username\""},
       }) {
    SCOPED_TRACE(c.path + " " + c.body.dump());
    auto r = Do(Operation::kUpdate, c.path, c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(c.needle));
  }
  EXPECT_EQ(Snapshot(), before);
  for (Operation op : {Operation::kRead, Operation::kDelete}) {
    auto r = Do(op, "users/bad$name");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("\"username\""));
  }
}

TEST_F(UsersTest, StoredRecordHoldsOnlyASaltedScryptHash) {
  const std::string password = "Tr0ub4dor&3-plaintext";
  CreateUser("ivan", password);
  CreateUser("judy", password);
  for (const auto& [key, value] : Snapshot()) {
    SCOPED_TRACE(key);
    EXPECT_THAT(value, Not(HasSubstr(password)));
    EXPECT_THAT(value, Not(HasSubstr(Base64Encode(password))));
    EXPECT_THAT(value, Not(HasSubstr(HexEncode(password))));
  }
  json ivan = StoredUser("ivan")["password_hash"];
  json judy = StoredUser("judy")["password_hash"];
  EXPECT_EQ(ivan["algorithm"], "scrypt");
  EXPECT_EQ(ivan["log2_n"], kTestParams.log2_n);
  EXPECT_EQ(ivan["r"], kTestParams.r);
  EXPECT_EQ(ivan["p"], kTestParams.p);
  EXPECT_EQ(Base64Decode(ivan["salt"].get<std::string>())->size(), 16u);
  EXPECT_EQ(Base64Decode(ivan["hash"].get<std::string>())->size(), 32u);
  // Same password, different salt and hash.
  EXPECT_NE(ivan["salt"], judy["salt"]);
  EXPECT_NE(ivan["hash"], judy["hash"]);
  EXPECT_FALSE(StoredUser("ivan").contains("password"));
}

class DefaultCostTest : public UserpassTest {
 protected:
  DefaultCostTest() : UserpassTest(kDefaultScryptParams) {}
};

TEST_F(DefaultCostTest, NewPasswordsUseTheDefaultCost) {
  CreateUser("lee", "pw");
  json h = StoredUser("lee")["password_hash"];
  EXPECT_EQ(h["log2_n"], 14);
  EXPECT_EQ(h["r"], 8);
  EXPECT_EQ(h["p"], 1);
  EXPECT_TRUE(Login("lee", "pw").ok());
}

}  // namespace
}  // namespace coffer::userpass
