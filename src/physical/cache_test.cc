#include "physical/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "physical/backend_conformance.h"
#include "physical/fault.h"
#include "physical/inmem.h"

namespace coffer::physical::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Cache, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            "cached_inmem",
            [](const std::string&) { return NewCachedBackend(NewInmemBackend(), 1000); }},
        BackendFactory{"tiny_cache",
                       [](const std::string&) { return NewCachedBackend(NewInmemBackend(), 2); }},
        BackendFactory{
            "sharded_cache",
            [](const std::string&) { return NewCachedBackend(NewInmemBackend(), 4096); }},
        BackendFactory{"disabled_cache",
                       [](const std::string&) { return NewCachedBackend(NewInmemBackend(), 0); }}),
    FactoryName);

// A cache over a fault-injecting wrapper over inmem, so tests can count what reaches storage.
class CachedBackendTest : public ::testing::Test {
 protected:
  void Build(size_t max_entries) {
    auto fault = std::make_unique<FaultInjectingBackend>(NewInmemBackend());
    fault_ = fault.get();
    cache_ = NewCachedBackend(std::move(fault), max_entries);
  }
  void SetUp() override { Build(100); }

  std::optional<std::string> Get(std::string_view key) {
    auto got = cache_->Get(key);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }
  uint64_t InnerGets() const { return fault_->counters().gets; }
  Backend& storage() { return fault_->inner(); }  // bypasses the cache and the fault wrapper

  FaultInjectingBackend* fault_ = nullptr;  // owned by cache_
  std::unique_ptr<Backend> cache_;
};

TEST_F(CachedBackendTest, RepeatedGetIsServedFromCache) {
  ASSERT_TRUE(storage().Put("k", "v").ok());
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(InnerGets(), 1u);
  CacheStats stats = GetCacheStats(*cache_);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST_F(CachedBackendTest, AbsentKeyIsCachedAndAPutReplacesTheAbsence) {
  EXPECT_EQ(Get("missing"), std::nullopt);
  EXPECT_EQ(Get("missing"), std::nullopt);
  EXPECT_EQ(InnerGets(), 1u);
  ASSERT_TRUE(cache_->Put("missing", "now here").ok());
  EXPECT_EQ(Get("missing"), "now here");
  EXPECT_EQ(InnerGets(), 1u);
}

TEST_F(CachedBackendTest, PutAndDeleteUpdateTheCache) {
  ASSERT_TRUE(cache_->Put("k", "v1").ok());
  EXPECT_EQ(Get("k"), "v1");
  ASSERT_TRUE(cache_->Put("k", "v2").ok());
  EXPECT_EQ(Get("k"), "v2");
  ASSERT_TRUE(cache_->Delete("k").ok());
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_EQ(InnerGets(), 0u);
  auto stored = storage().Get("k");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, std::nullopt);
}

TEST_F(CachedBackendTest, LeastRecentlyUsedEntryIsEvicted) {
  Build(2);
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(storage().Put(key, key).ok());
  EXPECT_EQ(Get("a"), "a");
  EXPECT_EQ(Get("b"), "b");
  EXPECT_EQ(Get("a"), "a");  // a is now more recent than b
  EXPECT_EQ(Get("c"), "c");  // evicts b
  EXPECT_EQ(InnerGets(), 3u);
  EXPECT_EQ(Get("a"), "a");
  EXPECT_EQ(InnerGets(), 3u);
  EXPECT_EQ(Get("b"), "b");
  EXPECT_EQ(InnerGets(), 4u);
  CacheStats stats = GetCacheStats(*cache_);
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.evictions, 2u);
}

TEST_F(CachedBackendTest, WriteThatFailsAfterLandingDropsTheStaleEntry) {
  ASSERT_TRUE(cache_->Put("k", "v1").ok());
  EXPECT_EQ(Get("k"), "v1");
  fault_->SetFailAfterApply(true);
  fault_->FailWrite(1);
  EXPECT_FALSE(cache_->Put("k", "v2").ok());
  // The outcome was unknown to the cache; the next read asks storage, which has v2.
  EXPECT_EQ(Get("k"), "v2");
  EXPECT_EQ(InnerGets(), 1u);
}

TEST_F(CachedBackendTest, WriteThatFailsBeforeLandingKeepsStoredValueVisible) {
  ASSERT_TRUE(cache_->Put("k", "v1").ok());
  fault_->FailWrite(1);
  EXPECT_FALSE(cache_->Delete("k").ok());
  EXPECT_EQ(Get("k"), "v1");
  EXPECT_EQ(InnerGets(), 1u);
}

TEST_F(CachedBackendTest, TransactionUpdatesEveryKeyItTouches) {
  ASSERT_TRUE(cache_->Put("a", "1").ok());
  ASSERT_TRUE(cache_->Put("b", "1").ok());
  ASSERT_TRUE(cache_
                  ->Transaction({{TxnOp::Kind::kPut, "a", "2"},
                                 {TxnOp::Kind::kDelete, "b", ""},
                                 {TxnOp::Kind::kPut, "c", "x"},
                                 {TxnOp::Kind::kPut, "c", "3"}})
                  .ok());
  EXPECT_EQ(Get("a"), "2");
  EXPECT_EQ(Get("b"), std::nullopt);
  EXPECT_EQ(Get("c"), "3");
  EXPECT_EQ(InnerGets(), 0u);
}

TEST_F(CachedBackendTest, FailedTransactionDropsEveryKeyItTouches) {
  ASSERT_TRUE(cache_->Put("a", "1").ok());
  ASSERT_TRUE(cache_->Put("b", "1").ok());
  fault_->SetFailAfterApply(true);
  fault_->FailWrite(1);
  EXPECT_FALSE(
      cache_->Transaction({{TxnOp::Kind::kPut, "a", "2"}, {TxnOp::Kind::kDelete, "b", ""}}).ok());
  EXPECT_EQ(Get("a"), "2");
  EXPECT_EQ(Get("b"), std::nullopt);
  EXPECT_EQ(InnerGets(), 2u);
}

TEST_F(CachedBackendTest, ReadErrorsAreNotCached) {
  ASSERT_TRUE(storage().Put("k", "v").ok());
  fault_->FailReads();
  auto failed = cache_->Get("k");
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  fault_->ClearFaults();
  EXPECT_EQ(Get("k"), "v");
}

TEST_F(CachedBackendTest, ListAlwaysAsksStorage) {
  ASSERT_TRUE(cache_->Put("dir/a", "v").ok());
  auto first = cache_->List("dir/");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, std::vector<std::string>{"a"});
  ASSERT_TRUE(storage().Put("dir/b", "v").ok());
  auto second = cache_->List("dir/");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fault_->counters().lists, 2u);
}

TEST_F(CachedBackendTest, ZeroEntriesDisablesCaching) {
  Build(0);
  ASSERT_TRUE(cache_->Put("k", "v").ok());
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(InnerGets(), 2u);
  EXPECT_EQ(GetCacheStats(*cache_).entries, 0u);
}

TEST_F(CachedBackendTest, StatsOfAnotherBackendAreZero) {
  auto inmem = NewInmemBackend();
  CacheStats stats = GetCacheStats(*inmem);
  EXPECT_EQ(stats.hits + stats.misses + stats.evictions + stats.entries, 0u);
}

// A pass-through backend that can hold one Get or Put after it has reached the inner backend,
// so a test can interleave a cache miss or a write with other calls deterministically.
class GatedBackend : public Backend {
 public:
  explicit GatedBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  void HoldNextGet() { Arm(&hold_get_); }
  void HoldNextPut() { Arm(&hold_put_); }
  // Blocks until a held call is waiting at the gate.
  void WaitUntilHeld() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    auto result = inner_->Get(key);
    MaybeHold(&hold_get_);
    return result;
  }
  Status Put(std::string_view key, std::string_view value) override {
    Status status = inner_->Put(key, value);
    MaybeHold(&hold_put_);
    return status;
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    return inner_->List(prefix);
  }
  Status Transaction(const std::vector<TxnOp>& ops) override { return inner_->Transaction(ops); }

 private:
  void Arm(bool* flag) {
    std::lock_guard lock(mu_);
    *flag = true;
    held_ = false;
    released_ = false;
  }
  void MaybeHold(bool* flag) {
    std::unique_lock lock(mu_);
    if (!*flag) return;
    *flag = false;
    held_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }

  std::unique_ptr<Backend> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_get_ = false;  // guarded by mu_
  bool hold_put_ = false;  // guarded by mu_
  bool held_ = false;      // guarded by mu_
  bool released_ = false;  // guarded by mu_
};

class CacheRaceTest : public ::testing::Test {
 protected:
  CacheRaceTest() {
    auto inmem = NewInmemBackend();
    storage_ = inmem.get();
    auto gated = std::make_unique<GatedBackend>(std::move(inmem));
    gate_ = gated.get();
    cache_ = NewCachedBackend(std::move(gated), 100);
  }

  std::optional<std::string> Get(std::string_view key) {
    auto got = cache_->Get(key);
    EXPECT_TRUE(got.ok());
    return got.ok() ? *got : std::nullopt;
  }

  Backend* storage_;    // owned through gate_
  GatedBackend* gate_;  // owned by cache_
  std::unique_ptr<Backend> cache_;
};

TEST_F(CacheRaceTest, MissThatReadOldValueBeforeAWriteDoesNotCacheIt) {
  ASSERT_TRUE(storage_->Put("k", "old").ok());
  gate_->HoldNextGet();
  std::optional<std::string> reader_saw;
  std::thread reader([&] { reader_saw = Get("k"); });
  gate_->WaitUntilHeld();  // the miss has read "old" from storage
  ASSERT_TRUE(cache_->Put("k", "new").ok());
  gate_->Release();
  reader.join();
  EXPECT_EQ(reader_saw, "old");
  EXPECT_EQ(Get("k"), "new");
}

TEST_F(CacheRaceTest, OverlappingWritesDoNotLeaveTheEarlierValueCached) {
  gate_->HoldNextPut();
  Status first;
  std::thread writer([&] { first = cache_->Put("k", "first"); });
  gate_->WaitUntilHeld();  // "first" is stored but its writer has not finished
  ASSERT_TRUE(cache_->Put("k", "second").ok());
  gate_->Release();
  writer.join();
  ASSERT_TRUE(first.ok());
  auto stored = storage_->Get("k");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, "second");
  EXPECT_EQ(Get("k"), "second");
}

// Racing readers and writers on a few keys, with storage slowed down to widen the windows in
// which a stale value could slip into the cache. Afterwards the cache must agree with storage.
TEST_F(CachedBackendTest, StaysCoherentUnderConcurrentReadsAndWrites) {
  Build(4);  // smaller than the key set, so evictions race too
  fault_->SetDelay(std::chrono::microseconds(30));
  constexpr int kKeys = 6;
  auto key_name = [](int k) { return "key" + std::to_string(k); };
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < 150; ++i) {
        std::string key = key_name(rng() % kKeys);
        std::string value = "w" + std::to_string(w) + "-" + std::to_string(i);
        Status status;
        switch (rng() % 3) {
          case 0:
            status = cache_->Put(key, value);
            break;
          case 1:
            status = cache_->Delete(key);
            break;
          default:
            status = cache_->Transaction({{TxnOp::Kind::kPut, key, value},
                                          {TxnOp::Kind::kPut, key_name(rng() % kKeys), value}});
        }
        if (!status.ok()) ++errors;
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(100 + r);
      while (!stop) {
        if (!cache_->Get(key_name(rng() % kKeys)).ok()) ++errors;
      }
    });
  }
  for (int w = 0; w < 3; ++w) threads[w].join();
  stop = true;
  for (size_t t = 3; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(errors.load(), 0);
  fault_->ClearFaults();
  for (int k = 0; k < kKeys; ++k) {
    auto stored = storage().Get(key_name(k));
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(Get(key_name(k)), *stored) << key_name(k);
  }
  EXPECT_LE(GetCacheStats(*cache_).entries, 4u);
}

}  // namespace
}  // namespace coffer::physical::testing
