// TokenStore: service tokens, stored only as salted hashes. The token string never reaches
// storage, logs or error messages. Layout inside the store's view (the barrier view
// "sys/token/"), with hash(x) = hex HMAC-SHA256(salt, x):
//   salt                          the 32-byte salt, created on first Setup()
//   id/<hash(token)>              TokenEntry as JSON (also holds the lease times)
//   accessor/<hash(accessor)>     {"id_hash": ..., "accessor": ...}
//   parent/<parent id_hash>/<child id_hash>   "" (the parent → children index)
//   roles/<name>                  token roles, owned by the token backend (RoleStorage())
// Expiry follows Vault: a token expires at `expire_time` (creation time + ttl, moved by each
// renewal); expired tokens are invisible to every lookup at once and are revoked, with their
// children, by PurgeExpired(). Thread-safe after Setup(); Setup() runs at unseal, Reset() at
// seal. Read-modify-write of one token (uses, renewal, orphaning) is serialized by a striped
// mutex keyed by the token's hash.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "logical/storage.h"

namespace coffer::core {

struct TokenEntry {
  std::string id_hash;  // hex salted hash of the token string
  std::string accessor;
  std::vector<std::string> policies;  // sorted, as Vault stores them
  std::string path;                   // creation path, e.g. "auth/token/create"
  std::string display_name;
  std::string parent_hash;  // "" for orphans
  std::map<std::string, std::string> meta;
  int64_t creation_time = 0;     // unix seconds
  int64_t ttl = 0;               // TTL at creation ("creation_ttl"); 0 = never expires
  int64_t explicit_max_ttl = 0;  // 0 = none
  int64_t period = 0;            // 0 = not periodic
  // 0 = unlimited; > 0 uses left; -1 = the final use is under way (revocation pending):
  // such a token is invisible to lookups, as in Vault.
  int64_t num_uses = 0;
  bool renewable = false;
  std::string type = "service";
  std::string role;  // token role used at creation, "" for none
  std::vector<std::string> bound_cidrs;
  std::string entity_id;
  // An auth method's max TTL for this token (its role's token_max_ttl): renewals never extend
  // the lease past creation + this. 0 = only the mount's limits apply.
  int64_t backend_max_ttl = 0;
  // Lease bookkeeping (Vault keeps it in its expiration manager).
  bool has_lease = false;         // false only for root tokens made by CreateRootToken
  int64_t expire_time = 0;        // unix seconds; 0 = never expires
  int64_t lease_ttl = 0;          // TTL granted by the creation or the latest renewal
  int64_t last_renewal_time = 0;  // unix seconds; 0 = never renewed

  bool IsRoot() const;
  bool Orphan() const { return parent_hash.empty(); }
  // Expired at unix time `now` (a token with ttl 10 created at t is gone from t + 10 on).
  bool ExpiredAt(int64_t now) const { return expire_time != 0 && now >= expire_time; }
};

// What a new token looks like; the token backend decides these values (policy subsets, TTL
// rules, roles) and TokenStore::Create persists them.
struct TokenCreateParams {
  // A custom token string (the caller checked root/sudo); "" generates "hvs." + 24 base62.
  // Custom ids may not start with "hvs." or "s." nor contain '.', as in Vault.
  std::string id;
  std::vector<std::string> policies;
  std::map<std::string, std::string> meta;
  std::string display_name = "token";
  std::string path = "auth/token/create";
  std::string role;
  int64_t ttl = 0;  // 0 = never expires (root tokens only, by the backend's rules)
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  int64_t num_uses = 0;
  bool renewable = true;
  std::vector<std::string> bound_cidrs;
  std::string entity_id;
  int64_t backend_max_ttl = 0;
};

// A freshly created token. `token` is the secret: hand it to the client, never log it.
struct CreatedToken {
  std::string token;
  TokenEntry entry;
};

// The system (or token mount) lease TTLs, in seconds.
struct LeaseLimits {
  int64_t default_ttl = 768 * 3600;
  int64_t max_ttl = 768 * 3600;
};

struct TtlResult {
  int64_t ttl = 0;
  std::vector<std::string> warnings;  // Vault's texts ("TTL of \"1h0m0s\" exceeded ...")
};

// Vault's framework.CalculateTTL. Periodic (period > 0): the period, capped by the effective
// max TTL (min of limits.max_ttl and explicit_max_ttl), and by explicit_max_ttl counted from
// start_time. Otherwise: increment, else backend_ttl, else limits.default_ttl, capped so the
// lease never outlives start_time + effective max TTL. Errors: a non-positive effective max
// TTL (kInternal: a configuration bug) and a lease already past its max TTL
// (kInvalidArgument "past the max TTL, cannot renew").
StatusOr<TtlResult> CalculateTtl(const LeaseLimits& limits, int64_t increment, int64_t backend_ttl, int64_t period,
                                 int64_t explicit_max_ttl, int64_t start_time, int64_t now);

struct RenewResult {
  TokenEntry entry;  // as stored after the renewal
  int64_t ttl = 0;   // the granted lease duration
  std::vector<std::string> warnings;
};

// What Tidy() found and repaired.
struct TidyCounts {
  // Expired tokens, and tokens left revocation pending (used up, or a revocation cut short),
  // revoked with their descendants.
  int64_t tokens_revoked = 0;
  int64_t orphaned_children = 0;       // children of a vanished parent turned into orphans
  int64_t parent_entries_deleted = 0;  // dangling parent/<p>/<c> index entries removed
  int64_t accessors_deleted = 0;       // accessor index entries without a token removed
  int64_t errors = 0;                  // entries that could not be read or fixed (skipped)
};

class TokenStore {
 public:
  using Clock = std::function<int64_t()>;  // unix seconds
  using RevokeCallback = std::function<void(const TokenEntry&)>;

  // `view` is the barrier view reserved for tokens; borrowed, outlives the store.
  explicit TokenStore(logical::Storage* view);
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // Test hook: the clock used for creation, expiry and renewal (default: time(nullptr)).
  // Set it before the store is used concurrently.
  void SetClock(Clock clock);
  // Called once for every revoked token (tree, orphan, expiry, tidy, used up), after its
  // storage entries are gone, so the core can delete its cubbyhole. Never called with a lock
  // of the store held. Set it before the store is used concurrently.
  void SetOnRevoke(RevokeCallback on_revoke);
  int64_t Now() const;

  // Loads the salt, creating it on first use, and indexes every token's expiry in memory
  // (one pass over id/). Must succeed before any other call.
  Status Setup();
  // Forgets the salt (wiped) and the expiry index so a sealed server holds no token material.
  void Reset();

  // Creates a non-expiring orphan root token without a lease (as Vault's sys/init does). An
  // empty `id` generates a fresh "hvs." token; a given id (dev mode) is used as is. Returns the
  // token string and its entry. Error if a token with that id exists.
  StatusOr<std::pair<std::string, TokenEntry>> CreateRootToken(std::string id);

  // Creates a token with a lease. `parent` (borrowed, may be null for an orphan) must still
  // exist when the write happens, else kInvalidArgument "parent token not found"; the entry,
  // accessor index and parent index are written in one storage transaction. Custom id
  // errors are kInvalidArgument with Vault's messages.
  StatusOr<CreatedToken> Create(const TokenCreateParams& params, const TokenEntry* parent);

  // The live entry for a token string: std::nullopt when unknown, expired or on its final use.
  StatusOr<std::optional<TokenEntry>> Lookup(std::string_view token) const;
  // Same, without copying the entry: null when unknown, expired or on its final use. The
  // request path uses it; the entry comes from the decoded-entry cache when it is there.
  StatusOr<std::shared_ptr<const TokenEntry>> LookupShared(std::string_view token) const;
  // Same, by the entry's id_hash.
  StatusOr<std::optional<TokenEntry>> LookupByHash(std::string_view id_hash) const;
  StatusOr<std::shared_ptr<const TokenEntry>> LookupSharedByHash(std::string_view id_hash) const;
  // Same, by accessor.
  StatusOr<std::optional<TokenEntry>> LookupByAccessor(std::string_view accessor) const;
  // The id_hash a token string is stored under (kSealed before Setup()).
  StatusOr<std::string> HashToken(std::string_view token) const;

  // Revokes the token string and all its descendants (Vault's "revoke"). Unknown: OK.
  Status Revoke(std::string_view token);
  // Revokes a token and, iteratively (children before parents), every descendant: entries,
  // accessor and parent index entries are deleted. Each token is first marked revocation
  // pending, so it stops working at once and cannot gain children during the walk. Unknown
  // id_hash: OK. A failure part-way leaves the not-yet-deleted ancestors in place (unusable),
  // so calling it again finishes the job.
  Status RevokeTree(std::string_view id_hash);
  // Revokes only this token; its children become orphans (parent cleared, index removed).
  Status RevokeOrphan(std::string_view id_hash);

  // Renews a token's lease by Vault's rules (see CalculateTtl; the start time is the
  // creation time, the backend TTL the last granted one). kInvalidArgument with Vault's
  // texts: "token not found", "invalid lease ID" (root token without lease), "lease is not
  // renewable" (non-renewable, or a root token that never expires), "past the max TTL,
  // cannot renew".
  StatusOr<RenewResult> Renew(const TokenEntry& entry, int64_t increment, const LeaseLimits& limits);

  // Counts one use of a limited-use token, atomically per token. Returns true when that was
  // the last use: the token is then invisible to lookups and the caller must RevokeTree it
  // after the request. kPermissionDenied when the token is gone or already used up.
  StatusOr<bool> UseToken(const TokenEntry& entry);

  // Every accessor in the accessor index (unsorted, as storage lists them).
  StatusOr<std::vector<std::string>> ListAccessors() const;

  // Full scan: revokes expired and revocation-pending tokens (with their trees), orphans
  // children of vanished parents, removes dangling parent and accessor index entries. Best
  // effort per item.
  StatusOr<TidyCounts> Tidy();
  // Revokes (with their trees) the tokens whose expiry has passed, using the in-memory expiry
  // index: cheap enough for the core to call every few seconds. Returns how many tokens went.
  StatusOr<int64_t> PurgeExpired();
  // The earliest expire_time of any live token (unix seconds), for the core's scheduler.
  std::optional<int64_t> NextExpiry() const;

  // The view under "roles/" where the token backend keeps its roles.
  logical::Storage* RoleStorage() { return &roles_view_; }

 private:
  static constexpr size_t kStripes = 64;

  StatusOr<std::string> Hash(std::string_view value) const;
  std::shared_mutex& StripeFor(std::string_view id_hash) const;
  static size_t StripeIndex(std::string_view id_hash);
  // Reads an entry as stored (expired or pending ones included).
  StatusOr<std::optional<TokenEntry>> ReadEntry(std::string_view id_hash) const;
  // Same, through the decoded-entry cache; null when absent.
  StatusOr<std::shared_ptr<const TokenEntry>> ReadShared(std::string_view id_hash) const;
  // Writes the entry and drops its cached copy.
  Status WriteEntry(const TokenEntry& entry);
  // Drops the cached copy of id/<id_hash> after a write or delete of it (called whether the
  // write succeeded or not, while the writer still holds the token's stripe).
  void InvalidateCached(std::string_view id_hash) const;
  void ClearCache() const;
  // Persists `entry` under `id` (generated when empty). A supplied id is refused when a token
  // with it exists, and checked against Vault's custom-id rules when `validate_custom_id`.
  StatusOr<std::pair<std::string, TokenEntry>> CreateInternal(TokenEntry entry, std::string id, bool validate_custom_id,
                                                              const TokenEntry* parent);
  // Deletes one token whose children are gone (or ignored). `stack_parent` is the parent the
  // walk came from, whose index entry is removed too. Returns the removed entry, if any.
  StatusOr<std::optional<TokenEntry>> DeleteToken(const std::string& id_hash, const std::string& stack_parent);
  StatusOr<int64_t> RevokeTreeCounted(const std::string& id_hash);
  // Sets num_uses to -1 (Vault's tokenRevocationPending); caller holds the token's stripe.
  Status MarkRevocationPending(const std::string& id_hash);
  Status OrphanChild(const std::string& parent_hash, const std::string& child_hash);
  void NotifyRevoked(const TokenEntry& entry);
  void TrackExpiry(const std::string& id_hash, int64_t expire_time);
  void ForgetExpiry(const std::string& id_hash);

  logical::Storage* view_;
  logical::StorageView roles_view_;
  Clock clock_;
  RevokeCallback on_revoke_;

  mutable std::shared_mutex mu_;
  SecretBytes salt_;  // guarded by mu_

  mutable std::array<std::shared_mutex, kStripes> stripes_;

  // Decoded entries by id_hash (never by token string), so a request does not decrypt and
  // parse its token's JSON every time. Coherent with storage: every write or delete of id/<h>
  // goes through this class and calls InvalidateCached(h), which erases the entry and bumps
  // the epoch of h's stripe; a reader that missed inserts what it read only when that epoch
  // did not move in between, so a stale entry can never be put back. Expiry and the
  // revocation-pending mark are checked on every lookup, as for an uncached read. Bounded:
  // cleared when it reaches kMaxCached entries. Emptied at Setup() and Reset().
  static constexpr size_t kMaxCached = 4096;
  mutable std::shared_mutex cache_mu_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  mutable std::unordered_map<std::string, std::shared_ptr<const TokenEntry>, StringHash, std::equal_to<>>
      cache_;  // guarded by cache_mu_
  mutable std::array<uint64_t, kStripes> cache_epoch_{};                            // guarded by cache_mu_

  mutable std::mutex expiry_mu_;
  std::set<std::pair<int64_t, std::string>> expiry_queue_;  // guarded by expiry_mu_
  std::unordered_map<std::string, int64_t> expiry_of_;      // guarded by expiry_mu_
};

// "hvs." followed by 24 base62 characters from the CSPRNG (~143 bits).
std::string GenerateTokenString();
// 24 base62 characters from the CSPRNG.
std::string GenerateAccessor();

}  // namespace coffer::core
