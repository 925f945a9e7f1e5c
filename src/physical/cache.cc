#include "physical/cache.h"

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

namespace coffer::physical {
namespace {

// Above this many entries the cache is split into shards with separate locks; below it one
// shard keeps eviction order exact.
constexpr size_t kShardingThreshold = 1024;
constexpr size_t kShardCount = 16;

// What a finished write left in the inner backend for one key.
struct WriteOutcome {
  bool known = false;                     // false: the write failed, the state is unknown
  std::optional<std::string_view> value;  // when known: the value now stored, nullopt if absent
};

// One lock's worth of the cache.
//
// Consistency: a Get that misses reads the inner backend without the lock, so a write may land
// in between and the value read may already be stale when it is inserted. Two rules prevent a
// stale insert: a miss inserts only if no write to that key is in flight, and only if no write
// in this shard finished since the miss began (`epoch_`). Writes populate the cache only when no
// other write to the same key overlapped them, because overlapping writes may reach the inner
// backend in either order.
class Shard {
 public:
  explicit Shard(size_t capacity) : capacity_(capacity) {}

  // On a hit, copies the cached state into *out and returns true. On a miss returns false and
  // sets *epoch to the value to pass to FillAfterMiss.
  bool Lookup(std::string_view key, std::optional<std::string>* out, uint64_t* epoch) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      *epoch = epoch_;
      return false;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    *out = it->second->value;
    return true;
  }

  void FillAfterMiss(std::string_view key, const std::optional<std::string>& value, uint64_t epoch,
                     std::atomic<uint64_t>* evictions) {
    std::lock_guard lock(mu_);
    if (epoch != epoch_ || inflight_.find(key) != inflight_.end()) return;
    InsertLocked(key, value, evictions);
  }

  void BeginWrite(std::string_view key) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = inflight_.try_emplace(std::string(key));
    ++it->second.writers;
    if (it->second.writers > 1) it->second.contended = true;
    EraseLocked(key);
    ++epoch_;
  }

  void EndWrite(std::string_view key, const WriteOutcome& outcome,
                std::atomic<uint64_t>* evictions) {
    std::lock_guard lock(mu_);
    auto it = inflight_.find(key);
    bool contended = it->second.contended;
    if (--it->second.writers == 0) inflight_.erase(it);
    ++epoch_;
    if (outcome.known && !contended) {
      std::optional<std::string> value;
      if (outcome.value) value.emplace(*outcome.value);
      InsertLocked(key, value, evictions);
    } else {
      EraseLocked(key);
    }
  }

  size_t size() {
    std::lock_guard lock(mu_);
    return lru_.size();
  }

 private:
  struct Entry {
    std::string key;
    std::optional<std::string> value;  // nullopt: the key is known to be absent
  };
  struct Inflight {
    int writers = 0;
    bool contended = false;  // two writes to the key overlapped since writers was last 0
  };

  void InsertLocked(std::string_view key, const std::optional<std::string>& value,
                    std::atomic<uint64_t>* evictions) {
    if (capacity_ == 0) return;
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->value = value;
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.push_front(Entry{std::string(key), value});
    index_.emplace(lru_.front().key, lru_.begin());
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
      ++*evictions;
    }
  }

  void EraseLocked(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    auto entry = it->second;
    index_.erase(it);
    lru_.erase(entry);
  }

  const size_t capacity_;
  std::mutex mu_;
  std::list<Entry> lru_;  // guarded by mu_; most recently used first
  // guarded by mu_; views into the keys held by lru_ entries (list nodes never move)
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
  std::map<std::string, Inflight, std::less<>> inflight_;  // guarded by mu_
  uint64_t epoch_ = 0;  // guarded by mu_; bumped whenever a write starts or finishes
};

class CachedBackend : public Backend {
 public:
  CachedBackend(std::unique_ptr<Backend> inner, size_t max_entries) : inner_(std::move(inner)) {
    size_t shards = max_entries >= kShardingThreshold ? kShardCount : 1;
    for (size_t i = 0; i < shards; ++i) {
      // Spread the remainder so the capacities add up to max_entries exactly.
      size_t capacity = max_entries / shards + (i < max_entries % shards ? 1 : 0);
      shards_.push_back(std::make_unique<Shard>(capacity));
    }
  }

  StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    Shard& shard = ShardFor(key);
    std::optional<std::string> cached;
    uint64_t epoch = 0;
    if (shard.Lookup(key, &cached, &epoch)) {
      ++hits_;
      return cached;
    }
    ++misses_;
    auto result = inner_->Get(key);
    if (!result.ok()) return result;
    shard.FillAfterMiss(key, *result, epoch, &evictions_);
    return result;
  }

  Status Put(std::string_view key, std::string_view value) override {
    Shard& shard = ShardFor(key);
    shard.BeginWrite(key);
    Status status = inner_->Put(key, value);
    shard.EndWrite(key, WriteOutcome{status.ok(), value}, &evictions_);
    return status;
  }

  Status Delete(std::string_view key) override {
    Shard& shard = ShardFor(key);
    shard.BeginWrite(key);
    Status status = inner_->Delete(key);
    shard.EndWrite(key, WriteOutcome{status.ok(), std::nullopt}, &evictions_);
    return status;
  }

  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    return inner_->List(prefix);
  }

  Status Transaction(const std::vector<TxnOp>& ops) override {
    // The state each key is left in once the ops apply in order (the last op on a key wins).
    std::map<std::string_view, std::optional<std::string_view>> final_state;
    for (const TxnOp& op : ops) {
      final_state[op.key] =
          op.kind == TxnOp::Kind::kPut ? std::optional<std::string_view>(op.value) : std::nullopt;
    }
    for (const auto& [key, value] : final_state) ShardFor(key).BeginWrite(key);
    Status status = inner_->Transaction(ops);
    for (const auto& [key, value] : final_state) {
      ShardFor(key).EndWrite(key, WriteOutcome{status.ok(), value}, &evictions_);
    }
    return status;
  }

  CacheStats Stats() const {
    CacheStats stats;
    stats.hits = hits_.load();
    stats.misses = misses_.load();
    stats.evictions = evictions_.load();
    for (const auto& shard : shards_) stats.entries += shard->size();
    return stats;
  }

 private:
  Shard& ShardFor(std::string_view key) {
    if (shards_.size() == 1) return *shards_[0];
    return *shards_[std::hash<std::string_view>()(key) % shards_.size()];
  }

  std::unique_ptr<Backend> inner_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, evictions_{0};
};

}  // namespace

std::unique_ptr<Backend> NewCachedBackend(std::unique_ptr<Backend> inner, size_t max_entries) {
  return std::make_unique<CachedBackend>(std::move(inner), max_entries);
}

CacheStats GetCacheStats(const Backend& backend) {
  const auto* cached = dynamic_cast<const CachedBackend*>(&backend);
  return cached ? cached->Stats() : CacheStats();
}

}  // namespace coffer::physical
