#include "logical/storage.h"

#include <string>

namespace coffer::logical {

namespace {

// Keys are paths chosen by clients ("secret/<anything>"), never secret values, so naming
// them in an error is safe; long ones are cut to keep messages readable.
std::string ShortKey(std::string_view key) {
  constexpr size_t kMax = 64;
  if (key.size() <= kMax) return std::string(key);
  return std::string(key.substr(0, kMax)) + "...";
}

bool HasDotDotSegment(std::string_view key) {
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    if (key.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

Status StorageView::CheckKey(std::string_view key) const {
  if (!key.empty() && key.front() == '/') {
    return InvalidArgument("invalid path \"" + ShortKey(key) + "\": must not start with '/'");
  }
  if (HasDotDotSegment(key)) {
    return InvalidArgument("invalid path \"" + ShortKey(key) + "\": must not contain \"..\" segments");
  }
  return OkStatus();
}

StatusOr<std::optional<std::string>> StorageView::Get(std::string_view key) {
  RETURN_IF_ERROR(CheckKey(key));
  return parent_->Get(prefix_ + std::string(key));
}

Status StorageView::Put(std::string_view key, std::string_view value) {
  RETURN_IF_ERROR(CheckKey(key));
  return parent_->Put(prefix_ + std::string(key), value);
}

Status StorageView::Delete(std::string_view key) {
  RETURN_IF_ERROR(CheckKey(key));
  return parent_->Delete(prefix_ + std::string(key));
}

StatusOr<std::vector<std::string>> StorageView::List(std::string_view prefix) {
  RETURN_IF_ERROR(CheckKey(prefix));
  // Children come back relative to the listed prefix, so they need no rewriting.
  return parent_->List(prefix_ + std::string(prefix));
}

Status StorageView::Transaction(const std::vector<TxnOp>& ops) {
  std::vector<TxnOp> prefixed;
  prefixed.reserve(ops.size());
  for (const TxnOp& op : ops) {
    RETURN_IF_ERROR(CheckKey(op.key));
    prefixed.push_back(TxnOp{op.kind, prefix_ + op.key, op.value});
  }
  return parent_->Transaction(prefixed);
}

Status ClearPrefix(Storage& storage, std::string_view prefix) {
  ASSIGN_OR_RETURN(std::vector<std::string> children, storage.List(prefix));
  for (const std::string& child : children) {
    std::string key = std::string(prefix) + child;
    if (!child.empty() && child.back() == '/') {
      RETURN_IF_ERROR(ClearPrefix(storage, key));
    } else {
      RETURN_IF_ERROR(storage.Delete(key));
    }
  }
  return OkStatus();
}

}  // namespace coffer::logical
