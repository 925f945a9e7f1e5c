// The token auth method, mounted by the core at "auth/token/": Vault's /auth/token/* API
// (create, create-orphan, create/<role>, lookup*, renew*, revoke*, accessors/, roles, tidy)
// declared with the logical framework on top of a TokenStore. Service tokens only: batch
// tokens are refused with a 400.
//
// What the core must provide on each logical::Request: client_token (the caller's token,
// already authenticated), client_sudo / client_root (after the ACL check), id, mount_type.
// The core enforces sudo for "revoke-orphan" and "accessors/" (Vault's root-protected paths);
// this backend checks client_sudo/client_root itself where Vault does (custom ids, orphans
// via no_parent, periodic tokens, policies beyond the parent's, revoke-orphan).
// Thread-safe if the store is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/token_store.h"
#include "logical/backend.h"

namespace coffer::core {

struct TokenBackendOptions {
  int64_t default_lease_ttl = logical::kDefaultLeaseTtlSeconds;  // seconds, the system value
  int64_t max_lease_ttl = logical::kDefaultLeaseTtlSeconds;      // seconds, the system value
  // Optional: whether a named ACL policy exists. When set, token creation warns
  // `Policy "x" does not exist` for each missing policy, as Vault does ("root" is never
  // reported).
  std::function<bool(const std::string& name)> policy_exists;
  // Optional: the lease limits of the mount a token was created through (its tuned TTLs,
  // else the system's), by the token's creation path. Renewals use them, so a token from an
  // auth method's login renews under that method's limits. Unset: the values above.
  std::function<LeaseLimits(const std::string& creation_path)> limits_for;
};

// Vault's `auth` response block for a token (create, renew, login). `policies` lists the
// token's policies followed by the identity policies of its entity; `identity_policies` is null
// when there are none.
nlohmann::json AuthBlock(const TokenEntry& e, const std::string& client_token, int64_t lease_duration, bool renewable,
                         const std::vector<std::string>& identity_policies = {});

// `store` is borrowed and must outlive the backend. Requests' relative paths are "create",
// "lookup-self", ... (the router strips "auth/token/"). Roles live in store->RoleStorage(),
// so req.storage is not used.
std::unique_ptr<logical::Backend> NewTokenBackend(TokenStore* store, TokenBackendOptions opts);

}  // namespace coffer::core
