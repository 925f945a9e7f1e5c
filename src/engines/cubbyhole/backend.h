// The cubbyhole secrets engine: a private KV space per token. Each token sees only its own
// entries (stored under its accessor inside the mount's view); the core deletes them when the
// token is revoked. Same operations as KV v1, without lease hints.
#pragma once

#include <memory>

#include "base/status.h"
#include "logical/backend.h"

namespace coffer::cubbyhole {

StatusOr<std::unique_ptr<logical::Backend>> NewCubbyholeBackend(const logical::BackendConfig& config);

// The storage prefix (inside the cubbyhole mount's view) holding one token's entries.
std::string PrefixForToken(const std::string& token_accessor);

}  // namespace coffer::cubbyhole
