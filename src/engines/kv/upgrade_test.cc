// Upgrading KV v1 data to KV v2 (UpgradeV1ToV2 and the v2 factory).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;

// v1 secrets, including names that collide with the v2 layout and the upgrade's own keys.
const std::vector<std::pair<std::string, json>>& V1Secrets() {
  static const auto* secrets = new std::vector<std::pair<std::string, json>>{
      {"foo", {{"password", "p1"}}},
      {"dir/bar", {{"n", 2}, {"nested", {{"x", true}}}}},
      {"config", {{"max_versions", 1}}},
      {"db", {{"user", "app"}}},
      {"metadata/db", {{"note", "a v1 secret under metadata/"}}},
      {"metadata/metadata/db", {{"deeper", 1}}},
      {"upgrade-done", {{"not", "the marker"}}},
      {"upgrade-plan", {{"not", "a plan"}}},
      {"versions/x", {{"v", 1}}},
  };
  return *secrets;
}

void WriteV1(logical::Storage& storage) {
  logical::BackendConfig config;
  config.mount_path = "secret/";
  auto v1 = NewKvV1Backend(config);
  ASSERT_TRUE(v1.ok());
  for (const auto& [path, data] : V1Secrets()) {
    logical::Request req;
    req.operation = Operation::kUpdate;
    req.mount_point = "secret/";
    req.path = "secret/" + path;
    req.data = data;
    req.storage = &storage;
    ASSERT_TRUE((*v1)->HandleRequest(req).ok()) << path;
  }
}

// Fails the n-th transaction (1-based) once; 0 never fails.
class CrashingStorage : public logical::Storage {
 public:
  CrashingStorage(logical::Storage* base, int fail_at) : base_(base), fail_at_(fail_at) {}
  StatusOr<std::optional<std::string>> Get(std::string_view key) override { return base_->Get(key); }
  Status Put(std::string_view key, std::string_view value) override { return base_->Put(key, value); }
  Status Delete(std::string_view key) override { return base_->Delete(key); }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override { return base_->List(prefix); }
  Status Transaction(const std::vector<logical::TxnOp>& ops) override {
    if (++count_ == fail_at_) return Unavailable("injected crash");
    return base_->Transaction(ops);
  }

 private:
  logical::Storage* base_;
  int fail_at_;
  int count_ = 0;
};

class UpgradeTest : public KvV2Test {
 protected:
  // The fixture's backend was built on an empty view: start over from v1 data.
  void SetUp() override {
    for (const std::string& key : storage_.Keys()) ASSERT_TRUE(storage_.Delete(key).ok());
    WriteV1(storage_);
  }
};

TEST_F(UpgradeTest, TheV2FactoryUpgradesAndEverySecretReadsAsVersionOne) {
  NewBackend();
  for (const auto& [path, data] : V1Secrets()) {
    SCOPED_TRACE(path);
    auto read = Must(Operation::kRead, "data/" + path);
    EXPECT_EQ(read.data["data"], data);
    EXPECT_EQ(read.data["metadata"], (json{{"created_time", kStartTime},
                                           {"custom_metadata", nullptr},
                                           {"deletion_time", ""},
                                           {"destroyed", false},
                                           {"version", 1}}));
    auto meta = Must(Operation::kRead, "metadata/" + path).data;
    EXPECT_EQ(meta["current_version"], 1);
    EXPECT_EQ(meta["oldest_version"], 0);
  }
  // The v1 "config" secret did not become the mount config.
  EXPECT_EQ(Must(Operation::kRead, "config").data["max_versions"], 0);
  // Only v2 records and the marker remain.
  for (const std::string& key : storage_.Keys()) {
    EXPECT_TRUE(key == "upgrade-done" || key.rfind("metadata/", 0) == 0 || key.rfind("versions/", 0) == 0) << key;
  }
  EXPECT_EQ(storage_.Keys().size(), 2 * V1Secrets().size() + 1);
}

TEST_F(UpgradeTest, ListingWorksAfterTheUpgrade) {
  NewBackend();
  EXPECT_EQ(Must(Operation::kList, "metadata/").data["keys"],
            json::array({"config", "db", "dir/", "foo", "metadata/", "upgrade-done", "upgrade-plan", "versions/"}));
  EXPECT_EQ(Must(Operation::kList, "metadata/dir").data["keys"], json::array({"bar"}));
  EXPECT_EQ(Must(Operation::kList, "metadata/metadata/").data["keys"], json::array({"db", "metadata/"}));
}

TEST_F(UpgradeTest, RunningItAgainChangesNothing) {
  ASSERT_TRUE(UpgradeV1ToV2(&storage_, clock_.AsKvClock()).ok());
  auto after_first = Snapshot(storage_);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(UpgradeV1ToV2(&storage_, clock_.AsKvClock()).ok());
  NewBackend();
  EXPECT_EQ(Snapshot(storage_), after_first);
}

TEST_F(UpgradeTest, ACrashAtAnyTransactionResumesToTheSameResult) {
  logical::InmemStorage reference;
  WriteV1(reference);
  ASSERT_TRUE(UpgradeV1ToV2(&reference, clock_.AsKvClock()).ok());
  const auto expected = Snapshot(reference);
  const auto v1_data = Snapshot(storage_);

  const int transactions = static_cast<int>(V1Secrets().size()) + 1;  // one per key, one to finish
  for (int fail_at = 1; fail_at <= transactions; ++fail_at) {
    SCOPED_TRACE(fail_at);
    logical::InmemStorage storage;
    for (const auto& [key, value] : v1_data) ASSERT_TRUE(storage.Put(key, value).ok());
    CrashingStorage crashing(&storage, fail_at);
    EXPECT_EQ(UpgradeV1ToV2(&crashing, clock_.AsKvClock()).code(), StatusCode::kUnavailable);
    ASSERT_TRUE(UpgradeV1ToV2(&storage, clock_.AsKvClock()).ok());
    EXPECT_EQ(Snapshot(storage), expected);
  }
}

TEST_F(UpgradeTest, AFailedUpgradeFailsTheFactory) {
  CrashingStorage crashing(&storage_, 1);
  logical::BackendConfig config;
  config.storage = &crashing;
  config.options = {{"version", "2"}};
  EXPECT_EQ(NewKvV2Backend(config, clock_.AsKvClock()).status().code(), StatusCode::kUnavailable);
}

TEST(UpgradeEmptyTest, AnEmptyViewOnlyGetsTheMarker) {
  logical::InmemStorage storage;
  ASSERT_TRUE(UpgradeV1ToV2(&storage).ok());
  EXPECT_EQ(storage.Keys(), std::vector<std::string>{"upgrade-done"});
}

}  // namespace
}  // namespace coffer::kv
