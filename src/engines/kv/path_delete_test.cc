#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kFooVersionPrefix[] = "versions/2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae/";

class DeleteTest : public KvV2Test {
 protected:
  void ThreeVersions() {
    Put("foo", {{"v", 1}});
    Put("foo", {{"v", 2}});
    Put("foo", {{"v", 3}});
  }
  json VersionsOf(const std::string& path) { return Must(Operation::kRead, "metadata/" + path).data["versions"]; }
};

TEST_F(DeleteTest, DeleteAndUndeleteChosenVersions) {
  ThreeVersions();
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(Must(Operation::kUpdate, "delete/foo", {{"versions", {1, 3}}}).Empty());
  auto versions = VersionsOf("foo");
  EXPECT_EQ(versions["1"]["deletion_time"], "2024-01-02T03:04:06.123456789Z");
  EXPECT_EQ(versions["2"]["deletion_time"], "");
  EXPECT_EQ(versions["3"]["deletion_time"], "2024-01-02T03:04:06.123456789Z");
  EXPECT_EQ(Must(Operation::kRead, "data/foo").raw_status, 404);
  EXPECT_EQ(Must(Operation::kRead, "data/foo", {{"version", 2}}).data["data"], (json{{"v", 2}}));

  EXPECT_TRUE(Must(Operation::kUpdate, "undelete/foo", {{"versions", "3"}}).Empty());
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"v", 3}}));
  EXPECT_EQ(Must(Operation::kRead, "data/foo", {{"version", 1}}).raw_status, 404);
}

TEST_F(DeleteTest, VersionListsAcceptVaultsForms) {
  ThreeVersions();
  Must(Operation::kUpdate, "delete/foo", {{"versions", "1, 2"}});
  EXPECT_NE(VersionsOf("foo")["2"]["deletion_time"], "");
  Must(Operation::kUpdate, "undelete/foo", {{"versions", json::array({"1", 2})}});
  EXPECT_EQ(VersionsOf("foo")["1"]["deletion_time"], "");
  EXPECT_EQ(VersionsOf("foo")["2"]["deletion_time"], "");
  Must(Operation::kUpdate, "delete/foo", {{"versions", 3}});
  EXPECT_NE(VersionsOf("foo")["3"]["deletion_time"], "");
}

TEST_F(DeleteTest, DestroyRemovesTheDataForGood) {
  ThreeVersions();
  EXPECT_TRUE(Must(Operation::kUpdate, "destroy/foo", {{"versions", {2}}}).Empty());
  auto keys = storage_.Keys();
  EXPECT_EQ(std::count(keys.begin(), keys.end(), std::string(kFooVersionPrefix) + "2"), 0);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), std::string(kFooVersionPrefix) + "1"), 1);
  EXPECT_EQ(VersionsOf("foo")["2"]["destroyed"], true);

  auto read = Must(Operation::kRead, "data/foo", {{"version", 2}});
  ASSERT_EQ(read.raw_status, 404);
  EXPECT_EQ(read.raw_body["data"]["data"], nullptr);
  EXPECT_EQ(read.raw_body["data"]["metadata"]["destroyed"], true);

  // Undelete cannot bring it back; a second destroy and a delete change nothing.
  Must(Operation::kUpdate, "undelete/foo", {{"versions", {2}}});
  Must(Operation::kUpdate, "destroy/foo", {{"versions", {2}}});
  EXPECT_EQ(Must(Operation::kRead, "data/foo", {{"version", 2}}).raw_status, 404);
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"v", 3}}));
}

TEST_F(DeleteTest, DestroyingTheLatestVersionMakesDataDeleteANoOp) {
  Put("foo", {{"v", 1}});
  Must(Operation::kUpdate, "destroy/foo", {{"versions", {1}}});
  auto before = Snapshot(storage_);
  Must(Operation::kDelete, "data/foo");
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(DeleteTest, UnknownSecretsAndVersionsAreIgnored) {
  EXPECT_TRUE(Must(Operation::kUpdate, "delete/nope", {{"versions", {1}}}).Empty());
  EXPECT_TRUE(Must(Operation::kUpdate, "destroy/nope", {{"versions", {1}}}).Empty());
  EXPECT_EQ(storage_.Keys(), std::vector<std::string>{"upgrade-done"});
  Put("foo", {{"v", 1}});
  Must(Operation::kUpdate, "delete/foo", {{"versions", {9}}});
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"v", 1}}));
}

TEST_F(DeleteTest, MissingVersionsUseVaultsMessages) {
  Put("foo", {{"v", 1}});
  auto before = Snapshot(storage_);
  EXPECT_EQ(Do(Operation::kUpdate, "delete/foo").status().message(), "No version number provided");
  EXPECT_EQ(Do(Operation::kUpdate, "undelete/foo", {{"versions", json::array()}}).status().message(),
            "No version number provided");
  auto destroy = Do(Operation::kUpdate, "destroy/foo", {{"versions", ""}});
  EXPECT_EQ(destroy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(destroy.status().message(), "no version number provided");
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(DeleteTest, BadVersionNumbersAreRejectedAndChangeNothing) {
  ThreeVersions();
  auto before = Snapshot(storage_);
  for (const char* endpoint : {"delete/foo", "undelete/foo", "destroy/foo"}) {
    for (const json& versions : {json::array({1, -2}), json("1,x"), json::array({1.5}), json("-1"),
                                 json::array({json::array({1})}), json(true), json::object()}) {
      SCOPED_TRACE(std::string(endpoint) + " " + versions.dump());
      auto r = Do(Operation::kUpdate, endpoint, {{"versions", versions}});
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(r.status().message(), HasSubstr("\"versions\""));
    }
  }
  EXPECT_EQ(Snapshot(storage_), before);
}

}  // namespace
}  // namespace coffer::kv
