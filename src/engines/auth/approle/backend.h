// The AppRole auth method ("approle"), compatible with Vault's API: roles with a role_id and
// secret IDs, and `login {role_id, secret_id}` for machines and services.
//
// Paths (relative to the mount, e.g. "auth/approle/"): role/ (LIST), role/:name (create,
// update, read, delete), role/:name/role-id (read, update), role/:name/secret-id (generate,
// LIST accessors), role/:name/custom-secret-id, role/:name/secret-id/lookup and /destroy,
// role/:name/secret-id-accessor/lookup and /destroy, tidy/secret-id, and the unauthenticated
// login. Same fields, response shapes and error texts as Vault's builtin approle backend, with
// the exceptions listed in docs/auth.md (errors Vault answers with 500 are 4xx here).
//
// Secret IDs and role_ids are stored only as HMAC-SHA256 values keyed by a per-mount salt
// (created on first use, kept in the mount's storage as "salt"); accessors are indexed the same
// way. Thread-safe: logins that race for the last use of a secret ID have exactly one winner.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/status.h"
#include "logical/backend.h"

namespace coffer::approle {

// The method's source of "now" (secret ID creation and expiry). Tests inject a fake; an empty
// Clock means std::chrono::system_clock::now.
using Clock = std::function<std::chrono::system_clock::time_point()>;

// The auth method for one mount (a logical::BackendFactory: register it with
// core->RegisterAuthMethod("approle", approle::NewAppRoleBackend)). config.max_lease_ttl_seconds
// caps secret ID TTLs and bounds a role's period, as the mount's max lease TTL does in Vault.
// Requests use req.storage (the mount's view).
StatusOr<std::unique_ptr<logical::Backend>> NewAppRoleBackend(const logical::BackendConfig& config);

// The same with an injected clock (tests).
StatusOr<std::unique_ptr<logical::Backend>> NewAppRoleBackendWithClock(const logical::BackendConfig& config,
                                                                       Clock clock);

}  // namespace coffer::approle
