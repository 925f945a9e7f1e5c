// logical::Storage: the plaintext key/value view an engine sees. The barrier implements it
// (encrypting into physical storage) and StorageView narrows it to a prefix per mount, so an
// engine can never reach another mount's keys. Same contract as physical::Backend.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "physical/backend.h"

namespace coffer::logical {

using TxnOp = physical::TxnOp;

class Storage {
 public:
  virtual ~Storage() = default;
  virtual StatusOr<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  virtual StatusOr<std::vector<std::string>> List(std::string_view prefix) = 0;
  virtual Status Transaction(const std::vector<TxnOp>& ops) = 0;
};

// A Storage that prepends `prefix` (ending in '/') to every key of `parent`. Borrowed parent,
// which must outlive the view. List passes the prefixed prefix and returns the children as the
// parent reports them (they are relative already). A key (or list prefix, or transaction key)
// that starts with '/' or has a ".." segment is rejected with InvalidArgument before the parent
// is touched, so a view can never reach keys outside its prefix. Thread-safe if the parent is.
class StorageView : public Storage {
 public:
  StorageView(Storage* parent, std::string prefix) : parent_(parent), prefix_(std::move(prefix)) {}
  const std::string& prefix() const { return prefix_; }

  StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transaction(const std::vector<TxnOp>& ops) override;

 private:
  Status CheckKey(std::string_view key) const;
  Storage* parent_;
  std::string prefix_;
};

// Deletes every key under `prefix` ("" or ending in '/') of `storage`, walking sub-folders with
// List (used when a mount is disabled). Not atomic: on error some keys may be gone already;
// calling it again finishes the job.
Status ClearPrefix(Storage& storage, std::string_view prefix);

}  // namespace coffer::logical
