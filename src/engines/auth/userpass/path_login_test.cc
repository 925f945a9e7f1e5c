#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "engines/auth/userpass/test_util.h"

namespace coffer::userpass {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class LoginTest : public UserpassTest {};

TEST_F(LoginTest, SuccessReturnsAuthWithTheUsersTokenSettings) {
  CreateUser("Alice", "wonderland",
             {{"token_policies", "dev,ops"},
              {"token_ttl", "1h"},
              {"token_max_ttl", "2h"},
              {"token_explicit_max_ttl", "3h"},
              {"token_period", 0},
              {"token_num_uses", 7},
              {"token_bound_cidrs", "127.0.0.0/8"},
              {"token_no_default_policy", true},
              {"token_type", "service"}});
  auto r = Login("ALICE", "wonderland");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->data.is_null());
  ASSERT_TRUE(r->login.has_value());
  const logical::Auth& auth = *r->login;
  EXPECT_EQ(auth.policies, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(auth.metadata, (std::map<std::string, std::string>{{"username", "alice"}}));
  EXPECT_EQ(auth.display_name, "alice");
  EXPECT_EQ(auth.alias.name, "alice");
  EXPECT_EQ(auth.ttl, 3600);
  EXPECT_EQ(auth.max_ttl, 7200);
  EXPECT_EQ(auth.explicit_max_ttl, 10800);
  EXPECT_EQ(auth.period, 0);
  EXPECT_EQ(auth.num_uses, 7);
  EXPECT_EQ(auth.bound_cidrs, (std::vector<std::string>{"127.0.0.0/8"}));
  EXPECT_TRUE(auth.no_default_policy);
  EXPECT_TRUE(auth.renewable);
  EXPECT_EQ(auth.token_type, "service");
}

TEST_F(LoginTest, PeriodicUserAndDefaults) {
  CreateUser("bob", "pw", {{"token_period", "24h"}});
  auto r = Login("bob", "pw");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->login->period, 86400);
  EXPECT_TRUE(r->login->policies.empty());
  EXPECT_FALSE(r->login->no_default_policy);
  EXPECT_EQ(r->login->token_type, "default");
  EXPECT_TRUE(r->login->bound_cidrs.empty());
}

TEST_F(LoginTest, WrongPasswordAndUnknownUserAreIndistinguishable) {
  CreateUser("carol", "right-password");
  auto wrong = Login("carol", "wrong-password");
  auto unknown = Login("nobody", "wrong-password");
  auto invalid_name = Login("-not-a-name-", "wrong-password");
  auto case_wrong = Login("carol", "RIGHT-PASSWORD");
  for (const auto* r : {&wrong, &unknown, &invalid_name, &case_wrong}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r->status().message(), "invalid username or password");
    EXPECT_THAT(r->status().message(), Not(HasSubstr("password\"")));
  }
  EXPECT_TRUE(Login("carol", "right-password").ok());
}

TEST_F(LoginTest, ErrorsNeverEchoThePassword) {
  CreateUser("dora", "pw");
  const std::string secret = "S3cr3t-Attempt-xyz";
  for (const std::string& name : {std::string("dora"), std::string("ghost"), std::string("bad$name")}) {
    auto r = Login(name, secret);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), Not(HasSubstr(secret)));
  }
}

TEST_F(LoginTest, MissingPasswordIs400NamingIt) {
  CreateUser("erin", "pw");
  for (const json& body : {json::object(), json{{"password", ""}}}) {
    auto r = Do(Operation::kUpdate, "login/erin", body);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "missing password");
  }
  auto r = Do(Operation::kUpdate, "login/erin", {{"password", json::object()}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("\"password\""));
  EXPECT_EQ(Do(Operation::kRead, "login/erin").status().code(), StatusCode::kUnsupportedOperation);
}

TEST_F(LoginTest, BoundCidrsRefuseLoginsFromElsewhere) {
  CreateUser("fay", "pw", {{"token_bound_cidrs", "10.0.0.0/8,2001:db8::/32"}});
  EXPECT_TRUE(Login("fay", "pw", "10.1.2.3:5555").ok());
  EXPECT_TRUE(Login("fay", "pw", "10.1.2.3").ok());
  EXPECT_TRUE(Login("fay", "pw", "[2001:db8::7]:5555").ok());
  for (const char* remote : {"127.0.0.1:5555", "11.0.0.1:80", "[::1]:5555", "", "garbage"}) {
    SCOPED_TRACE(remote);
    auto r = Login("fay", "pw", remote);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  }
  // The password is checked first, as Vault does: a wrong one is the usual 400.
  auto wrong = Login("fay", "nope", "127.0.0.1:5555");
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(), "invalid username or password");
}

TEST_F(LoginTest, DeprecatedBoundCidrsAlsoBindTheLogin) {
  CreateUser("gus", "pw", {{"bound_cidrs", "192.168.1.0/24"}});
  EXPECT_EQ(Login("gus", "pw", "127.0.0.1:1").status().code(), StatusCode::kPermissionDenied);
  auto ok = Login("gus", "pw", "192.168.1.9:1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->login->bound_cidrs, (std::vector<std::string>{"192.168.1.0/24"}));
}

TEST_F(LoginTest, OnlyLoginPathsAreUnauthenticated) {
  EXPECT_TRUE(backend_->IsUnauthenticated("login/alice"));
  EXPECT_TRUE(backend_->IsUnauthenticated("login/"));
  EXPECT_FALSE(backend_->IsUnauthenticated("users/alice"));
  EXPECT_FALSE(backend_->IsUnauthenticated("users/"));
  EXPECT_FALSE(backend_->IsUnauthenticated("login"));
}

TEST_F(LoginTest, LoginsReadButNeverWriteStorage) {
  CreateUser("hal", "pw");
  const auto before = Snapshot();
  EXPECT_TRUE(Login("hal", "pw").ok());
  EXPECT_FALSE(Login("hal", "no").ok());
  EXPECT_FALSE(Login("ghost", "no").ok());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(LoginTest, CorruptRecordIsAnErrorNotALogin) {
  ASSERT_TRUE(storage_.Put("user/ivy", R"({"password_hash": {"algorithm": "md5"}})").ok());
  auto r = Login("ivy", "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(storage_.Put("user/ivy", "not json").ok());
  EXPECT_EQ(Login("ivy", "pw").status().code(), StatusCode::kDataLoss);
  // A record without a hash never logs in.
  ASSERT_TRUE(storage_.Put("user/ivy", "{}").ok());
  EXPECT_EQ(Login("ivy", "").status().message(), "missing password");
  EXPECT_EQ(Login("ivy", "anything").status().message(), "invalid username or password");
}

// Concurrent logins and password changes: every login either succeeds with the old or the new
// password; nothing crashes or corrupts the record.
TEST_F(LoginTest, ConcurrentLoginsAndWrites) {
  CreateUser("jo", "pw-0");
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (t == 0) {
          auto req =
              MakeRequest(Operation::kUpdate, "users/jo/password", {{"password", "pw-" + std::to_string(i % 2)}});
          if (!backend_->HandleRequest(req).ok()) ++bad;
        } else {
          auto req = MakeRequest(Operation::kUpdate, "login/jo", {{"password", "pw-0"}});
          auto r = backend_->HandleRequest(req);
          if (!r.ok() && r.status().message() != "invalid username or password") ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_TRUE(Login("jo", "pw-0").ok());
}

// Both failures cost one hash: an unknown user is checked against the dummy record. With a cost
// of a few ms per hash, skipping the hash would make one median hundreds of times the other.
class LoginTimingTest : public UserpassTest {
 protected:
  LoginTimingTest() : UserpassTest(ScryptParams{.log2_n = 11, .r = 8, .p = 1}) {}
};

TEST_F(LoginTimingTest, UnknownUserCostsAsMuchAsAWrongPassword) {
  CreateUser("kate", "right");
  auto median_ms = [&](const std::string& name) {
    std::vector<double> ms;
    for (int i = 0; i < 7; ++i) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_FALSE(Login(name, "wrong").ok());
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  double known = 0, unknown = 0;
  for (int round = 0; round < 2; ++round) {  // interleaved, so load changes hit both
    known += median_ms("kate");
    unknown += median_ms("nobody");
  }
  EXPECT_LT(std::max(known, unknown), 3 * std::min(known, unknown)) << known << " vs " << unknown;
}

}  // namespace
}  // namespace coffer::userpass
