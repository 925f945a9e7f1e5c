// The KV secrets engine ("kv", and Vault's older name "generic"). Version 1 stores one JSON
// object per path, unversioned, exactly as Vault's KV v1 API: GET reads, POST/PUT replaces the
// whole object, DELETE removes it, LIST lists keys (folders end in '/'); PATCH is 405.
// Version 2 (versioned data, metadata, soft delete) comes later behind the same factory.
#pragma once

#include <memory>

#include "base/status.h"
#include "logical/backend.h"

namespace coffer::kv {

// The engine for a mount: options["version"] "1", "" or absent gives KV v1; "2" is not
// available yet (InvalidArgument); anything else is InvalidArgument naming the allowed values.
StatusOr<std::unique_ptr<logical::Backend>> NewKvBackend(const logical::BackendConfig& config);

// KV version 1. Reads report config.default_lease_ttl_seconds as lease_duration, or the
// secret's own "ttl" (else "lease") field when it parses as a duration; no lease is created.
// Data lives in req.storage (the mount's view), one compact JSON object per key, at the key
// equal to the secret's path. Thread-safe.
StatusOr<std::unique_ptr<logical::Backend>> NewKvV1Backend(const logical::BackendConfig& config);

}  // namespace coffer::kv
