#include "logical/inmem_storage.h"

namespace coffer::logical {

StatusOr<std::optional<std::string>> InmemStorage::Get(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status InmemStorage::Put(std::string_view key, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.insert_or_assign(std::string(key), std::string(value));
  return OkStatus();
}

Status InmemStorage::Delete(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) entries_.erase(it);
  return OkStatus();
}

StatusOr<std::vector<std::string>> InmemStorage::List(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> children;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
    std::string_view key = it->first;
    if (key.substr(0, prefix.size()) != prefix) break;
    std::string_view rest = key.substr(prefix.size());
    if (rest.empty()) continue;
    size_t slash = rest.find('/');
    std::string child(slash == std::string_view::npos ? rest : rest.substr(0, slash + 1));
    // Keys under one folder are contiguous in sorted order, so a folder repeats only
    // right after itself.
    if (children.empty() || children.back() != child) children.push_back(std::move(child));
  }
  return children;
}

Status InmemStorage::Transaction(const std::vector<TxnOp>& ops) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const TxnOp& op : ops) {
    if (op.kind == TxnOp::Kind::kPut) {
      entries_.insert_or_assign(op.key, op.value);
    } else {
      auto it = entries_.find(op.key);
      if (it != entries_.end()) entries_.erase(it);
    }
  }
  return OkStatus();
}

std::vector<std::string> InmemStorage::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(entries_.size());
  for (const auto& [key, value] : entries_) keys.push_back(key);
  return keys;
}

}  // namespace coffer::logical
