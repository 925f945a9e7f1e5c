// Upgrading a KV v1 view in place to the KV v2 layout (UpgradeV1ToV2 in backend.h).
//
// v1 keeps each secret at its own path, so v1 paths share the view with the v2 layout: a v1
// secret may be called "config", "upgrade-done" or "metadata/db". The upgrade therefore
//   1. lists every v1 key once and stores that list, in a safe conversion order, as a plan under
//      a top-level name no v1 key uses ("upgrade-plan", else "upgrade-plan-1", ...);
//   2. converts one secret per transaction (version data + metadata written, v1 key deleted,
//      progress counter advanced), in an order where a key that some other key's v2 records
//      would overwrite (e.g. v1 "metadata/db", which converting "db" writes) moves first;
//   3. writes the marker and removes the plan and counter in one last transaction.
// A crash anywhere resumes from the recorded progress. v1 values are always JSON objects, while
// the marker, plan and counter are not, so they can never be mistaken for one another.
#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "base/encoding.h"
#include "engines/kv/kv_v2.h"

namespace coffer::kv {

namespace {

using logical::Storage;
using logical::TxnOp;
using nlohmann::json;
using v2::UnixNanos;

// A JSON string: never a v1 value (those are objects).
constexpr char kUpgradeDoneValue[] = "\"kv v2\"";
constexpr char kPlanTag[] = "coffer kv v1 to v2 upgrade plan";
constexpr char kPlanBaseName[] = "upgrade-plan";
constexpr char kProgressBaseName[] = "upgrade-progress";

struct Plan {
  std::string key;           // where the plan is stored
  std::string progress_key;  // how many keys of `order` are converted, as a JSON number
  std::vector<std::string> order;
};

// Every key of the view, sorted.
StatusOr<std::vector<std::string>> CollectKeys(Storage& storage) {
  std::vector<std::string> keys;
  std::vector<std::string> folders{""};
  while (!folders.empty()) {
    std::string prefix = std::move(folders.back());
    folders.pop_back();
    ASSIGN_OR_RETURN(std::vector<std::string> children, storage.List(prefix));
    for (const std::string& child : children) {
      if (!child.empty() && child.back() == '/') {
        folders.push_back(prefix + child);
      } else {
        keys.push_back(prefix + child);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// A conversion order in which every key comes after the v1 keys its v2 records would overwrite.
StatusOr<std::vector<std::string>> ConversionOrder(const std::vector<std::string>& keys) {
  const std::unordered_set<std::string> pending(keys.begin(), keys.end());
  auto targets = [&](const std::string& key) {
    std::vector<std::string> out;
    for (std::string t : {v2::MetadataStorageKey(key), v2::VersionStorageKey(key, 1)}) {
      if (pending.count(t) > 0) out.push_back(std::move(t));
    }
    return out;
  };
  enum class Mark { kNew, kVisiting, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> order;
  order.reserve(keys.size());
  for (const std::string& root : keys) {
    if (marks[root] == Mark::kDone) continue;
    std::vector<std::pair<std::string, bool>> stack{{root, false}};  // (key, children pushed)
    while (!stack.empty()) {
      auto [key, expanded] = std::move(stack.back());
      stack.pop_back();
      Mark& mark = marks[key];
      if (expanded) {
        mark = Mark::kDone;
        order.push_back(key);
        continue;
      }
      if (mark == Mark::kDone) continue;
      if (mark == Mark::kVisiting) return InternalError("kv upgrade: cyclic key layout");
      mark = Mark::kVisiting;
      stack.emplace_back(key, true);
      for (std::string& t : targets(key)) {
        Mark m = marks[t];
        if (m == Mark::kVisiting) return InternalError("kv upgrade: cyclic key layout");
        if (m == Mark::kNew) stack.emplace_back(std::move(t), false);
      }
    }
  }
  return order;
}

std::string FreeName(const std::string& base, const std::set<std::string>& taken) {
  if (taken.count(base) == 0) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "-" + std::to_string(i);
    if (taken.count(name) == 0) return name;
  }
}

std::optional<Plan> DecodePlan(const std::string& key, const std::string& raw) {
  json j = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array() || j.size() != 3 || j[0] != kPlanTag || !j[1].is_string() || !j[2].is_array()) return std::nullopt;
  Plan plan;
  plan.key = key;
  plan.progress_key = j[1].get<std::string>();
  for (const json& k : j[2]) {
    if (!k.is_string()) return std::nullopt;
    StatusOr<std::string> decoded = HexDecode(k.get<std::string>());
    if (!decoded.ok()) return std::nullopt;
    plan.order.push_back(std::move(*decoded));
  }
  return plan;
}

// The plan of an interrupted upgrade, if any: a top-level "upgrade-plan*" key holding one.
StatusOr<std::optional<Plan>> FindPlan(Storage& storage) {
  ASSIGN_OR_RETURN(std::vector<std::string> top, storage.List(""));
  for (const std::string& name : top) {
    if (name.rfind(kPlanBaseName, 0) != 0 || name.back() == '/') continue;
    ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(name));
    if (!raw) continue;
    if (std::optional<Plan> plan = DecodePlan(name, *raw)) return plan;
  }
  return std::optional<Plan>();
}

StatusOr<size_t> LoadProgress(Storage& storage, const Plan& plan) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(plan.progress_key));
  if (!raw) return size_t{0};
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_number_unsigned() || j.get<uint64_t>() > plan.order.size()) {
    return DataLoss("kv upgrade: stored progress is malformed");
  }
  return static_cast<size_t>(j.get<uint64_t>());
}

// Moves one v1 secret to version 1 of a v2 secret and records progress, atomically.
Status ConvertKey(Storage& storage, const Plan& plan, size_t index, UnixNanos now) {
  const std::string& key = plan.order[index];
  std::vector<TxnOp> ops;
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(key));
  if (raw) {
    json data = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
    if (!data.is_object()) return DataLoss("kv upgrade: a stored KV v1 secret is not a JSON object");
    ASSIGN_OR_RETURN(std::string data_json, v2::DumpJson(data));
    v2::KeyMetadata meta;
    meta.key = key;
    v2::VersionMetadata vm;
    vm.created_time = now;
    v2::AddVersion(&meta, vm, v2::Config{});
    ops.push_back(TxnOp{TxnOp::Kind::kPut, v2::VersionStorageKey(key, 1), v2::EncodeVersion(data_json, now)});
    ops.push_back(TxnOp{TxnOp::Kind::kPut, v2::MetadataStorageKey(key), v2::EncodeMetadata(meta)});
    ops.push_back(TxnOp{TxnOp::Kind::kDelete, key, ""});
  }
  ops.push_back(TxnOp{TxnOp::Kind::kPut, plan.progress_key, std::to_string(index + 1)});
  return storage.Transaction(ops);
}

}  // namespace

Status UpgradeV1ToV2(Storage* storage, KvClock clock) {
  if (storage == nullptr) return InternalError("kv upgrade: no storage view");
  ASSIGN_OR_RETURN(std::optional<std::string> marker, storage->Get(v2::kUpgradeDoneKey));
  if (marker && *marker == kUpgradeDoneValue) return OkStatus();

  ASSIGN_OR_RETURN(std::optional<Plan> found, FindPlan(*storage));
  Plan plan;
  if (found) {
    plan = std::move(*found);
  } else {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, CollectKeys(*storage));
    if (keys.empty()) return storage->Put(v2::kUpgradeDoneKey, kUpgradeDoneValue);
    ASSIGN_OR_RETURN(plan.order, ConversionOrder(keys));
    const std::set<std::string> taken(keys.begin(), keys.end());
    plan.key = FreeName(kPlanBaseName, taken);
    plan.progress_key = FreeName(kProgressBaseName, taken);
    // Key names are stored hex-encoded: they are bytes, not necessarily valid UTF-8.
    json names = json::array();
    for (const std::string& key : plan.order) names.push_back(HexEncode(key));
    RETURN_IF_ERROR(storage->Put(plan.key, json::array({kPlanTag, plan.progress_key, std::move(names)}).dump()));
  }

  ASSIGN_OR_RETURN(size_t done, LoadProgress(*storage, plan));
  v2::Store store(std::move(clock));
  for (size_t i = done; i < plan.order.size(); ++i) {
    RETURN_IF_ERROR(ConvertKey(*storage, plan, i, store.Now()));
  }
  return storage->Transaction({TxnOp{TxnOp::Kind::kPut, v2::kUpgradeDoneKey, kUpgradeDoneValue},
                               TxnOp{TxnOp::Kind::kDelete, plan.key, ""},
                               TxnOp{TxnOp::Kind::kDelete, plan.progress_key, ""}});
}

}  // namespace coffer::kv
