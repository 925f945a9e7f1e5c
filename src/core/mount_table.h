// The mount table: which engine serves which path prefix. Persisted (through the barrier) at
// "core/mounts" as JSON; each mount's data lives under its own barrier view "logical/<uuid>/".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace coffer::core {

struct MountConfig {
  int64_t default_lease_ttl = 0;  // seconds; 0 = the system default
  int64_t max_lease_ttl = 0;
  bool force_no_cache = false;
};

struct MountEntry {
  std::string path;  // always ends in '/', e.g. "secret/"
  std::string type;  // "kv", "system", ...
  std::string description;
  std::string uuid;
  std::string accessor;  // e.g. "kv_1a2b3c4d"
  std::map<std::string, std::string> options;
  MountConfig config;
  bool local = false;
  bool seal_wrap = false;
  // An auth method: `path` is its router path ("auth/approle/"); the auth table ("core/auth")
  // stores it without the "auth/" prefix, and its data lives under "auth/<uuid>/".
  bool auth = false;

  // The barrier prefix holding this mount's data.
  std::string StoragePrefix() const;
  // The path as sys/mounts or sys/auth name it: "secret/", or "approle/" for auth/approle/.
  std::string ApiPath() const;
  // The object Vault returns for this mount in sys/mounts (or sys/auth).
  nlohmann::json ToApiJson() const;
};

std::string SerializeMountTable(const std::vector<MountEntry>& mounts);
StatusOr<std::vector<MountEntry>> ParseMountTable(std::string_view text);

// Canonical mount path: no leading '/', exactly one trailing '/'. Rejects empty paths, ".."
// segments and characters outside printable ASCII, naming the problem.
StatusOr<std::string> NormalizeMountPath(std::string_view path);

}  // namespace coffer::core
