// logical::Backend: a secrets engine, auth method or the system backend, mounted by the router.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "logical/request.h"

namespace coffer::logical {

class Backend {
 public:
  virtual ~Backend() = default;

  // Handles req (req.storage is the mount's view). Client mistakes are 4xx Statuses with a
  // message naming the field; a path no pattern matches is kUnsupportedOperation/kNotFound.
  virtual StatusOr<Response> HandleRequest(Request& req) = 0;

  // For create/update requests: does the target already exist? std::nullopt when the path has
  // no existence check (the write is then an "update" for ACL purposes, as in Vault).
  virtual StatusOr<std::optional<bool>> ExistenceCheck(Request& req) { return std::optional<bool>(); }
};

struct BackendConfig {
  Storage* storage = nullptr;                 // the mount's view; outlives the backend
  std::map<std::string, std::string> options; // mount options, e.g. {"version": "1"}
  std::string mount_path;                     // e.g. "secret/"
};

using BackendFactory = std::function<StatusOr<std::unique_ptr<Backend>>(const BackendConfig&)>;

}  // namespace coffer::logical
