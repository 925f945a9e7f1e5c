#include "core/core.h"

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>

#include "barrier/barrier.h"
#include "base/cidr.h"
#include "base/encoding.h"
#include "crypto/random.h"
#include "core/token_backend.h"
#include "engines/cubbyhole/backend.h"
#include "logical/token_fields.h"
#include "policy/acl.h"
#include "policy/policy_store.h"
#include "physical/backend.h"
#include "seal/shamir.h"

namespace coffer::core {

const char kVaultApiVersion[] = "1.15.0";
const char kCofferVersion[] = "0.1.0";

std::unique_ptr<logical::Backend> NewSystemBackend(Core* core);  // sys_backend.cc

namespace {

constexpr char kSealConfigKey[] = "core/seal-config";
constexpr char kMountTableKey[] = "core/mounts";
constexpr char kAuthTableKey[] = "core/auth";

std::string RandomHex(size_t bytes) { return HexEncode(crypto::RandomBytes(bytes)); }

}  // namespace

Core::Core(CoreOptions options)
    : physical_(std::move(options.storage)),
      storage_type_(std::move(options.storage_type)),
      default_lease_ttl_(options.default_lease_ttl),
      max_lease_ttl_(options.max_lease_ttl) {}

Core::~Core() {
  std::unique_lock lock(state_mu_);
  if (!Sealed()) PreSeal();
}

StatusOr<std::unique_ptr<Core>> Core::Create(CoreOptions options) {
  if (!options.storage) return InvalidArgument("core: no storage backend configured");
  std::unique_ptr<Core> core(new Core(std::move(options)));
  core->barrier_ = barrier::Barrier::Create(core->physical_.get());
  core->token_view_ = std::make_unique<logical::StorageView>(core->barrier_.get(), "sys/token/");
  core->tokens_ = std::make_unique<TokenStore>(core->token_view_.get());
  core->policy_view_ = std::make_unique<logical::StorageView>(core->barrier_.get(), "sys/policy/");
  core->policies_ = std::make_unique<policy::PolicyStore>(core->policy_view_.get());
  core->identity_view_ = std::make_unique<logical::StorageView>(core->barrier_.get(), "sys/identity/");
  core->identity_ = std::make_unique<IdentityStore>(core->identity_view_.get());
  Core* raw = core.get();
  core->tokens_->SetOnRevoke([raw](const TokenEntry& entry) {
    // A revoked token's cubbyhole goes with it.
    auto cubby = raw->router_.Get("cubbyhole/");
    if (cubby && !entry.accessor.empty()) {
      Status cleared = logical::ClearPrefix(*cubby->view, cubbyhole::PrefixForToken(entry.accessor));
      (void)cleared;  // best effort: the entries are unreachable without the token anyway
    }
  });
  RETURN_IF_ERROR(core->LoadSealConfig());
  return core;
}

void Core::RegisterEngine(const std::string& type, logical::BackendFactory factory) {
  factories_[type] = std::move(factory);
}

void Core::RegisterAuthMethod(const std::string& type, logical::BackendFactory factory) {
  auth_factories_[type] = std::move(factory);
}

Status Core::LoadSealConfig() {
  ASSIGN_OR_RETURN(auto raw, physical_->Get(kSealConfigKey));
  if (!raw) return OkStatus();
  auto j = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("secret_shares") || !j["secret_shares"].is_number_integer() ||
      !j.contains("secret_threshold") || !j["secret_threshold"].is_number_integer()) {
    return DataLoss("seal configuration in storage is corrupt");
  }
  std::lock_guard lock(unseal_mu_);
  seal_shares_ = j["secret_shares"].get<int>();
  seal_threshold_ = j["secret_threshold"].get<int>();
  cluster_name_ = j.value("cluster_name", "");
  cluster_id_ = j.value("cluster_id", "");
  return OkStatus();
}

StatusOr<bool> Core::Initialized() const { return barrier_->Initialized(); }

StatusOr<InitResult> Core::Initialize(int shares, int threshold) {
  if (shares < 1) return InvalidArgument("invalid seal configuration: number of shares must be at least one");
  if (threshold < 1) return InvalidArgument("invalid seal configuration: threshold must be at least one");
  if (shares > 255) return InvalidArgument("invalid seal configuration: number of shares must be at most 255");
  if (threshold > shares) {
    return InvalidArgument("invalid seal configuration: threshold cannot be larger than the number of shares");
  }
  if (shares > 1 && threshold < 2) {
    return InvalidArgument("invalid seal configuration: threshold must be greater than one for multiple shares");
  }

  std::lock_guard unseal_lock(unseal_mu_);
  std::unique_lock lock(state_mu_);
  ASSIGN_OR_RETURN(bool initialized, barrier_->Initialized());
  if (initialized) return InvalidArgument("Vault is already initialized");

  SecretBytes unseal_key = crypto::RandomSecret(32);
  std::string cluster_name = "vault-cluster-" + RandomHex(4);
  std::string cluster_id = crypto::GenerateUuid();
  nlohmann::json seal_config = {{"type", "shamir"},
                                {"secret_shares", shares},
                                {"secret_threshold", threshold},
                                {"cluster_name", cluster_name},
                                {"cluster_id", cluster_id}};
  RETURN_IF_ERROR(physical_->Put(kSealConfigKey, seal_config.dump()));
  RETURN_IF_ERROR(barrier_->Initialize(unseal_key));

  // Unseal briefly to create the mount table and the root token, then seal again (as Vault).
  RETURN_IF_ERROR(barrier_->Unseal(unseal_key));
  Status setup = PostUnseal();
  StatusOr<std::pair<std::string, TokenEntry>> root = setup.ok() ? tokens_->CreateRootToken("") : setup;
  PreSeal();
  if (!root.ok()) return root.status().WithContext("initialization failed");

  seal_shares_ = shares;
  seal_threshold_ = threshold;
  cluster_name_ = cluster_name;
  cluster_id_ = cluster_id;
  unseal_parts_.clear();
  unseal_nonce_.clear();

  InitResult result;
  result.root_token = std::move(root->first);
  if (shares == 1) {
    result.keys.push_back(std::move(unseal_key));
  } else {
    ASSIGN_OR_RETURN(result.keys, shamir::Split(unseal_key, shares, threshold));
  }
  return result;
}

StatusOr<InitResult> Core::InitializeDev(const std::string& root_token_id) {
  ASSIGN_OR_RETURN(InitResult init, Initialize(1, 1));
  ASSIGN_OR_RETURN(SealState state, SubmitUnsealKey(init.keys[0]));
  if (state.sealed) return InternalError("dev mode: unseal did not complete");
  if (!root_token_id.empty()) {
    std::shared_lock lock(state_mu_);
    RETURN_IF_ERROR(tokens_->Revoke(init.root_token));
    ASSIGN_OR_RETURN(auto root, tokens_->CreateRootToken(root_token_id));
    init.root_token = root.first;
  }
  return init;
}

StatusOr<SealState> Core::SubmitUnsealKey(const SecretBytes& share) {
  std::unique_lock unseal_lock(unseal_mu_);
  ASSIGN_OR_RETURN(bool initialized, barrier_->Initialized());
  if (!initialized) return InvalidArgument("Vault is not initialized");
  if (!Sealed()) {
    unseal_lock.unlock();
    return GetSealState();
  }
  size_t expected = seal_shares_ == 1 ? 32 : 33;
  if (share.size() != expected) {
    return InvalidArgument("'key' has the wrong length: expected " + std::to_string(expected) + " bytes, got " +
                           std::to_string(share.size()));
  }
  bool duplicate = false;
  for (const auto& p : unseal_parts_) duplicate = duplicate || ConstantTimeEquals(AsStringView(p), AsStringView(share));
  if (!duplicate) unseal_parts_.push_back(share);
  if (unseal_nonce_.empty()) unseal_nonce_ = crypto::GenerateUuid();

  if (static_cast<int>(unseal_parts_.size()) >= seal_threshold_) {
    StatusOr<SecretBytes> key = seal_threshold_ == 1 ? StatusOr<SecretBytes>(unseal_parts_[0])
                                                     : shamir::Combine(unseal_parts_);
    unseal_parts_.clear();
    unseal_nonce_.clear();
    if (!key.ok()) return InvalidArgument("unseal failed: " + key.status().message());
    std::unique_lock lock(state_mu_);
    if (!barrier_->Unseal(*key).ok()) {
      return InvalidArgument("unseal failed: the key shares do not reconstruct the unseal key");
    }
    Status setup = PostUnseal();
    if (!setup.ok()) {
      PreSeal();
      return setup.WithContext("unseal failed");
    }
    sealed_.store(false, std::memory_order_release);
  }
  unseal_lock.unlock();
  return GetSealState();
}

void Core::ResetUnsealProgress() {
  std::lock_guard lock(unseal_mu_);
  unseal_parts_.clear();
  unseal_nonce_.clear();
}

SealState Core::GetSealState() const {
  SealState s;
  auto initialized = barrier_->Initialized();
  s.initialized = initialized.ok() && *initialized;
  s.sealed = Sealed();
  std::lock_guard lock(unseal_mu_);
  if (s.initialized) {
    s.threshold = seal_threshold_;
    s.shares = seal_shares_;
  }
  s.progress = static_cast<int>(unseal_parts_.size());
  s.nonce = unseal_nonce_;
  s.cluster_name = cluster_name_;
  s.cluster_id = cluster_id_;
  return s;
}

Status Core::Seal() {
  std::unique_lock lock(state_mu_);
  if (Sealed()) return OkStatus();
  PreSeal();
  return OkStatus();
}

void Core::PreSeal() {
  StopPurger();
  {
    std::unique_lock lock(acl_cache_mu_);
    acl_cache_.clear();
  }
  sealed_.store(true, std::memory_order_release);
  router_.Clear();
  tokens_->Reset();
  identity_->Reset();
  // Best effort: the encryption counters are advisory and must not block sealing.
  (void)barrier_->Checkpoint();
  barrier_->Seal();
}

Status Core::PostUnseal() {
  RETURN_IF_ERROR(tokens_->Setup());
  ASSIGN_OR_RETURN(auto raw, barrier_->Get(kMountTableKey));
  std::vector<MountEntry> mounts;
  if (raw) {
    ASSIGN_OR_RETURN(mounts, ParseMountTable(*raw));
  } else {
    MountEntry sys;
    sys.path = "sys/";
    sys.type = "system";
    sys.description = "system endpoints used for control, policy and debugging";
    sys.uuid = crypto::GenerateUuid();
    sys.accessor = "system_" + RandomHex(4);
    mounts.push_back(sys);
  }
  bool has_cubbyhole = false;
  for (const auto& m : mounts) has_cubbyhole = has_cubbyhole || m.type == "cubbyhole";
  if (!has_cubbyhole) {
    MountEntry cubby;
    cubby.path = "cubbyhole/";
    cubby.type = "cubbyhole";
    cubby.description = "per-token private secret storage";
    cubby.uuid = crypto::GenerateUuid();
    cubby.accessor = "cubbyhole_" + RandomHex(4);
    cubby.local = true;
    mounts.push_back(cubby);
  }
  if (!raw || !has_cubbyhole) {
    RETURN_IF_ERROR(barrier_->Put(kMountTableKey, SerializeMountTable(mounts)));
  }
  router_.Clear();
  for (const auto& m : mounts) {
    ASSIGN_OR_RETURN(auto route, BuildRoute(m));
    RETURN_IF_ERROR(router_.Mount(std::move(route)));
  }
  RETURN_IF_ERROR(policies_->Setup());
  // The token auth method is built in at auth/token/ (it keeps its data in the token store).
  if (!token_route_) {
    token_route_ = std::make_shared<Route>();
    token_route_->entry.path = "auth/token/";
    token_route_->entry.type = "token";
    token_route_->entry.description = "token based credentials";
    token_route_->entry.accessor = "auth_token_" + RandomHex(4);
    TokenBackendOptions topts;
    topts.default_lease_ttl = default_lease_ttl_;
    topts.max_lease_ttl = max_lease_ttl_;
    policy::PolicyStore* store = policies_.get();
    topts.policy_exists = [store](const std::string& name) {
      auto p = store->Get(name);
      return p.ok() && *p != nullptr;
    };
    topts.limits_for = [this](const std::string& creation_path) { return LimitsForPath(creation_path); };
    token_route_->backend = NewTokenBackend(tokens_.get(), topts);
  }
  RETURN_IF_ERROR(LoadAuthTable());
  RETURN_IF_ERROR(identity_->Setup());
  if (!identity_route_) {
    identity_route_ = std::make_shared<Route>();
    identity_route_->entry.path = "identity/";
    identity_route_->entry.type = "identity";
    identity_route_->entry.description = "identity store";
    identity_route_->entry.accessor = "identity_" + RandomHex(4);
    identity_route_->backend = NewIdentityBackend(
        identity_.get(), [this](const std::string& accessor) -> std::optional<std::pair<std::string, std::string>> {
          for (const MountEntry& m : AuthMounts()) {
            if (m.accessor == accessor) return std::make_pair(m.type, m.path);
          }
          return std::nullopt;
        });
  }
  RETURN_IF_ERROR(router_.Mount(identity_route_));
  StartPurger();
  return OkStatus();
}

void Core::StartPurger() {
  std::lock_guard lock(purger_mu_);
  if (purger_.joinable()) return;
  purger_stop_ = false;
  purger_ = std::thread([this] {
    std::unique_lock lock(purger_mu_);
    while (!purger_stop_) {
      purger_cv_.wait_for(lock, std::chrono::seconds(1));
      if (purger_stop_) break;
      lock.unlock();
      {
        // try_lock: a seal in progress holds the state exclusively and is waiting to stop us.
        std::shared_lock state(state_mu_, std::try_to_lock);
        if (state && !Sealed()) {
          auto purged = tokens_->PurgeExpired();
          (void)purged;  // a failed pass is retried on the next tick
        }
      }
      lock.lock();
    }
  });
}

void Core::StopPurger() {
  {
    std::lock_guard lock(purger_mu_);
    purger_stop_ = true;
  }
  purger_cv_.notify_all();
  if (purger_.joinable()) purger_.join();
}

StatusOr<std::shared_ptr<Route>> Core::BuildRoute(const MountEntry& entry) {
  auto route = std::make_shared<Route>();
  route->entry = entry;
  route->view = std::make_unique<logical::StorageView>(barrier_.get(), entry.StoragePrefix());
  if (entry.type == "system") {
    route->backend = NewSystemBackend(this);
    return route;
  }
  if (entry.type == "cubbyhole") {
    logical::BackendConfig config;
    config.storage = route->view.get();
    config.mount_path = entry.path;
    ASSIGN_OR_RETURN(route->backend, cubbyhole::NewCubbyholeBackend(config));
    return route;
  }
  const auto& factories = entry.auth ? auth_factories_ : factories_;
  auto it = factories.find(entry.type);
  if (it == factories.end()) {
    return InvalidArgument(std::string(entry.auth ? "unknown auth method type" : "unknown secrets engine type") + " \"" +
                           entry.type + "\"");
  }
  logical::BackendConfig config;
  config.storage = route->view.get();
  config.options = entry.options;
  config.mount_path = entry.path;
  config.mount_accessor = entry.accessor;
  config.default_lease_ttl_seconds =
      entry.config.default_lease_ttl > 0 ? entry.config.default_lease_ttl : default_lease_ttl_;
  config.max_lease_ttl_seconds = entry.config.max_lease_ttl > 0 ? entry.config.max_lease_ttl : max_lease_ttl_;
  ASSIGN_OR_RETURN(route->backend, it->second(config));
  return route;
}

Status Core::PersistMountTable() {
  std::vector<MountEntry> mounts;
  for (const auto& r : router_.All()) {
    if (!r->entry.auth && r != identity_route_) mounts.push_back(r->entry);
  }
  return barrier_->Put(kMountTableKey, SerializeMountTable(mounts));
}

Status Core::PersistAuthTable() {
  std::vector<MountEntry> mounts;
  for (const auto& r : router_.All()) {
    if (!r->entry.auth) continue;
    MountEntry e = r->entry;
    e.path = e.ApiPath();  // stored as Vault stores it: "approle/"
    mounts.push_back(std::move(e));
  }
  return barrier_->Put(kAuthTableKey, SerializeMountTable(mounts));
}

// The auth table holds the built-in token method (so its accessor and tuning survive restarts)
// and every enabled auth method. A first unseal creates it with the token method alone.
Status Core::LoadAuthTable() {
  ASSIGN_OR_RETURN(auto raw, barrier_->Get(kAuthTableKey));
  std::vector<MountEntry> entries;
  if (raw) {
    ASSIGN_OR_RETURN(entries, ParseMountTable(*raw));
  }
  bool has_token = false;
  for (MountEntry& e : entries) {
    e.auth = true;
    e.path = "auth/" + e.path;
    if (e.type == "token") {
      has_token = true;
      std::string path = token_route_->entry.path;
      token_route_->entry = e;
      token_route_->entry.path = path;
      RETURN_IF_ERROR(router_.Mount(token_route_));
      continue;
    }
    ASSIGN_OR_RETURN(auto route, BuildRoute(e));
    RETURN_IF_ERROR(router_.Mount(std::move(route)));
  }
  if (!has_token) {
    token_route_->entry.auth = true;
    if (token_route_->entry.uuid.empty()) token_route_->entry.uuid = crypto::GenerateUuid();
    RETURN_IF_ERROR(router_.Mount(token_route_));
    RETURN_IF_ERROR(PersistAuthTable());
  }
  return OkStatus();
}

LeaseLimits Core::LimitsForPath(std::string_view path) const {
  LeaseLimits limits{default_lease_ttl_, max_lease_ttl_};
  auto route = router_.Match(path);
  if (!route) return limits;
  if (route->entry.config.max_lease_ttl > 0) limits.max_ttl = route->entry.config.max_lease_ttl;
  if (route->entry.config.default_lease_ttl > 0) limits.default_ttl = route->entry.config.default_lease_ttl;
  if (limits.default_ttl > limits.max_ttl) limits.default_ttl = limits.max_ttl;
  return limits;
}

Status Core::EnableAuth(MountEntry entry) {
  std::lock_guard lock(mounts_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(std::string rel, NormalizeMountPath(entry.path));
  if (entry.type == "token") return InvalidArgument("token credential backend cannot be instantiated");
  if (auth_factories_.find(entry.type) == auth_factories_.end()) {
    std::string supported;
    for (const auto& [name, f] : auth_factories_) supported += (supported.empty() ? "" : ", ") + name;
    return InvalidArgument("unknown auth method type \"" + entry.type.substr(0, 64) + "\" (supported: " + supported +
                           ")");
  }
  entry.auth = true;
  entry.path = "auth/" + rel;
  if (router_.Get(entry.path)) return InvalidArgument("path is already in use at " + rel);
  entry.uuid = crypto::GenerateUuid();
  entry.accessor = "auth_" + entry.type + "_" + RandomHex(4);
  ASSIGN_OR_RETURN(auto route, BuildRoute(entry));
  RETURN_IF_ERROR(router_.Mount(route));
  Status persisted = PersistAuthTable();
  if (!persisted.ok()) {
    router_.Unmount(entry.path);
    return persisted;
  }
  return OkStatus();
}

Status Core::DisableAuth(const std::string& path) {
  std::lock_guard lock(mounts_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(std::string rel, NormalizeMountPath(path));
  std::string full = "auth/" + rel;
  auto route = router_.Get(full);
  if (!route || !route->entry.auth) return OkStatus();  // Vault: disabling an absent method succeeds
  if (route == token_route_) return InvalidArgument("token credential backend cannot be disabled");
  // Logins stop first, then every token they issued goes (with its children), then the data.
  router_.Unmount(full);
  Status persisted = PersistAuthTable();
  if (!persisted.ok()) {
    (void)router_.Mount(route);
    return persisted;
  }
  RETURN_IF_ERROR(RevokeTokenLeasesByPrefix(full).status());
  RETURN_IF_ERROR(identity_->RemoveAliasesOfMount(route->entry.accessor));
  return logical::ClearPrefix(*barrier_, route->entry.StoragePrefix());
}

std::vector<MountEntry> Core::AuthMounts() const {
  std::vector<MountEntry> out;
  for (const auto& r : router_.All()) {
    if (r->entry.auth) out.push_back(r->entry);
  }
  return out;
}

Status Core::EnableMount(MountEntry entry) {
  std::lock_guard lock(mounts_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(entry.path, NormalizeMountPath(entry.path));
  RETURN_IF_ERROR(CheckMountPathAllowed(entry.path));
  if (entry.type == "system" || entry.type == "cubbyhole") {
    return InvalidArgument("cannot mount another " + entry.type + " backend");
  }
  if (factories_.find(entry.type) == factories_.end()) {
    std::string supported;
    for (const auto& [name, f] : factories_) supported += (supported.empty() ? "" : ", ") + name;
    return InvalidArgument("unknown secrets engine type \"" + entry.type + "\" (supported: " + supported + ")");
  }
  entry.uuid = crypto::GenerateUuid();
  entry.accessor = entry.type + "_" + RandomHex(4);
  ASSIGN_OR_RETURN(auto route, BuildRoute(entry));
  RETURN_IF_ERROR(router_.Mount(route));
  Status persisted = PersistMountTable();
  if (!persisted.ok()) {
    router_.Unmount(entry.path);
    return persisted;
  }
  return OkStatus();
}

Status Core::DisableMount(const std::string& path) {
  std::lock_guard lock(mounts_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(std::string normalized, NormalizeMountPath(path));
  auto route = router_.Get(normalized);
  if (!route) return OkStatus();  // Vault: disabling an absent mount succeeds
  if (route->entry.type == "system" || route->entry.type == "cubbyhole") {
    return InvalidArgument("cannot unmount \"" + route->entry.path + "\"");
  }
  router_.Unmount(normalized);
  Status persisted = PersistMountTable();
  if (!persisted.ok()) {
    (void)router_.Mount(route);
    return persisted;
  }
  // The mount is gone from the table; now remove its data.
  return logical::ClearPrefix(*barrier_, route->entry.StoragePrefix());
}

std::optional<MountEntry> Core::MountFor(std::string_view path) const {
  auto route = router_.Match(path);
  if (!route) return std::nullopt;
  return route->entry;
}

Status Core::TuneMount(const std::string& path, const MountTune& tune) {
  std::lock_guard lock(mounts_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(std::string normalized, NormalizeMountPath(path));
  for (const char* untunable : {"sys/", "cubbyhole/", "identity/", "audit/"}) {
    if (normalized.rfind(untunable, 0) == 0) return InvalidArgument("cannot tune \"" + normalized + "\"");
  }
  auto route = router_.Get(normalized);
  if (!route) return InvalidArgument("no mount found at \"" + normalized + "\"");
  MountEntry updated = route->entry;
  if (tune.default_lease_ttl) updated.config.default_lease_ttl = *tune.default_lease_ttl;
  if (tune.max_lease_ttl) updated.config.max_lease_ttl = *tune.max_lease_ttl;
  if (updated.config.default_lease_ttl < 0 || updated.config.max_lease_ttl < 0) {
    return InvalidArgument("lease TTLs cannot be negative");
  }
  int64_t effective_max = updated.config.max_lease_ttl > 0 ? updated.config.max_lease_ttl : max_lease_ttl_;
  if (updated.config.default_lease_ttl > effective_max) {
    return InvalidArgument("default_lease_ttl cannot be larger than max_lease_ttl");
  }
  if (tune.description) updated.description = *tune.description;
  bool rebuild = false;
  if (tune.options) {
    for (const auto& [k, v] : *tune.options) {
      if (k == "version" && updated.type == "kv") {
        std::string current = updated.options.count("version") ? updated.options["version"] : "1";
        if (current.empty()) current = "1";
        if (v == current) continue;
        if (current == "2" && v == "1") return InvalidArgument("cannot downgrade mount from KV v2 to KV v1");
        if (v != "1" && v != "2") return InvalidArgument("invalid kv version \"" + v.substr(0, 16) + "\": use \"1\" or \"2\"");
        rebuild = true;
      }
      updated.options[k] = v;
    }
  }
  std::shared_ptr<Route> replacement = route;
  if (!updated.auth && (rebuild || updated.config.default_lease_ttl != route->entry.config.default_lease_ttl)) {
    // A new backend instance over the same data: the kv factory upgrades v1 data to v2.
    ASSIGN_OR_RETURN(replacement, BuildRoute(updated));
  } else {
    replacement = std::make_shared<Route>();
    replacement->entry = updated;
    replacement->view = route->view;
    replacement->backend = route->backend;
  }
  router_.Unmount(normalized);
  RETURN_IF_ERROR(router_.Mount(replacement));
  if (route == token_route_) token_route_ = replacement;
  return updated.auth ? PersistAuthTable() : PersistMountTable();
}

Status Core::RemountMount(const std::string& from, const std::string& to) {
  std::lock_guard lock(mounts_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(std::string src, NormalizeMountPath(from));
  ASSIGN_OR_RETURN(std::string dst, NormalizeMountPath(to));
  auto route = router_.Get(src);
  if (!route) return InvalidArgument("no secrets engine mounted at \"" + src + "\"");
  if (route->entry.type == "system" || route->entry.type == "cubbyhole") {
    return InvalidArgument("cannot remount \"" + src + "\"");
  }
  if (route->entry.auth) return InvalidArgument("cannot remount auth method \"" + src + "\": not supported by Coffer");
  RETURN_IF_ERROR(CheckMountPathAllowed(dst));
  MountEntry moved = route->entry;
  moved.path = dst;
  ASSIGN_OR_RETURN(auto replacement, BuildRoute(moved));
  router_.Unmount(src);
  Status mounted = router_.Mount(replacement);
  if (!mounted.ok()) {
    (void)router_.Mount(route);
    return mounted;
  }
  Status persisted = PersistMountTable();
  if (!persisted.ok()) {
    router_.Unmount(dst);
    (void)router_.Mount(route);
  }
  return persisted;
}

void Core::RecordMigration(const std::string& id, const std::string& from, const std::string& to) {
  std::lock_guard lock(migrations_mu_);
  if (migrations_.size() >= 1000) migrations_.erase(migrations_.begin());
  migrations_[id] = {from, to};
}

std::optional<std::pair<std::string, std::string>> Core::LookupMigration(const std::string& id) const {
  std::lock_guard lock(migrations_mu_);
  auto it = migrations_.find(id);
  if (it == migrations_.end()) return std::nullopt;
  return it->second;
}

Status Core::CheckMountPathAllowed(const std::string& path) const {
  for (const char* reserved : {"sys/", "auth/", "cubbyhole/", "identity/"}) {
    std::string r(reserved);
    if (path.rfind(r, 0) == 0 || r.rfind(path, 0) == 0) {
      return InvalidArgument("cannot mount at \"" + path + "\": the path is reserved");
    }
  }
  return OkStatus();
}

std::vector<MountEntry> Core::Mounts() const {
  std::vector<MountEntry> out;
  for (const auto& r : router_.All()) {
    if (!r->entry.auth) out.push_back(r->entry);  // secrets engines only
  }
  return out;
}

Status Core::RotateKeyring() { return barrier_->Rotate(); }

StatusOr<Core::KeyInfo> Core::ActiveKey() const {
  ASSIGN_OR_RETURN(auto s, barrier_->ActiveKeyStatus());
  return KeyInfo{s.term, s.install_time_unix, s.encryptions};
}

StatusOr<std::shared_ptr<const TokenEntry>> Core::Authenticate(const logical::Request& req) const {
  if (req.client_token.empty()) return PermissionDenied();
  ASSIGN_OR_RETURN(auto entry, tokens_->LookupShared(req.client_token));
  if (!entry) return PermissionDenied("permission denied");
  // token_bound_cidrs: the token works only from those addresses (Vault answers 403).
  if (!entry->bound_cidrs.empty() && !AddressAllowed(entry->bound_cidrs, req.remote_address)) {
    return PermissionDenied("permission denied");
  }
  return entry;
}

StatusOr<std::shared_ptr<const policy::Acl>> Core::AclOf(const TokenEntry& token) const {
  uint64_t generation = policies_->generation();
  uint64_t id_generation = token.entity_id.empty() ? 0 : identity_->generation();
  {
    std::shared_lock lock(acl_cache_mu_);
    auto it = acl_cache_.find(token.id_hash);
    if (it != acl_cache_.end() && it->second.generation == generation && it->second.identity_generation == id_generation)
      return it->second.acl;
  }
  std::vector<std::string> names = token.policies;
  std::optional<policy::IdentityContext> ctx;
  if (!token.entity_id.empty()) {
    IdentityStore::Snapshot s = identity_->GetWithGeneration(token.entity_id);
    if (s.entity) {
      if (s.entity->disabled) return PermissionDenied();
      names.insert(names.end(), s.entity->policies.begin(), s.entity->policies.end());
      ctx = IdentityContextOf(*s.entity, s.generation);
    }
    id_generation = s.generation;
  }
  ASSIGN_OR_RETURN(auto acl, policies_->AclFor(names, ctx ? &*ctx : nullptr));
  std::unique_lock lock(acl_cache_mu_);
  if (acl_cache_.size() >= 10000) acl_cache_.clear();  // bounded; entries are cheap to rebuild
  acl_cache_[token.id_hash] = CachedAcl{generation, id_generation, acl};
  return acl;
}

namespace {

// Vault's root-protected paths: they need sudo (or root) on top of the capability itself.
bool NeedsSudo(std::string_view path) {
  struct Rule {
    std::string_view pattern;
    bool prefix;
  };
  static constexpr Rule kRules[] = {
      {"sys/seal", false},          {"sys/step-down", false},        {"sys/rotate", false},
      {"sys/remount", false},       {"sys/auth/", true},             {"sys/audit", false},
      {"sys/audit/", true},         {"sys/raw", false},              {"sys/raw/", true},
      {"sys/config/cors", false},   {"sys/config/auditing/", true},  {"sys/config/ui/headers/", true},
      {"sys/plugins/catalog/", true}, {"sys/revoke-prefix/", true},  {"sys/revoke-force/", true},
      {"sys/leases/revoke-prefix/", true}, {"sys/leases/revoke-force/", true},
      {"sys/leases/lookup/", true}, {"sys/leases", false},
      // Vault protects "revoke-orphan/*" (the bare path checks sudo in the handler) and "accessors*".
      {"auth/token/revoke-orphan/", true}, {"auth/token/accessors", true},
  };
  for (const Rule& r : kRules) {
    if (r.prefix ? path.substr(0, r.pattern.size()) == r.pattern : path == r.pattern) return true;
  }
  return false;
}

// Paths any valid token may call; the handler itself filters by the caller's ACL (Vault lists
// them as unauthenticated for the ACL check).
bool SkipsAcl(std::string_view path) {
  return path == "sys/internal/ui/mounts" || path.substr(0, 23) == "sys/internal/ui/mounts/";
}

}  // namespace

Status Core::Authorize(const TokenEntry& token, logical::Request& req) const {
  ASSIGN_OR_RETURN(auto acl, AclOf(token));
  req.client_root = acl->root();
  if (SkipsAcl(req.path)) {
    req.client_sudo = req.client_root;
    return OkStatus();
  }
  policy::AclResult result = acl->Check(req.path, req.operation, req.data);
  if (!result.allowed) return PermissionDenied();
  if (NeedsSudo(req.path) && !result.sudo) return PermissionDenied();
  req.client_sudo = result.sudo;
  return OkStatus();
}

bool Core::CallerCanSeeMount(const logical::Request& req, const std::string& mount_path) const {
  if (req.client_root) return true;
  auto token = tokens_->LookupShared(req.client_token);
  if (!token.ok() || !*token) return false;
  auto acl = AclOf(**token);
  return acl.ok() && (*acl)->HasMountAccess(mount_path);
}

StatusOr<std::vector<std::vector<std::string>>> Core::CapabilitiesOf(const std::string& token_or_accessor,
                                                                     bool by_accessor,
                                                                     const std::vector<std::string>& paths) const {
  ASSIGN_OR_RETURN(auto entry, by_accessor ? tokens_->LookupByAccessor(token_or_accessor)
                                           : tokens_->Lookup(token_or_accessor));
  if (!entry) return InvalidArgument(by_accessor ? "invalid accessor" : "invalid token");
  ASSIGN_OR_RETURN(auto acl, AclOf(*entry));
  std::vector<std::vector<std::string>> out;
  for (const auto& p : paths) {
    std::string_view path = p;
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    out.push_back(acl->CapabilityNamesFor(path));
  }
  return out;
}

StatusOr<logical::Response> Core::HandleSealRequest(logical::Request& req) {
  if (req.operation != logical::Operation::kUpdate && req.operation != logical::Operation::kCreate) {
    return UnsupportedOperation();
  }
  {
    std::shared_lock lock(state_mu_);
    if (Sealed()) return SealedError();
    ASSIGN_OR_RETURN(auto token, Authenticate(req));
    req.operation = logical::Operation::kUpdate;
    RETURN_IF_ERROR(Authorize(*token, req));
  }
  RETURN_IF_ERROR(Seal());
  return logical::Response();
}

StatusOr<logical::Response> Core::HandleRequest(logical::Request& req) {
  bool handled = false;
  auto unauth = HandleUnauthenticated(req, &handled);
  if (handled) return unauth;
  if (req.path == "sys/seal") return HandleSealRequest(req);

  std::shared_lock lock(state_mu_);
  if (Sealed()) return SealedError();
  if (req.path.compare(0, 5, "auth/") == 0) {
    auto route = router_.Match(req.path);
    if (route && route->entry.auth && route != token_route_) {
      req.mount_point = route->entry.path;
      if (route->backend->IsUnauthenticated(req.RelativePath())) return HandleLogin(req, route);
    }
  }
  ASSIGN_OR_RETURN(auto token, Authenticate(req));
  return Dispatch(req, *token);
}

StatusOr<logical::Response> Core::HandleLogin(logical::Request& req, const std::shared_ptr<Route>& route) {
  req.mount_point = route->entry.path;
  req.mount_type = route->entry.type;
  req.mount_accessor = route->entry.accessor;
  req.storage = route->view.get();
  // A login needs no token; one sent along is neither checked nor shown to the method.
  req.client_token.clear();
  req.client_token_accessor.clear();
  ASSIGN_OR_RETURN(logical::Response resp, route->backend->HandleRequest(req));
  if (!resp.login) return resp;
  return IssueLoginToken(req, route->entry, std::move(resp));
}

StatusOr<logical::Response> Core::IssueLoginToken(const logical::Request& req, const MountEntry& mount,
                                                  logical::Response resp) {
  logical::Auth auth = std::move(*resp.login);
  resp.login.reset();
  if (auth.alias.name.empty()) return InternalError("auth method " + mount.path + " returned a login without an alias");
  if (auth.token_type == "batch") return InvalidArgument("batch tokens are not supported");

  std::vector<std::string> policies = logical::NormalizePolicyNames(auth.policies);
  if (!auth.no_default_policy && std::find(policies.begin(), policies.end(), "default") == policies.end()) {
    policies.push_back("default");
    std::sort(policies.begin(), policies.end());
  }

  // Vault's CalculateTTL over the method's mount limits, capped by the role's max TTL.
  LeaseLimits limits = LimitsForPath(mount.path);
  if (auth.max_ttl > 0 && auth.max_ttl < limits.max_ttl) limits.max_ttl = auth.max_ttl;
  if (limits.default_ttl > limits.max_ttl) limits.default_ttl = limits.max_ttl;
  int64_t now = tokens_->Now();
  ASSIGN_OR_RETURN(TtlResult ttl, CalculateTtl(limits, 0, auth.ttl, auth.period, auth.explicit_max_ttl, now, now));

  TokenCreateParams params;
  params.policies = std::move(policies);
  params.meta = std::move(auth.metadata);
  // Vault prefixes the method's path: "approle", "userpass-alice", "jwt-bob".
  std::string source = mount.ApiPath();
  std::replace(source.begin(), source.end(), '/', '-');
  std::string display = source + auth.display_name;
  while (!display.empty() && display.back() == '-') display.pop_back();
  params.display_name = display;
  params.path = req.path;
  params.ttl = ttl.ttl;
  params.explicit_max_ttl = auth.explicit_max_ttl;
  params.period = auth.period;
  params.num_uses = auth.num_uses;
  params.renewable = auth.renewable;
  params.bound_cidrs = std::move(auth.bound_cidrs);
  params.backend_max_ttl = auth.max_ttl;
  ASSIGN_OR_RETURN(std::shared_ptr<const Entity> entity,
                   identity_->EntityForLogin(mount.accessor, mount.type, mount.path, auth.alias));
  params.entity_id = entity->id;
  ASSIGN_OR_RETURN(CreatedToken created, tokens_->Create(params, nullptr));

  resp.auth = AuthBlock(created.entry, created.token, created.entry.ttl, created.entry.renewable, entity->policies);
  for (auto& w : ttl.warnings) resp.warnings.push_back(std::move(w));
  return resp;
}

StatusOr<logical::Response> Core::Dispatch(logical::Request& req, const TokenEntry& token) {
  req.client_token_accessor = token.accessor;
  auto route = router_.Match(req.path);
  if (!route) {
    // Not found only for callers allowed to know; everyone else learns nothing.
    RETURN_IF_ERROR(Authorize(token, req));
    return NotFound("no handler for route \"" + req.path + "\". route entry not found.");
  }
  req.mount_point = route->entry.path;
  req.mount_type = route->entry.type;
  req.mount_accessor = route->entry.accessor;
  req.storage = route->view ? route->view.get() : nullptr;
  // As in Vault, the existence check decides whether a write needs "create" or "update".
  if (req.operation == logical::Operation::kUpdate) {
    ASSIGN_OR_RETURN(auto exists, route->backend->ExistenceCheck(req));
    if (exists.has_value() && !*exists) req.operation = logical::Operation::kCreate;
  }
  RETURN_IF_ERROR(Authorize(token, req));

  bool last_use = false;
  if (token.num_uses > 0) {
    ASSIGN_OR_RETURN(last_use, tokens_->UseToken(token));
  }
  auto result = route->backend->HandleRequest(req);
  if (last_use) {
    Status revoked = tokens_->RevokeTree(token.id_hash);
    (void)revoked;  // the token is already unusable; tidy removes leftovers
  }
  return result;
}

StatusOr<int64_t> Core::RevokeTokenLeasesByPrefix(std::string prefix) {
  if (prefix.empty() || prefix.back() != '/') prefix += '/';
  ASSIGN_OR_RETURN(std::vector<std::string> accessors, tokens_->ListAccessors());
  int64_t revoked = 0;
  for (const std::string& accessor : accessors) {
    ASSIGN_OR_RETURN(std::optional<TokenEntry> entry, tokens_->LookupByAccessor(accessor));
    if (!entry || entry->expire_time == 0) continue;  // gone already, or no lease to revoke
    // A token's lease id is its creation path plus a unique suffix.
    if ((entry->path + "/").compare(0, prefix.size(), prefix) != 0) continue;
    RETURN_IF_ERROR(tokens_->RevokeTree(entry->id_hash));
    ++revoked;
  }
  return revoked;
}

}  // namespace coffer::core
