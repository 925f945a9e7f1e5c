#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

class MetadataTest : public KvV2Test {};

TEST_F(MetadataTest, ReadShowsEveryFieldAndTheVersionHistory) {
  Put("app/db", {{"k", "v1"}});
  clock_.Advance(std::chrono::seconds(60));
  Put("app/db", {{"k", "v2"}});
  Must(Operation::kDelete, "data/app/db");

  EXPECT_EQ(Must(Operation::kRead, "metadata/app/db").data,
            (json{{"cas_required", false},
                  {"created_time", kStartTime},
                  {"current_version", 2},
                  {"custom_metadata", nullptr},
                  {"delete_version_after", "0s"},
                  {"max_versions", 0},
                  {"oldest_version", 0},
                  {"updated_time", "2024-01-02T03:05:05.123456789Z"},
                  {"versions",
                   {{"1", {{"created_time", kStartTime}, {"deletion_time", ""}, {"destroyed", false}}},
                    {"2",
                     {{"created_time", "2024-01-02T03:05:05.123456789Z"},
                      {"deletion_time", "2024-01-02T03:05:05.123456789Z"},
                      {"destroyed", false}}}}}}));
  EXPECT_EQ(Do(Operation::kRead, "metadata/app/none").status().code(), StatusCode::kNotFound);
}

TEST_F(MetadataTest, WriteCreatesMetadataWithoutVersions) {
  auto w = Must(Operation::kUpdate, "metadata/new",
                {{"max_versions", 3},
                 {"cas_required", true},
                 {"delete_version_after", "1h"},
                 {"custom_metadata", {{"owner", "ops"}, {"tier", 1}}}});
  EXPECT_TRUE(w.Empty());
  auto meta = Must(Operation::kRead, "metadata/new").data;
  EXPECT_EQ(meta["current_version"], 0);
  EXPECT_EQ(meta["versions"], json::object());
  EXPECT_EQ(meta["max_versions"], 3);
  EXPECT_EQ(meta["cas_required"], true);
  EXPECT_EQ(meta["delete_version_after"], "1h0m0s");
  EXPECT_EQ(meta["custom_metadata"], (json{{"owner", "ops"}, {"tier", "1"}}));
  EXPECT_EQ(meta["created_time"], kStartTime);
  // No version yet: data reads are 404; the first write must use cas (cas_required on the key).
  EXPECT_EQ(Do(Operation::kRead, "data/new").status().code(), StatusCode::kNotFound);
  auto v = Do(Operation::kUpdate, "data/new", {{"options", {{"cas", 0}}}, {"data", {{"k", "v"}}}});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->data["custom_metadata"], (json{{"owner", "ops"}, {"tier", "1"}}));
  EXPECT_EQ(v->data["deletion_time"], "2024-01-02T04:04:05.123456789Z");  // created + 1h
}

TEST_F(MetadataTest, WriteWithNothingToSetChangesNothing) {
  auto before = Snapshot(storage_);
  EXPECT_TRUE(Must(Operation::kUpdate, "metadata/x", json::object()).Empty());
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(MetadataTest, CustomMetadataShowsInDataReads) {
  Put("foo", {{"k", "v"}});
  Must(Operation::kUpdate, "metadata/foo", {{"custom_metadata", {{"team", "blue"}}}});
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["metadata"]["custom_metadata"], (json{{"team", "blue"}}));
}

TEST_F(MetadataTest, CasRequiredFalseUnderAMountThatRequiresItWarns) {
  Must(Operation::kUpdate, "config", {{"cas_required", true}});
  auto w = Must(Operation::kUpdate, "metadata/foo", {{"cas_required", false}});
  EXPECT_EQ(w.warnings, std::vector<std::string>{
                            "\"cas_required\" set to false, but is mandated by backend config. This value will be "
                            "ignored."});
}

TEST_F(MetadataTest, CustomMetadataLimitsAreVaultsWithItsErrorText) {
  auto before = Snapshot(storage_);
  json many = json::object();
  for (int i = 0; i < 65; ++i) many["k" + std::to_string(i)] = "v";
  auto too_many = Do(Operation::kUpdate, "metadata/foo", {{"custom_metadata", many}});
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.status().message(),
            "1 error occurred:\n\t* custom_metadata validation failed: payload must contain at most 64 keys, "
            "provided 65\n\n");

  auto bad = Do(Operation::kUpdate, "metadata/foo",
                {{"custom_metadata", {{"empty", ""}, {std::string(129, 'k'), "v"}, {"ctl", "a\nb"}}}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "3 errors occurred:\n"
            "\t* custom_metadata validation failed: value for key \"ctl\" contains unprintable characters\n"
            "\t* custom_metadata validation failed: length of value for key \"empty\" is 0 but must be 0 < "
            "len(value) <= 512\n"
            "\t* custom_metadata validation failed: length of key \"" +
                std::string(129, 'k') + "\" is 129 but must be 0 < len(key) <= 128\n\n");
  auto nested = Do(Operation::kUpdate, "metadata/foo", {{"custom_metadata", {{"k", {{"a", 1}}}}}});
  EXPECT_EQ(nested.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(nested.status().message(), HasSubstr("custom_metadata"));
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(MetadataTest, BadSettingsAreRejectedNamingTheFieldAndChangeNothing) {
  Put("foo", {{"k", "v"}});
  auto before = Snapshot(storage_);
  struct Case {
    json body;
    const char* field;
  };
  for (Operation op : {Operation::kUpdate, Operation::kPatch}) {
    for (const Case& c :
         {Case{{{"max_versions", -3}}, "max_versions"}, Case{{{"max_versions", 99999999999LL}}, "max_versions"},
          Case{{{"max_versions", true}}, "max_versions"},
          Case{{{"delete_version_after", "-1s"}}, "delete_version_after"},
          Case{{{"delete_version_after", "later"}}, "delete_version_after"},
          Case{{{"cas_required", "sometimes"}}, "cas_required"},
          Case{{{"custom_metadata", json::array({"a"})}}, "custom_metadata"}}) {
      SCOPED_TRACE(std::string(logical::OperationName(op)) + " " + c.body.dump());
      auto r = Do(op, "metadata/foo", c.body);
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(r.status().message(), HasSubstr(std::string("\"") + c.field + "\""));
    }
  }
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(MetadataTest, PatchMergesSettingsAndCustomMetadata) {
  Put("foo", {{"k", "v"}});
  Must(Operation::kUpdate, "metadata/foo", {{"max_versions", 4}, {"custom_metadata", {{"a", "1"}, {"b", "2"}}}});
  auto p = Must(Operation::kPatch, "metadata/foo",
                {{"cas_required", true}, {"custom_metadata", {{"a", nullptr}, {"c", "3"}}}});
  EXPECT_TRUE(p.Empty());
  auto meta = Must(Operation::kRead, "metadata/foo").data;
  EXPECT_EQ(meta["max_versions"], 4);
  EXPECT_EQ(meta["cas_required"], true);
  EXPECT_EQ(meta["custom_metadata"], (json{{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(meta["current_version"], 1);
}

TEST_F(MetadataTest, PatchOfMissingMetadataIsABare404) {
  auto r = Must(Operation::kPatch, "metadata/nope", {{"max_versions", 2}});
  EXPECT_EQ(r.raw_status, 404);
  EXPECT_TRUE(r.raw_body.is_null());
  EXPECT_EQ(storage_.Keys(), std::vector<std::string>{"upgrade-done"});
}

TEST_F(MetadataTest, DeleteRemovesEveryVersionAndTheMetadata) {
  Put("foo", {{"k", "v1"}});
  Put("foo", {{"k", "v2"}});
  Put("bar", {{"k", "v"}});
  auto bar_before = Must(Operation::kRead, "data/bar").data;
  EXPECT_TRUE(Must(Operation::kDelete, "metadata/foo").Empty());
  for (const std::string& key : storage_.Keys()) {
    EXPECT_EQ(key.find("metadata/foo"), std::string::npos) << key;
  }
  EXPECT_EQ(storage_.Keys().size(), 3u);  // bar's metadata and version, the upgrade marker
  EXPECT_EQ(Do(Operation::kRead, "data/foo").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Do(Operation::kRead, "metadata/foo").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Must(Operation::kRead, "data/bar").data, bar_before);
  // Writing again starts from version 1.
  EXPECT_EQ(Put("foo", {{"k", "again"}})["version"], 1);
  EXPECT_TRUE(Must(Operation::kDelete, "metadata/never").Empty());
}

TEST_F(MetadataTest, ListShowsKeysAndFolders) {
  Put("a", {{"k", "v"}});
  Put("dir/b", {{"k", "v"}});
  Put("dir/sub/c", {{"k", "v"}});
  EXPECT_EQ(Must(Operation::kList, "metadata/").data, (json{{"keys", {"a", "dir/"}}}));
  EXPECT_EQ(Must(Operation::kList, "metadata").data, (json{{"keys", {"a", "dir/"}}}));
  EXPECT_EQ(Must(Operation::kList, "metadata/dir").data, (json{{"keys", {"b", "sub/"}}}));
  EXPECT_EQ(Must(Operation::kList, "metadata/dir/").data, (json{{"keys", {"b", "sub/"}}}));
  EXPECT_EQ(Do(Operation::kList, "metadata/empty/").status().code(), StatusCode::kNotFound);
}

TEST_F(MetadataTest, ListOfAnEmptyMountIs404) {
  EXPECT_EQ(Do(Operation::kList, "metadata/").status().code(), StatusCode::kNotFound);
}

TEST_F(MetadataTest, NonListOperationsOnTheMetadataRootAreRefused) {
  auto r = Must(Operation::kRead, "metadata");
  ASSERT_EQ(r.raw_status, 404);
  EXPECT_EQ(r.raw_body["warnings"],
            json::array({"Non-listing operations on the root of a K/V v2 mount are not supported."}));
  auto w = Do(Operation::kUpdate, "metadata/", {{"max_versions", 1}});
  EXPECT_EQ(w.status().message(), "missing path");
}

}  // namespace
}  // namespace coffer::kv
