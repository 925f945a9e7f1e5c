// physical::Backend: untrusted byte storage under the barrier. Keys are '/'-separated paths;
// values are opaque bytes (ciphertext once the barrier is in front). Implementations must be
// safe for concurrent use from many threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::physical {

struct TxnOp {
  enum class Kind { kPut, kDelete };
  Kind kind;
  std::string key;
  std::string value;  // only for kPut
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The stored value, std::nullopt when absent. Errors only for I/O failures.
  virtual StatusOr<std::optional<std::string>> Get(std::string_view key) = 0;
  // Durable when it returns OK: the write survives kill -9 and power loss.
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  // Deleting an absent key is OK.
  virtual Status Delete(std::string_view key) = 0;
  // Vault semantics: the immediate children of `prefix` (which is "" or ends in '/'), sorted,
  // with the prefix stripped; a child that has descendants appears once as "name/".
  virtual StatusOr<std::vector<std::string>> List(std::string_view prefix) = 0;
  // All operations apply atomically and durably, or none does.
  virtual Status Transaction(const std::vector<TxnOp>& ops) = 0;
};

}  // namespace coffer::physical
