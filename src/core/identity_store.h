// IdentityStore: Vault's identity entities and their aliases.
//
// An entity is one client as Coffer knows it, whatever auth method it logs in with; an alias is
// the name an auth mount knows it by (a userpass user, an AppRole role id, a JWT subject). On
// every login the core asks EntityForLogin for the entity of (mount accessor, alias name),
// puts its id in the token and uses it for the token's identity policies and templated ACLs.
//
// Layout inside the store's view (the barrier view "sys/identity/"):
//   entity/<entity id>   the entity as JSON, its aliases inside (as Vault stores them)
// Every entity is decoded once (Setup) and kept in memory with indexes by id, by name, by alias
// id and by alias factors (mount accessor, alias name). Entity names and alias names compare
// case-insensitively, as in Vault's default. An entity holds at most one alias per mount.
//
// Thread-safe after Setup(): reads share a lock, changes are serialized by an exclusive lock held
// across their storage write, so concurrent first logins for one alias make one entity and a
// reader never sees an entity older than a finished write. Entities are immutable once
// published (changes copy, persist, then swap the pointer): callers may keep the shared_ptr.
// Setup() runs at unseal, Reset() at seal.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "logical/request.h"
#include "logical/storage.h"
#include "policy/identity_template.h"

namespace coffer::core {

struct EntityAlias {
  std::string id;
  std::string canonical_id;  // the entity's id
  std::string mount_accessor;
  std::string mount_type;  // as when the alias was created or last logged in
  std::string mount_path;
  std::string name;
  std::map<std::string, std::string> metadata;         // set by the auth method at login
  std::map<std::string, std::string> custom_metadata;  // set through the identity API
  int64_t creation_time = 0;                           // unix seconds
  int64_t last_update_time = 0;
};

struct Entity {
  std::string id;
  std::string name;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> policies;  // the entity's identity policies, de-duplicated
  bool disabled = false;              // tokens of a disabled entity are refused
  int64_t creation_time = 0;          // unix seconds
  int64_t last_update_time = 0;
  std::vector<EntityAlias> aliases;

  // The entity's alias on the mount with `mount_accessor`, or nullptr.
  const EntityAlias* AliasFor(std::string_view mount_accessor) const;
};

// What templated policies see of `entity`; `generation` is the store's generation when the
// entity was read (it keys PolicyStore's cache of ACLs rendered for the entity).
policy::IdentityContext IdentityContextOf(const Entity& entity, uint64_t generation);

class IdentityStore {
 public:
  using Clock = std::function<int64_t()>;  // unix seconds

  // `view` is the barrier view reserved for identity; borrowed, outlives the store.
  explicit IdentityStore(logical::Storage* view);
  IdentityStore(const IdentityStore&) = delete;
  IdentityStore& operator=(const IdentityStore&) = delete;

  // Test hook (default: time(nullptr)). Set it before the store is used concurrently.
  void SetClock(Clock clock);

  // Loads every stored entity and builds the indexes. An entry that does not decode, or two
  // entities claiming one name or alias, is an error (kDataLoss) naming the entity id.
  Status Setup();
  // Drops everything in memory (at seal); Setup() loads it again.
  void Reset();
  // Changes on every change to any entity or alias: an ACL built from entity data at generation
  // G stays valid while generation() == G.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // The entity of the login that `alias` describes on the auth mount `mount_accessor` (of type
  // `mount_type` at `mount_path`, e.g. "userpass", "auth/userpass/"). The first login creates
  // the entity (named "entity_<8 hex>") and its alias; later logins reuse them, and update the
  // alias metadata (and mount path and type) when they changed. A disabled entity is
  // PermissionDenied "permission denied"; an empty alias name or accessor is InvalidArgument.
  StatusOr<std::shared_ptr<const Entity>> EntityForLogin(const std::string& mount_accessor,
                                                         const std::string& mount_type,
                                                         const std::string& mount_path, const logical::Alias& alias);

  // The entity with this id, or nullptr.
  StatusOr<std::shared_ptr<const Entity>> Get(std::string_view entity_id) const;
  // The entity with this id (nullptr when none) and the generation it belongs to, read together:
  // what the core needs to build a token's ACL (identity policies, templated rules) and to cache
  // it under that generation without ever caching a stale rendering.
  struct Snapshot {
    std::shared_ptr<const Entity> entity;
    uint64_t generation = 0;
  };
  Snapshot GetWithGeneration(std::string_view entity_id) const;
  // The entity with this name (case-insensitive), or nullptr.
  std::shared_ptr<const Entity> GetByName(std::string_view name) const;

  // Deletes every alias of the auth mount `mount_accessor` (the core calls it when the mount is
  // disabled, as Vault does); the entities stay. Stops at the first storage error, leaving the
  // remaining aliases in place (calling it again finishes the job).
  Status RemoveAliasesOfMount(const std::string& mount_accessor);

  // --- For the identity backend (identity/ API) ---

  // An entity write, Vault's handleEntityUpdateCommon: `id` set → that entity must exist (else
  // InvalidArgument "entity not found from id"); otherwise `name` set and taken → that entity
  // is updated; otherwise a new entity is created. A name taken by another entity is
  // "entity name is already in use". Unset optionals keep the current values.
  struct EntityWrite {
    std::string id;
    std::string name;
    std::optional<std::map<std::string, std::string>> metadata;
    std::optional<std::vector<std::string>> policies;
    std::optional<bool> disabled;
  };
  struct EntityWriteResult {
    std::shared_ptr<const Entity> entity;
    bool created = false;
  };
  StatusOr<EntityWriteResult> WriteEntity(const EntityWrite& write);
  // Deletes the entity and its aliases; a missing entity is OK. Returns whether it existed.
  StatusOr<bool> DeleteEntity(std::string_view entity_id);
  // Every entity, sorted by id.
  std::vector<std::shared_ptr<const Entity>> ListEntities() const;

  // An alias and the entity holding it (alias points into *entity).
  struct AliasRef {
    std::shared_ptr<const Entity> entity;
    const EntityAlias* alias = nullptr;
    explicit operator bool() const { return alias != nullptr; }
  };
  AliasRef GetAlias(std::string_view alias_id) const;
  AliasRef AliasByFactors(std::string_view mount_accessor, std::string_view name) const;
  // Every alias, sorted by alias id.
  std::vector<AliasRef> ListAliases() const;

  // An alias write (Vault's entity-alias create/update). To create: `name` and `mount_accessor`
  // (whose mount the caller validated and described in mount_type/mount_path) and optionally
  // `canonical_id` (else a new entity is made). With `id` it updates that alias: name, mount
  // and custom metadata when given, and moves it to `canonical_id` when that differs. Errors
  // are InvalidArgument with Vault's texts ("invalid alias ID provided", "invalid canonical ID",
  // "Alias already exists for requested entity and mount accessor", "alias with combination of
  // mount accessor and name already exists", ...). `changed` is false when nothing changed.
  struct AliasWrite {
    std::string id;
    std::string name;
    std::string mount_accessor;
    std::string mount_type;
    std::string mount_path;
    std::string canonical_id;
    std::optional<std::map<std::string, std::string>> custom_metadata;
  };
  struct AliasWriteResult {
    std::string alias_id;
    std::string canonical_id;
    bool changed = false;
  };
  StatusOr<AliasWriteResult> WriteAlias(const AliasWrite& write);
  // Deletes the alias (its entity stays); a missing alias is OK. Returns whether it existed.
  StatusOr<bool> DeleteAlias(std::string_view alias_id);

 private:
  using EntityPtr = std::shared_ptr<const Entity>;

  int64_t Now() const;
  // A fresh "entity_<8 hex>" no entity holds. Caller holds mu_.
  std::string GenerateNameLocked() const;
  // Persists `changed` (and deletes `deleted` ids) in one storage transaction, then updates the
  // indexes and bumps the generation. Caller holds mu_ exclusively.
  Status CommitLocked(const std::vector<std::shared_ptr<Entity>>& changed, const std::vector<std::string>& deleted);
  void IndexLocked(const EntityPtr& entity);
  void UnindexLocked(const Entity& entity);
  EntityPtr FindLocked(std::string_view id) const;
  AliasRef AliasRefLocked(const std::string& alias_id) const;

  logical::Storage* view_;
  Clock clock_;
  std::atomic<uint64_t> generation_{1};

  mutable std::shared_mutex mu_;
  // Guarded by mu_:
  std::unordered_map<std::string, EntityPtr> by_id_;
  std::unordered_map<std::string, std::string> id_by_name_;     // lower-cased name → entity id
  std::unordered_map<std::string, std::string> entity_by_alias_;  // alias id → entity id
  std::unordered_map<std::string, std::string> alias_by_factors_;  // accessor '\n' lower(name) → alias id
};

}  // namespace coffer::core
