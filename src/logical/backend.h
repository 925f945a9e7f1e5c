// logical::Backend: a secrets engine, auth method or the system backend, mounted by the router.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "logical/request.h"

namespace coffer::logical {

// Vault's default for default_lease_ttl and max_lease_ttl: 768h (32 days).
inline constexpr int64_t kDefaultLeaseTtlSeconds = 768 * 3600;

class Backend {
 public:
  virtual ~Backend() = default;

  // Handles req (req.storage is the mount's view). Client mistakes are 4xx Statuses with a
  // message naming the field; a path no pattern matches is kUnsupportedOperation/kNotFound.
  virtual StatusOr<Response> HandleRequest(Request& req) = 0;

  // For create/update requests: does the target already exist? std::nullopt when the path has
  // no existence check (the write is then an "update" for ACL purposes, as in Vault).
  virtual StatusOr<std::optional<bool>> ExistenceCheck(Request& req) { return std::optional<bool>(); }

  // Auth methods: paths (relative to the mount) that need no token, such as "login". The core
  // sends requests for them straight to the backend, without a token check or ACL; what the
  // backend returns in Response::login becomes a new token.
  virtual bool IsUnauthenticated(std::string_view relative_path) const { return false; }
};

struct BackendConfig {
  Storage* storage = nullptr;                    // the mount's view; outlives the backend
  std::map<std::string, std::string> options{};  // mount options, e.g. {"version": "1"}
  std::string mount_path{};                      // e.g. "secret/"
  // The mount's default lease TTL (Vault's system default is 768h). KV v1 reports it as the
  // lease_duration of reads whose data has no "ttl".
  int64_t default_lease_ttl_seconds = kDefaultLeaseTtlSeconds;
  int64_t max_lease_ttl_seconds = kDefaultLeaseTtlSeconds;
  std::string mount_accessor{};  // e.g. "auth_approle_1a2b3c4d"
};

using BackendFactory = std::function<StatusOr<std::unique_ptr<Backend>>(const BackendConfig&)>;

}  // namespace coffer::logical
