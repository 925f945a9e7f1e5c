#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

class SubkeysTest : public KvV2Test {
 protected:
  void SetUp() override {
    Put("foo", {{"foo", "abc"},
                {"bar", {{"baz", "def"}, {"empty", json::object()}}},
                {"quux", {{"a", {{"b", 1}}}}},
                {"list", json::array({1, 2})}});
  }
};

TEST_F(SubkeysTest, LeavesBecomeNullAtAnyDepth) {
  auto r = Must(Operation::kRead, "subkeys/foo");
  EXPECT_EQ(r.data["subkeys"], (json{{"foo", nullptr},
                                     {"bar", {{"baz", nullptr}, {"empty", nullptr}}},
                                     {"quux", {{"a", {{"b", nullptr}}}}},
                                     {"list", nullptr}}));
  EXPECT_EQ(r.data["metadata"], (json{{"created_time", kStartTime},
                                      {"custom_metadata", nullptr},
                                      {"deletion_time", ""},
                                      {"destroyed", false},
                                      {"version", 1}}));
}

TEST_F(SubkeysTest, DepthCutsTheTree) {
  EXPECT_EQ(Must(Operation::kRead, "subkeys/foo", {{"depth", "1"}}).data["subkeys"],
            (json{{"foo", nullptr}, {"bar", nullptr}, {"quux", nullptr}, {"list", nullptr}}));
  EXPECT_EQ(Must(Operation::kRead, "subkeys/foo", {{"depth", 2}}).data["subkeys"],
            (json{{"foo", nullptr},
                  {"bar", {{"baz", nullptr}, {"empty", nullptr}}},
                  {"quux", {{"a", nullptr}}},
                  {"list", nullptr}}));
}

TEST_F(SubkeysTest, ChosenVersionAndItsMetadata) {
  Put("foo", {{"only", "x"}});
  auto v1 = Must(Operation::kRead, "subkeys/foo", {{"version", 1}});
  EXPECT_TRUE(v1.data["subkeys"].contains("quux"));
  EXPECT_EQ(v1.data["metadata"]["version"], 1);
  auto latest = Must(Operation::kRead, "subkeys/foo");
  EXPECT_EQ(latest.data["subkeys"], (json{{"only", nullptr}}));
  EXPECT_EQ(latest.data["metadata"]["version"], 2);
}

TEST_F(SubkeysTest, DeletedVersionIs404WithNullSubkeys) {
  Must(Operation::kDelete, "data/foo");
  auto r = Must(Operation::kRead, "subkeys/foo");
  ASSERT_EQ(r.raw_status, 404);
  EXPECT_EQ(r.raw_body["data"]["subkeys"], nullptr);
  EXPECT_EQ(r.raw_body["data"]["metadata"]["deletion_time"], kStartTime);
}

TEST_F(SubkeysTest, MissingAndBadParameters) {
  EXPECT_EQ(Do(Operation::kRead, "subkeys/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Do(Operation::kRead, "subkeys/foo", {{"version", 5}}).status().code(), StatusCode::kNotFound);
  auto depth = Do(Operation::kRead, "subkeys/foo", {{"depth", "-1"}});
  EXPECT_EQ(depth.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(depth.status().message(), HasSubstr("\"depth\""));
  auto version = Do(Operation::kRead, "subkeys/foo", {{"version", "x"}});
  EXPECT_EQ(version.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(version.status().message(), HasSubstr("\"version\""));
}

}  // namespace
}  // namespace coffer::kv
