// KV version 1: Vault's "passthrough" engine, one unversioned JSON object per path.
#include <memory>
#include <vector>

#include "engines/kv/backend.h"
#include "engines/kv/path_kv_v1.h"
#include "logical/framework.h"

namespace coffer::kv {

namespace {

constexpr char kKvV1Help[] =
    "The kv engine (version 1) stores arbitrary JSON secrets. Each path holds one object that "
    "is encrypted before it reaches storage and returned unchanged when read. Writes replace the "
    "whole object; there is no version history.\n\n"
    "A secret may carry a \"ttl\" field; reads report it as lease_duration so readers know how "
    "long they may cache the value. Nothing is revoked or expired by the engine.";

}  // namespace

StatusOr<std::unique_ptr<logical::Backend>> NewKvV1Backend(const logical::BackendConfig& config) {
  if (config.default_lease_ttl_seconds < 0) {
    return InvalidArgument("kv: default lease TTL must not be negative");
  }
  std::vector<logical::Path> paths;
  paths.push_back(KvV1SecretPath(config.default_lease_ttl_seconds));
  return std::unique_ptr<logical::Backend>(std::make_unique<logical::FrameworkBackend>(std::move(paths), kKvV1Help));
}

}  // namespace coffer::kv
