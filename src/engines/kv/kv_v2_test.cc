// Engine-wide KV v2 behaviour: routing of unknown paths, version pruning, delete_version_after,
// concurrency, and the atomicity of writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <nlohmann/json.hpp>
#include <thread>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

class KvV2EngineTest : public KvV2Test {
 protected:
  size_t VersionKeyCount() {
    size_t n = 0;
    for (const std::string& key : storage_.Keys()) n += key.rfind("versions/", 0) == 0 ? 1 : 0;
    return n;
  }
};

// ---- Paths outside the API ---------------------------------------------------------------------

TEST_F(KvV2EngineTest, V1StylePathsAre404WithVaultsHint) {
  struct Case {
    Operation op;
    const char* path;
    const char* subcommand;
  };
  for (const Case& c : {Case{Operation::kRead, "foo", "get"}, Case{Operation::kUpdate, "foo", "put"},
                        Case{Operation::kCreate, "a/b", "put"}, Case{Operation::kPatch, "foo", "patch"},
                        Case{Operation::kDelete, "foo", "delete"}, Case{Operation::kList, "", "list"},
                        Case{Operation::kList, "data/", "list"}, Case{Operation::kRead, "data/", "get"}}) {
    SCOPED_TRACE(c.path);
    logical::Request req = MakeRequest(c.op, c.path, {{"k", "v"}});
    auto r = backend_->HandleRequest(req);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->raw_status, 404);
    EXPECT_EQ(r->raw_body["request_id"], req.id);
    EXPECT_EQ(r->raw_body["data"], nullptr);
    EXPECT_EQ(r->raw_body["warnings"],
              json::array({std::string("Invalid path for a versioned K/V secrets engine. See the API docs for the "
                                       "appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ") +
                           c.subcommand + "' for this operation."}));
  }
  EXPECT_EQ(storage_.Keys(), std::vector<std::string>{"upgrade-done"});
}

TEST_F(KvV2EngineTest, EndpointRootsWithoutAPathAreRefused) {
  for (const char* root : {"data", "delete", "undelete", "destroy"}) {
    SCOPED_TRACE(root);
    auto r = Must(Operation::kRead, root);
    ASSERT_EQ(r.raw_status, 404);
    EXPECT_EQ(r.raw_body["warnings"],
              json::array({"Non-listing operations on the root of a K/V v2 mount are not supported."}));
  }
}

TEST_F(KvV2EngineTest, TheFactoryBuildsVersionTwo) {
  logical::BackendConfig config;
  config.storage = &storage_;
  config.options = {{"version", "2"}};
  auto backend = NewKvBackend(config);
  ASSERT_TRUE(backend.ok()) << backend.status().message();
  logical::Request req = MakeRequest(Operation::kUpdate, "data/foo", {{"data", {{"k", "v"}}}});
  auto r = (*backend)->HandleRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->data["version"], 1);
}

// ---- Pruning -------------------------------------------------------------------------------------

TEST_F(KvV2EngineTest, DefaultKeepsTenVersionsAndAdvancesOldestVersion) {
  for (int i = 1; i <= 9; ++i) Put("foo", {{"i", i}});
  EXPECT_EQ(Must(Operation::kRead, "metadata/foo").data["oldest_version"], 0);
  Put("foo", {{"i", 10}});
  EXPECT_EQ(Must(Operation::kRead, "metadata/foo").data["oldest_version"], 1);
  Put("foo", {{"i", 11}});
  auto meta = Must(Operation::kRead, "metadata/foo").data;
  EXPECT_EQ(meta["oldest_version"], 2);
  EXPECT_EQ(meta["current_version"], 11);
  EXPECT_EQ(meta["versions"].size(), 10u);
  EXPECT_FALSE(meta["versions"].contains("1"));
  EXPECT_EQ(VersionKeyCount(), 10u);
  EXPECT_EQ(Do(Operation::kRead, "data/foo", {{"version", 1}}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Must(Operation::kRead, "data/foo", {{"version", 2}}).data["data"], (json{{"i", 2}}));
}

TEST_F(KvV2EngineTest, MountMaxVersionsPrunesAndLoweringItPrunesSeveral) {
  Must(Operation::kUpdate, "config", {{"max_versions", 5}});
  for (int i = 1; i <= 5; ++i) Put("foo", {{"i", i}});
  EXPECT_EQ(VersionKeyCount(), 5u);
  Must(Operation::kUpdate, "config", {{"max_versions", 2}});
  Put("foo", {{"i", 6}});
  auto meta = Must(Operation::kRead, "metadata/foo").data;
  EXPECT_EQ(meta["oldest_version"], 5);
  EXPECT_EQ(meta["versions"].size(), 2u);
  EXPECT_TRUE(meta["versions"].contains("5"));
  EXPECT_TRUE(meta["versions"].contains("6"));
  EXPECT_EQ(VersionKeyCount(), 2u);
}

TEST_F(KvV2EngineTest, TheLargerNonZeroMaxVersionsOfMountAndKeyWins) {
  // Vault's AddVersion keeps max(key, mount) versions (see vault PR #22394's table).
  Must(Operation::kUpdate, "config", {{"max_versions", 2}});
  Must(Operation::kUpdate, "metadata/keyhigher", {{"max_versions", 4}});
  for (int i = 1; i <= 6; ++i) Put("keyhigher", {{"i", i}});
  EXPECT_EQ(Must(Operation::kRead, "metadata/keyhigher").data["versions"].size(), 4u);

  Must(Operation::kUpdate, "config", {{"max_versions", 3}});
  Must(Operation::kUpdate, "metadata/keylower", {{"max_versions", 1}});
  for (int i = 1; i <= 6; ++i) Put("keylower", {{"i", i}});
  EXPECT_EQ(Must(Operation::kRead, "metadata/keylower").data["versions"].size(), 3u);
}

// ---- delete_version_after ------------------------------------------------------------------------

TEST_F(KvV2EngineTest, DeleteVersionAfterMakesVersionsReadAsDeleted) {
  Must(Operation::kUpdate, "metadata/foo", {{"delete_version_after", "1s"}});
  json written = Put("foo", {{"k", "v"}});
  EXPECT_EQ(written["deletion_time"], "2024-01-02T03:04:06.123456789Z");
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"k", "v"}}));
  clock_.Advance(std::chrono::milliseconds(1));
  auto expired = Must(Operation::kRead, "data/foo");
  ASSERT_EQ(expired.raw_status, 404);
  EXPECT_EQ(expired.raw_body["data"]["metadata"]["deletion_time"], "2024-01-02T03:04:06.123456789Z");

  // Undelete restarts the window from now.
  clock_.Advance(std::chrono::seconds(10));
  Must(Operation::kUpdate, "undelete/foo", {{"versions", {1}}});
  auto restored = Must(Operation::kRead, "data/foo");
  EXPECT_EQ(restored.data["metadata"]["deletion_time"], "2024-01-02T03:04:17.123456789Z");
}

TEST_F(KvV2EngineTest, TheSmallerNonZeroDeleteVersionAfterWins) {
  Must(Operation::kUpdate, "config", {{"delete_version_after", "30s"}});
  Must(Operation::kUpdate, "metadata/foo", {{"delete_version_after", "60s"}});
  EXPECT_EQ(Put("foo", {{"k", "v"}})["deletion_time"], "2024-01-02T03:04:35.123456789Z");
  Must(Operation::kUpdate, "metadata/bar", {{"delete_version_after", "10s"}});
  EXPECT_EQ(Put("bar", {{"k", "v"}})["deletion_time"], "2024-01-02T03:04:15.123456789Z");
  EXPECT_EQ(Put("baz", {{"k", "v"}})["deletion_time"], "2024-01-02T03:04:35.123456789Z");
}

TEST_F(KvV2EngineTest, NegativeMountDeleteVersionAfterDisablesItForEveryKey) {
  Must(Operation::kUpdate, "metadata/foo", {{"delete_version_after", "10s"}});
  Must(Operation::kUpdate, "config", {{"delete_version_after", "-1s"}});
  EXPECT_EQ(Put("foo", {{"k", "v"}})["deletion_time"], "");
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"k", "v"}}));
}

// ---- Concurrency ---------------------------------------------------------------------------------

// Makes every read slow, so that unserialized writers would all read the same metadata before any
// of them commits: the race the per-key locks must close.
class SlowReadStorage : public logical::Storage {
 public:
  explicit SlowReadStorage(logical::Storage* base) : base_(base) {}
  StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return base_->Get(key);
  }
  Status Put(std::string_view key, std::string_view value) override { return base_->Put(key, value); }
  Status Delete(std::string_view key) override { return base_->Delete(key); }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override { return base_->List(prefix); }
  Status Transaction(const std::vector<logical::TxnOp>& ops) override { return base_->Transaction(ops); }

 private:
  logical::Storage* base_;
};

TEST_F(KvV2EngineTest, ConcurrentCasWritersHaveExactlyOneWinner) {
  Put("race", {{"n", 0}});
  SlowReadStorage slow(&storage_);
  constexpr int kWriters = 32;
  std::latch start(kWriters);
  std::atomic<int> winners{0}, mismatches{0}, others{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      logical::Request req;
      req.id = "race-" + std::to_string(i);
      req.operation = Operation::kUpdate;
      req.mount_point = "secret/";
      req.path = "secret/data/race";
      req.data = {{"options", {{"cas", 1}}}, {"data", {{"n", i + 1}}}};
      req.storage = &slow;
      start.arrive_and_wait();
      auto r = backend_->HandleRequest(req);
      if (r.ok()) {
        ++winners;
      } else if (r.status().message() == "check-and-set parameter did not match the current version") {
        ++mismatches;
      } else {
        ++others;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(mismatches.load(), kWriters - 1);
  EXPECT_EQ(others.load(), 0);
  auto meta = Must(Operation::kRead, "metadata/race").data;
  EXPECT_EQ(meta["current_version"], 2);
  EXPECT_EQ(meta["versions"].size(), 2u);
}

TEST_F(KvV2EngineTest, ConcurrentWritersWithoutCasAllLandAsDistinctVersions) {
  SlowReadStorage slow(&storage_);
  constexpr int kWriters = 16;
  std::latch start(kWriters);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      logical::Request req;
      req.operation = Operation::kUpdate;
      req.mount_point = "secret/";
      req.path = "secret/data/shared";
      req.data = {{"data", {{"n", i}}}};
      req.storage = &slow;
      start.arrive_and_wait();
      if (!backend_->HandleRequest(req).ok()) ++failures;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Must(Operation::kRead, "metadata/shared").data["current_version"], kWriters);
  EXPECT_EQ(VersionKeyCount(), 10u);  // pruned to the default 10
}

// ---- Atomicity -----------------------------------------------------------------------------------

// Counts writes and can refuse transactions, to show every write is one transaction.
class RecordingStorage : public logical::Storage {
 public:
  explicit RecordingStorage(logical::Storage* base) : base_(base) {}
  StatusOr<std::optional<std::string>> Get(std::string_view key) override { return base_->Get(key); }
  Status Put(std::string_view key, std::string_view value) override {
    ++puts;
    return base_->Put(key, value);
  }
  Status Delete(std::string_view key) override {
    ++deletes;
    return base_->Delete(key);
  }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override { return base_->List(prefix); }
  Status Transaction(const std::vector<logical::TxnOp>& ops) override {
    ++transactions;
    if (fail_transactions) return Unavailable("injected storage failure");
    return base_->Transaction(ops);
  }
  int puts = 0, deletes = 0, transactions = 0;
  bool fail_transactions = false;

 private:
  logical::Storage* base_;
};

TEST_F(KvV2EngineTest, AWriteIsOneTransactionAndAFailedOneLeavesNothingBehind) {
  Must(Operation::kUpdate, "config", {{"max_versions", 2}});
  Put("foo", {{"i", 1}});
  Put("foo", {{"i", 2}});
  RecordingStorage recording(&storage_);
  auto write = [&](int i) {
    logical::Request req = MakeRequest(Operation::kUpdate, "data/foo", {{"data", {{"i", i}}}});
    req.storage = &recording;
    return backend_->HandleRequest(req);
  };
  ASSERT_TRUE(write(3).ok());  // adds version 3 and prunes version 1
  EXPECT_EQ(recording.transactions, 1);
  EXPECT_EQ(recording.puts, 0);
  EXPECT_EQ(recording.deletes, 0);

  auto before = Snapshot(storage_);
  recording.fail_transactions = true;
  auto failed = write(4);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Snapshot(storage_), before);
  EXPECT_EQ(Must(Operation::kRead, "data/foo").data["data"], (json{{"i", 3}}));
}

}  // namespace
}  // namespace coffer::kv
