#include <gmock/gmock.h>

#include "engines/auth/approle/approle_test_util.h"

namespace coffer::approle {
namespace {

using ::testing::HasSubstr;

TEST_F(AppRoleTest, TidyRemovesExpiredSecretIdsAndDanglingAccessors) {
  MakeRole("r", {{"secret_id_ttl", 60}});
  json short_lived = MakeSecretId("r");
  json long_lived = MakeSecretId("r", {{"ttl", 60}});
  Advance(30);
  json fresh = MakeSecretId("r");
  // A dangling accessor index entry (as a crash between two non-transactional writes would leave).
  ASSERT_TRUE(storage_.Put("accessor/deadbeef", R"({"secret_id_hmac":"00","role_name_hmac":"11"})").ok());
  Advance(30);  // the first two expire now; `fresh` has 30 s left

  auto r = Write("tidy/secret-id");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->raw_status.has_value());
  EXPECT_EQ(*r->raw_status, 202);
  EXPECT_THAT(
      r->raw_body["warnings"][0].get<std::string>(),
      HasSubstr("removed 2 expired secret ID(s), 0 secret ID(s) without an accessor and 1 dangling accessor entry"));

  auto list = Call(Operation::kList, "role/r/secret-id");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->DataJson()["keys"], json({fresh["secret_id_accessor"]}));
  int accessors = 0;
  for (const auto& k : storage_.Keys()) accessors += k.rfind("accessor/", 0) == 0;
  EXPECT_EQ(accessors, 1);
  // Nothing left to do the second time.
  auto again = Write("tidy/secret-id");
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->raw_body["warnings"][0].get<std::string>(), HasSubstr("removed 0 expired"));
}

}  // namespace
}  // namespace coffer::approle
