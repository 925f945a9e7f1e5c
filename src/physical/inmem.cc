#include "physical/inmem.h"

#include <map>
#include <mutex>
#include <shared_mutex>

#include "physical/list_util.h"

namespace coffer::physical {
namespace {

class InmemBackend : public Backend {
 public:
  StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    std::shared_lock lock(mu_);
    auto it = data_.find(key);
    if (it == data_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status Put(std::string_view key, std::string_view value) override {
    std::unique_lock lock(mu_);
    PutLocked(key, value);
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    std::unique_lock lock(mu_);
    DeleteLocked(key);
    return OkStatus();
  }

  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    std::vector<std::string> out;
    std::shared_lock lock(mu_);
    auto it = data_.lower_bound(prefix);
    while (it != data_.end() && it->first.starts_with(prefix)) {
      std::string_view child = internal::ChildOf(prefix, it->first);
      if (child.empty()) {  // the key equal to the prefix is not its own child
        ++it;
        continue;
      }
      out.emplace_back(child);
      if (child.ends_with('/')) {
        // Skip every descendant of this folder in one seek.
        std::string folder = std::string(prefix) + std::string(child);
        std::optional<std::string> next = internal::PrefixSuccessor(folder);
        it = next ? data_.lower_bound(*next) : data_.end();
      } else {
        ++it;
      }
    }
    return out;
  }

  Status Transaction(const std::vector<TxnOp>& ops) override {
    std::unique_lock lock(mu_);
    for (const TxnOp& op : ops) {
      if (op.kind == TxnOp::Kind::kPut) {
        PutLocked(op.key, op.value);
      } else {
        DeleteLocked(op.key);
      }
    }
    return OkStatus();
  }

 private:
  void PutLocked(std::string_view key, std::string_view value) {
    auto it = data_.find(key);
    if (it == data_.end()) {
      data_.emplace(std::string(key), std::string(value));
    } else {
      it->second.assign(value);
    }
  }

  void DeleteLocked(std::string_view key) {
    auto it = data_.find(key);
    if (it != data_.end()) data_.erase(it);
  }

  std::shared_mutex mu_;
  std::map<std::string, std::string, std::less<>> data_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Backend> NewInmemBackend() { return std::make_unique<InmemBackend>(); }

}  // namespace coffer::physical
