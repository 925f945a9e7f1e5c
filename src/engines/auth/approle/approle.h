// AppRole internals shared by the path_*.cc files: the stored records, their storage layout, the
// per-mount salt, the lock stripes and the helpers that shape Vault's answers. Not part of the
// method's public interface (backend.h).
//
// Storage layout inside the mount's view (values are compact JSON unless noted):
//   salt                                   the per-mount HMAC key, 64 hex characters (32 bytes)
//   role/<lower-case name>                 one Role
//   role_id/<hmac(role_id)>                {"name": <role name>}: login's index role_id -> role
//   secret_id/<hmac(role name)>/<hmac(id)> one SecretIdEntry (the secret ID itself is never stored)
//   accessor/<hmac(accessor)>              {"secret_id_hmac", "role_name_hmac"}: the accessor index
// hmac(x) is the lower-case hex HMAC-SHA256 of x under the salt. A secret ID entry and its
// accessor index are written and deleted together in one storage transaction.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "engines/auth/approle/backend.h"
#include "logical/framework.h"
#include "logical/storage.h"
#include "logical/token_fields.h"

namespace coffer::approle {

// Nanoseconds since the Unix epoch, UTC.
using UnixNanos = int64_t;

// Vault refuses to HMAC values longer than this (role names, secret IDs).
inline constexpr size_t kMaxHmacInputLength = 4096;

inline constexpr char kSaltKey[] = "salt";
inline constexpr char kRolePrefix[] = "role/";
inline constexpr char kRoleIdPrefix[] = "role_id/";
inline constexpr char kSecretIdPrefix[] = "secret_id/";
inline constexpr char kAccessorPrefix[] = "accessor/";

// Login's answer for an unknown role_id, a wrong, expired or used-up secret ID: one text, so a
// failed login reveals nothing about which part was wrong.
inline constexpr char kInvalidCredentials[] = "invalid role or secret ID";

struct Role {
  std::string name{};  // lower-case, as Vault stores new roles
  std::string role_id{};
  bool bind_secret_id = true;
  std::vector<std::string> secret_id_bound_cidrs{};  // normalized CIDR blocks
  int64_t secret_id_num_uses = 0;                    // 0: unlimited
  int64_t secret_id_ttl = 0;                         // seconds; 0: no expiry
  bool local_secret_ids = false;                     // recorded and shown; Coffer has no replication
  logical::TokenFields token{};
  // The deprecated "policies" and "period" as Vault keeps them: set (mirroring token_policies /
  // token_period) when the client wrote the old name, cleared when it wrote only the new one.
  std::vector<std::string> policies{};
  int64_t period = 0;
};

struct SecretIdEntry {
  std::string accessor{};
  int64_t num_uses = 0;  // uses left; 0: unlimited
  int64_t ttl = 0;       // seconds as granted (0: none)
  UnixNanos creation_time = 0;
  UnixNanos expiration_time = 0;  // 0: never expires
  UnixNanos last_updated_time = 0;
  std::map<std::string, std::string> metadata{};
  std::vector<std::string> cidr_list{};
  std::vector<std::string> token_bound_cidrs{};
};

struct AccessorEntry {
  std::string secret_id_hmac{};
  std::string role_name_hmac{};
};

// Per-backend state: clock, mount limits, the salt and the lock stripes. Thread-safe.
//
// Lock order: role stripe, then the role_id index mutex, then a secret ID stripe.
class Store {
 public:
  Store(Clock clock, int64_t max_lease_ttl_seconds) : clock_(std::move(clock)), max_lease_ttl_(max_lease_ttl_seconds) {}
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  UnixNanos Now() const;
  int64_t max_lease_ttl() const { return max_lease_ttl_; }

  // hex HMAC-SHA256 of value under the mount's salt; the salt is created (32 random bytes) and
  // stored on first use. Callers bound the input where Vault does (kMaxHmacInputLength).
  StatusOr<std::string> Hmac(logical::Storage& storage, std::string_view value);

  // Serializes reads and writes of one role (by lower-case name).
  std::shared_mutex& RoleLock(std::string_view name);
  // Serializes the read-modify-write of one secret ID entry (by its HMAC).
  std::shared_mutex& SecretLock(std::string_view secret_id_hmac);
  // Makes "is this role_id free?" and "take it" one step across roles.
  std::mutex& RoleIdMutex() { return role_id_mu_; }
  // One tidy at a time.
  std::mutex& TidyMutex() { return tidy_mu_; }

 private:
  StatusOr<const SecretBytes*> Salt(logical::Storage& storage);

  Clock clock_;
  int64_t max_lease_ttl_;
  std::mutex salt_mu_;
  SecretBytes salt_;  // written once under salt_mu_, then read-only
  std::atomic<bool> salt_ready_{false};
  std::array<std::shared_mutex, 256> role_locks_;
  std::array<std::shared_mutex, 256> secret_locks_;
  std::mutex role_id_mu_;
  std::mutex tidy_mu_;
};

// ---- Records -----------------------------------------------------------------------------------

std::string RoleKey(std::string_view lower_name);
std::string SecretIdKey(std::string_view role_name_hmac, std::string_view secret_id_hmac);

// std::nullopt when absent; corrupt records are DataLoss.
StatusOr<std::optional<Role>> LoadRole(logical::Storage& storage, std::string_view lower_name);
std::string EncodeRole(const Role& role);
StatusOr<std::optional<SecretIdEntry>> LoadSecretId(logical::Storage& storage, const std::string& key);
std::string EncodeSecretId(const SecretIdEntry& entry);
StatusOr<std::optional<AccessorEntry>> LoadAccessor(logical::Storage& storage, const std::string& key);
std::string EncodeAccessor(const AccessorEntry& entry);
// The role name the role_id index maps role_id to, std::nullopt when none.
StatusOr<std::optional<std::string>> LookupRoleId(Store& store, logical::Storage& storage, std::string_view role_id);

// Vault's validateRoleConstraints: bind_secret_id, or some CIDR binding.
bool HasConstraint(const Role& role);

// Persists `role` and its role_id index in one transaction, after Vault's checks: at least one
// constraint ("at least one constraint should be enabled on the role"), and a role_id no other
// role holds ("role_id already in use"). `previous_role_id` is the role_id the stored role had
// ("" for a new role). The caller holds the role's lock exclusively.
Status SaveRole(Store& store, logical::Storage& storage, const Role& role, const std::string& previous_role_id);

// ---- Helpers ----------------------------------------------------------------------------------

StatusOr<logical::Storage*> StorageOf(logical::Request& req);

// The role name from the path, lower-cased, checked as Vault's GenericNameRegex would match it
// (word characters, '-' and '.', starting and ending with a word character; else 404
// "unsupported path") and against kMaxHmacInputLength.
StatusOr<std::string> RoleNameOf(const logical::FieldData& fields);

// Parses and normalizes CIDR blocks; the error names `field` and starts with `vault_text`.
StatusOr<std::vector<std::string>> ParseCidrs(const std::vector<std::string>& blocks, const std::string& field,
                                              const std::string& vault_text);
// Vault's verifyCIDRRoleSecretIDSubset: every block of `inner` lies in a block of `outer` (true
// when either is empty). The error names both lists.
Status CheckCidrSubset(const std::vector<std::string>& inner, const std::vector<std::string>& outer);

// The IP address of req.remote_address ("1.2.3.4:5678", "[::1]:5678" or a bare address).
std::string RemoteIp(std::string_view remote_address);

// RFC 3339 with nanoseconds in UTC ("2026-11-23T09:10:11.123456789Z"); Go's zero time
// ("0001-01-01T00:00:00Z") for 0, as Vault prints an unset expiration_time.
std::string FormatTime(UnixNanos t);

// Vault's go-secure-stdlib strutil.ParseArbitraryKeyValues for a secret ID's `metadata`: a JSON
// object of strings (optionally base64-encoded), or comma-separated key=value pairs. An object
// (as some clients send) is accepted too. Errors start with "failed to parse metadata: ".
StatusOr<std::map<std::string, std::string>> ParseMetadata(const nlohmann::json& raw);

// Deletes a secret ID entry and its accessor index in one transaction (caller holds the secret
// stripe exclusively).
Status DeleteSecretId(Store& store, logical::Storage& storage, const std::string& entry_key,
                      const std::string& accessor);

// A response rendered verbatim with `status` and Vault's envelope around `warnings`.
logical::Response EnvelopeWithStatus(const logical::Request& req, int status, std::vector<std::string> warnings);

// ---- Paths (one file each) -------------------------------------------------------------------

std::vector<logical::Path> RolePaths(std::shared_ptr<Store> store);       // role/, role/:name, role-id
std::vector<logical::Path> RoleFieldPaths(std::shared_ptr<Store> store);  // role/:name/<one field>
std::vector<logical::Path> SecretIdPaths(std::shared_ptr<Store> store);   // secret-id and friends
logical::Path LoginPath(std::shared_ptr<Store> store);
logical::Path TidyPath(std::shared_ptr<Store> store);

}  // namespace coffer::approle
