// Core: the server's brain, independent of HTTP. HandleRequest runs every API call through
// seal state → token → ACL → router → engine → barrier view → physical storage.
// Also owns initialization (Shamir split of the unseal key), unsealing and sealing.
// Thread-safe: requests run concurrently under a shared lock; seal/unseal take it exclusively.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <thread>
#include <unordered_map>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "core/mount_table.h"
#include "core/router.h"
#include "core/token_store.h"
#include "core/identity_store.h"
#include "core/identity_backend.h"
#include "logical/backend.h"
#include "logical/request.h"

namespace coffer::physical { class Backend; }
namespace coffer::barrier { class Barrier; }
namespace coffer::policy { class PolicyStore; class Acl; }

namespace coffer::core {

// The Vault API version this build speaks, reported by sys/health and sys/seal-status.
extern const char kVaultApiVersion[];
extern const char kCofferVersion[];

struct CoreOptions {
  std::unique_ptr<physical::Backend> storage;  // owned; must outlive nothing else
  std::string storage_type = "inmem";          // reported by sys/seal-status
  int64_t default_lease_ttl = 768 * 3600;      // seconds
  int64_t max_lease_ttl = 768 * 3600;
};

struct InitResult {
  std::vector<SecretBytes> keys;  // unseal key shares (or the single key when shares == 1)
  std::string root_token;
};

struct SealState {
  bool initialized = false;
  bool sealed = true;
  int threshold = 0;  // t
  int shares = 0;     // n
  int progress = 0;
  std::string nonce;
  std::string cluster_name, cluster_id;
};

class Core {
 public:
  static StatusOr<std::unique_ptr<Core>> Create(CoreOptions options);
  ~Core();

  // Registers the factory for a secrets engine type ("kv"). Call before serving requests.
  void RegisterEngine(const std::string& type, logical::BackendFactory factory);
  // Registers the factory for an auth method type ("approle"), enabled through sys/auth.
  void RegisterAuthMethod(const std::string& type, logical::BackendFactory factory);

  // sys/init: generates the unseal key, splits it (shares > 1) and creates the root token.
  // Leaves the server sealed, as Vault does. Error if already initialized or the counts are bad.
  StatusOr<InitResult> Initialize(int shares, int threshold);
  // Supplies one unseal key share. Unseals once `threshold` distinct shares are in; a wrong
  // combination resets progress and fails without unsealing.
  StatusOr<SealState> SubmitUnsealKey(const SecretBytes& share);
  void ResetUnsealProgress();
  // Drops all key material from memory; in-flight requests finish first.
  Status Seal();
  SealState GetSealState() const;
  bool Sealed() const { return sealed_.load(std::memory_order_acquire); }
  StatusOr<bool> Initialized() const;

  // Dev mode: initialize with one share, unseal, use `root_token_id` (or a fresh token).
  StatusOr<InitResult> InitializeDev(const std::string& root_token_id);

  // The single entry point for API requests (path without "/v1/").
  StatusOr<logical::Response> HandleRequest(logical::Request& req);

  // For the system backend (caller is authorized already).
  Status EnableMount(MountEntry entry);  // fills uuid and accessor; persists the table
  Status DisableMount(const std::string& path);  // removes the mount and all its data
  std::vector<MountEntry> Mounts() const;
  // sys/auth: enable (entry.path is the path below auth/, e.g. "approle"; fills uuid and
  // accessor) and disable an auth method. Disabling revokes every token its logins issued and
  // removes its data. AuthMounts() lists them with router paths ("auth/token/", ...).
  Status EnableAuth(MountEntry entry);
  Status DisableAuth(const std::string& path);
  std::vector<MountEntry> AuthMounts() const;
  // The mount serving `path` (longest prefix), if any.
  std::optional<MountEntry> MountFor(std::string_view path) const;
  // sys/mounts/:path/tune: changes only the fields that are set. options.version "1" → "2" on a
  // kv mount upgrades its data in place; a downgrade is refused.
  struct MountTune {
    std::optional<int64_t> default_lease_ttl, max_lease_ttl;
    std::optional<std::string> description;
    std::optional<std::map<std::string, std::string>> options;
  };
  Status TuneMount(const std::string& path, const MountTune& tune);
  // sys/leases/revoke-prefix: revokes (with their children) the tokens whose lease falls under
  // `prefix` (e.g. "auth/token/create"); a prefix without a trailing '/' gets one, as in Vault.
  // Tokens without a lease (root tokens that never expire) are left alone. Returns the count.
  StatusOr<int64_t> RevokeTokenLeasesByPrefix(std::string prefix);
  // sys/remount: moves a mount to a new path; its data (keyed by the mount's uuid) stays put.
  Status RemountMount(const std::string& from, const std::string& to);
  void RecordMigration(const std::string& id, const std::string& from, const std::string& to);
  std::optional<std::pair<std::string, std::string>> LookupMigration(const std::string& id) const;
  // Whether the request's token may see the mount at `mount_path` (any capability below it).
  bool CallerCanSeeMount(const logical::Request& req, const std::string& mount_path) const;
  // sys/capabilities*: the capability names the token (given as a token string, or an accessor
  // when by_accessor) holds on each path, as Vault reports them (["root"], ["deny"], ...).
  StatusOr<std::vector<std::vector<std::string>>> CapabilitiesOf(const std::string& token_or_accessor,
                                                                 bool by_accessor,
                                                                 const std::vector<std::string>& paths) const;
  policy::PolicyStore* policies() const { return policies_.get(); }
  Status RotateKeyring();
  struct KeyInfo { uint32_t term; int64_t install_time; uint64_t encryptions; };
  StatusOr<KeyInfo> ActiveKey() const;
  int64_t default_lease_ttl() const { return default_lease_ttl_; }
  int64_t max_lease_ttl() const { return max_lease_ttl_; }

 private:
  explicit Core(CoreOptions options);

  StatusOr<logical::Response> HandleUnauthenticated(logical::Request& req, bool* handled);
  StatusOr<logical::Response> HandleSealRequest(logical::Request& req);
  // A request for an auth method's unauthenticated path (login): no token, no ACL; a
  // Response::login becomes a new token and Vault's auth block.
  StatusOr<logical::Response> HandleLogin(logical::Request& req, const std::shared_ptr<Route>& route);
  StatusOr<logical::Response> IssueLoginToken(const logical::Request& req, const MountEntry& mount,
                                              logical::Response resp);
  // The lease limits of the mount serving `path`: its tuned TTLs, else the system's.
  LeaseLimits LimitsForPath(std::string_view path) const;
  // The request token's entry, shared with the token store's cache (never copied per request).
  StatusOr<std::shared_ptr<const TokenEntry>> Authenticate(const logical::Request& req) const;
  StatusOr<std::shared_ptr<const policy::Acl>> AclOf(const TokenEntry& token) const;
  // The ACL check for req (whose operation is final): 403 unless allowed, and unless the
  // caller holds sudo on root-protected paths. Sets req.client_sudo / req.client_root.
  Status Authorize(const TokenEntry& token, logical::Request& req) const;
  StatusOr<logical::Response> Dispatch(logical::Request& req, const TokenEntry& token);
  void StartPurger();
  void StopPurger();
  // Runs after the barrier is unsealed: token salt, mount table, engines.
  Status PostUnseal();
  void PreSeal();
  Status PersistMountTable();
  Status PersistAuthTable();
  Status LoadAuthTable();
  Status CheckMountPathAllowed(const std::string& path) const;
  StatusOr<std::shared_ptr<Route>> BuildRoute(const MountEntry& entry);
  Status LoadSealConfig();

  std::unique_ptr<physical::Backend> physical_;
  std::unique_ptr<barrier::Barrier> barrier_;
  std::string storage_type_;
  int64_t default_lease_ttl_;
  int64_t max_lease_ttl_;

  // Exclusive for seal/unseal transitions, shared for requests.
  mutable std::shared_mutex state_mu_;
  std::atomic<bool> sealed_{true};

  mutable std::mutex unseal_mu_;   // guards the fields below
  std::vector<SecretBytes> unseal_parts_;
  std::string unseal_nonce_;
  int seal_shares_ = 0, seal_threshold_ = 0;
  std::string cluster_name_, cluster_id_;

  std::unique_ptr<logical::StorageView> token_view_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<logical::StorageView> policy_view_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::shared_ptr<Route> token_route_;  // auth/token/, built in

  // ACL per token (a token's policy list never changes), valid while the policy generation
  // is unchanged: resolving 1,000 policy names on every request would dominate its cost.
  struct CachedAcl {
    uint64_t generation;
    uint64_t identity_generation;
    std::shared_ptr<const policy::Acl> acl;
  };
  std::unique_ptr<logical::StorageView> identity_view_;
  std::unique_ptr<IdentityStore> identity_;
  std::shared_ptr<Route> identity_route_;
  mutable std::shared_mutex acl_cache_mu_;
  mutable std::unordered_map<std::string, CachedAcl> acl_cache_;  // by token id_hash

  // Purges expired tokens in the background while unsealed.
  std::mutex purger_mu_;
  std::condition_variable purger_cv_;
  bool purger_stop_ = false;
  std::thread purger_;
  Router router_;
  std::mutex mounts_mu_;  // serializes mount table changes
  std::map<std::string, logical::BackendFactory> factories_;
  std::map<std::string, logical::BackendFactory> auth_factories_;
  mutable std::mutex migrations_mu_;
  std::map<std::string, std::pair<std::string, std::string>> migrations_;  // id → (from, to)
};

}  // namespace coffer::core
