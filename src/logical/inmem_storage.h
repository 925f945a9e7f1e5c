// logical::InmemStorage: a map-backed Storage for tests of engines and the framework. Same
// contract as physical::Backend (List returns sorted immediate children, folders once as
// "name/"; Transaction is all-or-nothing). Thread-safe. Holds plaintext: never use it to store
// real secrets outside tests and `-dev` experiments.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "logical/storage.h"

namespace coffer::logical {

class InmemStorage : public Storage {
 public:
  StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transaction(const std::vector<TxnOp>& ops) override;

  // Every stored key, sorted: lets tests assert exactly what an engine wrote.
  std::vector<std::string> Keys() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> entries_;  // guarded by mu_
};

}  // namespace coffer::logical
