#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kSha256Foo[] = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

class DataTest : public KvV2Test {};

TEST_F(DataTest, WriteReturnsVersionMetadataAndReadReturnsDataWithIt) {
  json written = Put("foo", {{"password", "hunter2"}, {"nested", {{"n", 1}}}});
  EXPECT_EQ(written, (json{{"created_time", kStartTime},
                           {"custom_metadata", nullptr},
                           {"deletion_time", ""},
                           {"destroyed", false},
                           {"version", 1}}));

  auto read = Must(Operation::kRead, "data/foo");
  EXPECT_EQ(read.data, (json{{"data", {{"password", "hunter2"}, {"nested", {{"n", 1}}}}}, {"metadata", written}}));
  EXPECT_FALSE(read.raw_status.has_value());
}

TEST_F(DataTest, StorageLayoutIsMetadataVersionsAndConfig) {
  Put("foo", {{"k", "v"}});
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"max_versions", 5}}).ok());
  EXPECT_THAT(storage_.Keys(), ::testing::ElementsAre("config", "metadata/foo", "upgrade-done",
                                                      std::string("versions/") + kSha256Foo + "/1"));
}

TEST_F(DataTest, ReadsSpliceTheStoredDataAndFallBackToParsingOtherShapes) {
  Put("foo", {{"b", "x"}, {"a", {{"z", 1}, {"y", json::array({1.5, nullptr})}}}});
  logical::Request req = MakeRequest(Operation::kRead, "data/foo", json::object());
  auto spliced = backend_->HandleRequest(req);
  ASSERT_TRUE(spliced.ok());
  EXPECT_TRUE(spliced->data.is_null());
  EXPECT_THAT(spliced->raw_data, HasSubstr(R"({"data":{"a":{"y":[1.5,null],"z":1},"b":"x"},"metadata":{)"));

  // A version record of another shape (whitespace, keys in another order) is parsed instead.
  const std::string version_key = "versions/" + std::string(kSha256Foo) + "/1";
  ASSERT_TRUE(storage_.Get(version_key)->has_value());
  ASSERT_TRUE(storage_.Put(version_key, R"({"data": {"k": "v", "a": 1}, "created_time": 5})").ok());
  auto parsed = Must(Operation::kRead, "data/foo");  // Must checks raw_data == Dump(parsed data)
  EXPECT_EQ(parsed.data["data"], (json{{"a", 1}, {"k", "v"}}));
  ASSERT_TRUE(storage_.Put(version_key, R"({"created_time":5,"data":{"k":"v","a":1}})").ok());
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"a", 1}, {"k", "v"}}));
  // A corrupt record stays an error.
  ASSERT_TRUE(storage_.Put(version_key, R"({"created_time":5,"data":{"k":tru}})").ok());
  EXPECT_FALSE(Do(Operation::kRead, "data/foo").ok());
}

TEST_F(DataTest, ReadsAChosenVersionFromTheQueryString) {
  Put("foo", {{"v", "one"}});
  clock_.Advance(std::chrono::seconds(1));
  Put("foo", {{"v", "two"}});

  auto latest = Must(Operation::kRead, "data/foo");
  EXPECT_EQ(latest.data["data"], (json{{"v", "two"}}));
  EXPECT_EQ(latest.data["metadata"]["version"], 2);
  EXPECT_EQ(latest.data["metadata"]["created_time"], "2024-01-02T03:04:06.123456789Z");

  auto first = Must(Operation::kRead, "data/foo", {{"version", "1"}});  // query values are strings
  EXPECT_EQ(first.data["data"], (json{{"v", "one"}}));
  EXPECT_EQ(first.data["metadata"]["version"], 1);

  auto zero = Must(Operation::kRead, "data/foo", {{"version", 0}});  // 0 means latest, as in Vault
  EXPECT_EQ(zero.data["metadata"]["version"], 2);
}

TEST_F(DataTest, MissingSecretOrVersionIsAPlainNotFound) {
  auto missing = Do(Operation::kRead, "data/nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "");

  Put("foo", {{"k", "v"}});
  auto beyond = Do(Operation::kRead, "data/foo", {{"version", 7}});
  EXPECT_EQ(beyond.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(beyond.status().message(), "");
}

TEST_F(DataTest, DeletedVersionIs404WithTheEnvelopeNullDataAndMetadata) {
  Put("foo", {{"k", "v"}});
  clock_.Advance(std::chrono::milliseconds(1500));
  auto del = Must(Operation::kDelete, "data/foo");
  EXPECT_TRUE(del.Empty());  // 204

  logical::Request req = MakeRequest(Operation::kRead, "data/foo", json::object());
  auto read = backend_->HandleRequest(req);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->raw_status, 404);
  EXPECT_EQ(read->raw_body, (json{{"request_id", req.id},
                                  {"lease_id", ""},
                                  {"renewable", false},
                                  {"lease_duration", 0},
                                  {"data",
                                   {{"data", nullptr},
                                    {"metadata",
                                     {{"created_time", kStartTime},
                                      {"custom_metadata", nullptr},
                                      {"deletion_time", "2024-01-02T03:04:06.623456789Z"},
                                      {"destroyed", false},
                                      {"version", 1}}}}},
                                  {"wrap_info", nullptr},
                                  {"warnings", nullptr},
                                  {"auth", nullptr},
                                  {"mount_type", ""}}));
}

TEST_F(DataTest, DeleteMarksOnlyTheLatestVersionAndIsIdempotent) {
  Put("foo", {{"v", 1}});
  Put("foo", {{"v", 2}});
  Must(Operation::kDelete, "data/foo");
  auto first_delete = Snapshot(storage_);
  clock_.Advance(std::chrono::seconds(5));
  Must(Operation::kDelete, "data/foo");  // already deleted: nothing changes
  EXPECT_EQ(Snapshot(storage_), first_delete);

  EXPECT_EQ(Must(Operation::kRead, "data/foo").raw_status, 404);
  auto v1 = Must(Operation::kRead, "data/foo", {{"version", 1}});
  EXPECT_EQ(v1.data["data"], (json{{"v", 1}}));

  EXPECT_TRUE(Must(Operation::kDelete, "data/never-written").Empty());
}

TEST_F(DataTest, CasZeroCreatesOnlyWhenAbsent) {
  auto created = Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", 0}}}, {"data", {{"k", "v1"}}}});
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->data["version"], 1);

  auto before = Snapshot(storage_);
  auto again = Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", 0}}}, {"data", {{"k", "v2"}}}});
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.status().message(), "check-and-set parameter did not match the current version");
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(DataTest, CasMustMatchTheCurrentVersion) {
  Put("foo", {{"k", "v1"}});
  auto stale = Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", 5}}}, {"data", {{"k", "x"}}}});
  EXPECT_EQ(stale.status().message(), "check-and-set parameter did not match the current version");
  auto good = Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", "1"}}}, {"data", {{"k", "v2"}}}});
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->data["version"], 2);
  auto garbage = Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", "two"}}}, {"data", {{"k", "x"}}}});
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(garbage.status().message(), "error parsing check-and-set parameter");
}

TEST_F(DataTest, CasRequiredByTheMountConfig) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"cas_required", true}}).ok());
  auto before = Snapshot(storage_);
  auto no_cas = Do(Operation::kUpdate, "data/foo", {{"data", {{"k", "v"}}}});
  EXPECT_EQ(no_cas.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_cas.status().message(), "check-and-set parameter required for this call");
  EXPECT_EQ(Snapshot(storage_), before);
  EXPECT_TRUE(Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", 0}}}, {"data", {{"k", "v"}}}}).ok());
}

TEST_F(DataTest, CasRequiredByTheKeyMetadata) {
  Put("foo", {{"k", "v"}});
  Put("bar", {{"k", "v"}});
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/foo", {{"cas_required", true}}).ok());
  EXPECT_EQ(Do(Operation::kUpdate, "data/foo", {{"data", {{"k", "v2"}}}}).status().message(),
            "check-and-set parameter required for this call");
  EXPECT_EQ(Do(Operation::kPatch, "data/foo", {{"data", {{"k", "v2"}}}}).status().message(),
            "check-and-set parameter required for this call");
  EXPECT_TRUE(Do(Operation::kUpdate, "data/bar", {{"data", {{"k", "v2"}}}}).ok());  // other keys unaffected
  EXPECT_TRUE(Do(Operation::kUpdate, "data/foo", {{"options", {{"cas", 1}}}, {"data", {{"k", "v2"}}}}).ok());
}

TEST_F(DataTest, WriteWithoutDataIsRejectedAndStoresNothing) {
  auto before = Snapshot(storage_);
  auto r = Do(Operation::kUpdate, "data/foo", {{"k", "v"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "no data provided");
  auto not_object = Do(Operation::kUpdate, "data/foo", {{"data", json::array({1, 2})}});
  EXPECT_EQ(not_object.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(not_object.status().message(), HasSubstr("\"data\""));
  auto bad_options = Do(Operation::kUpdate, "data/foo", {{"options", 3}, {"data", {{"k", "v"}}}});
  EXPECT_EQ(bad_options.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_options.status().message(), HasSubstr("\"options\""));
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(DataTest, InvalidUtf8InDataIsAClientError) {
  auto r = Do(Operation::kUpdate, "data/foo", {{"data", {{"k", std::string("\xff\xfe")}}}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("UTF-8"));
  EXPECT_EQ(Do(Operation::kRead, "data/foo").status().code(), StatusCode::kNotFound);
}

TEST_F(DataTest, BadVersionParameterIsRejected) {
  Put("foo", {{"k", "v"}});
  auto negative = Do(Operation::kRead, "data/foo", {{"version", "-1"}});
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().message(), HasSubstr("\"version\""));
  auto text = Do(Operation::kRead, "data/foo", {{"version", "latest"}});
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("\"version\""));
}

TEST_F(DataTest, PatchAppliesAJsonMergePatchAsANewVersion) {
  Put("foo", {{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"keep", "x"}});
  clock_.Advance(std::chrono::seconds(2));
  auto patched =
      Must(Operation::kPatch, "data/foo", {{"data", {{"b", {{"c", nullptr}, {"e", 4}}}, {"a", nullptr}, {"f", 5}}}});
  EXPECT_EQ(patched.data["version"], 2);
  EXPECT_EQ(patched.data["created_time"], "2024-01-02T03:04:07.123456789Z");
  auto read = Must(Operation::kRead, "data/foo");
  EXPECT_EQ(read.data["data"], (json{{"b", {{"d", 3}, {"e", 4}}}, {"f", 5}, {"keep", "x"}}));
  auto v1 = Must(Operation::kRead, "data/foo", {{"version", 1}});
  EXPECT_EQ(v1.data["data"], (json{{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"keep", "x"}}));
}

TEST_F(DataTest, PatchHonoursCas) {
  Put("foo", {{"a", 1}});
  auto stale = Do(Operation::kPatch, "data/foo", {{"options", {{"cas", 0}}}, {"data", {{"a", 2}}}});
  EXPECT_EQ(stale.status().message(), "check-and-set parameter did not match the current version");
  auto good = Do(Operation::kPatch, "data/foo", {{"options", {{"cas", 1}}}, {"data", {{"a", 2}}}});
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->data["version"], 2);
}

TEST_F(DataTest, PatchOfAMissingSecretIsABare404) {
  auto r = Must(Operation::kPatch, "data/nope", {{"data", {{"a", 1}}}});
  EXPECT_EQ(r.raw_status, 404);
  EXPECT_TRUE(r.raw_body.is_null());
  EXPECT_TRUE(storage_.Keys() == std::vector<std::string>{"upgrade-done"});
  auto no_data = Do(Operation::kPatch, "data/nope", json::object());
  EXPECT_EQ(no_data.status().message(), "no data provided");
}

TEST_F(DataTest, PatchOfADeletedLatestVersionIs404WithItsMetadata) {
  Put("foo", {{"a", 1}});
  Must(Operation::kDelete, "data/foo");
  auto before = Snapshot(storage_);
  auto r = Must(Operation::kPatch, "data/foo", {{"data", {{"a", 2}}}});
  ASSERT_EQ(r.raw_status, 404);
  EXPECT_EQ(r.raw_body["data"], (json{{"created_time", kStartTime},
                                      {"custom_metadata", nullptr},
                                      {"deletion_time", kStartTime},
                                      {"destroyed", false},
                                      {"version", 1}}));
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(DataTest, PathsEndingInSlashAreNotSecrets) {
  auto r = Must(Operation::kRead, "data/foo/");
  ASSERT_EQ(r.raw_status, 404);
  EXPECT_THAT(r.raw_body["warnings"][0].get<std::string>(),
              HasSubstr("Invalid path for a versioned K/V secrets engine"));
  auto w = Must(Operation::kUpdate, "data/foo/", {{"data", {{"k", "v"}}}});
  EXPECT_EQ(w.raw_status, 404);
  EXPECT_EQ(storage_.Keys(), std::vector<std::string>{"upgrade-done"});
}

TEST_F(DataTest, ExistenceCheckFollowsTheMetadata) {
  logical::Request req = MakeRequest(Operation::kUpdate, "data/foo", {{"data", {{"k", "v"}}}});
  auto before = backend_->ExistenceCheck(req);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, std::optional<bool>(false));
  Put("foo", {{"k", "v"}});
  auto after = backend_->ExistenceCheck(req);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, std::optional<bool>(true));
}

TEST_F(DataTest, UnknownBodyFieldsAreWarnedAbout) {
  auto r = Must(Operation::kUpdate, "data/foo", {{"data", {{"k", "v"}}}, {"extra", 1}});
  EXPECT_EQ(r.warnings, std::vector<std::string>{"Endpoint ignored these unrecognized parameters: [extra]"});
}

}  // namespace
}  // namespace coffer::kv
