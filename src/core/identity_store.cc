#include "core/identity_store.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "crypto/random.h"

namespace coffer::core {
namespace {

using nlohmann::json;

constexpr std::string_view kEntityPrefix = "entity/";

std::string FactorsKey(std::string_view mount_accessor, std::string_view name) {
  std::string key = AsciiLower(mount_accessor);
  key += '\n';
  key += AsciiLower(name);
  return key;
}

std::string RandomHex(size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string raw = crypto::RandomBytes(bytes);
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

// Trimmed, without empties and duplicates, in first-seen order (Vault's RemoveDuplicates keeps
// them sorted; order carries no meaning for policies).
std::vector<std::string> CleanPolicies(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& raw : in) {
    size_t b = raw.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    std::string p = raw.substr(b, raw.find_last_not_of(" \t") - b + 1);
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end());
  return out;
}

json AliasToJson(const EntityAlias& a) {
  return json{{"id", a.id},
              {"canonical_id", a.canonical_id},
              {"mount_accessor", a.mount_accessor},
              {"mount_type", a.mount_type},
              {"mount_path", a.mount_path},
              {"name", a.name},
              {"metadata", a.metadata},
              {"custom_metadata", a.custom_metadata},
              {"creation_time", a.creation_time},
              {"last_update_time", a.last_update_time}};
}

std::string EntityToJson(const Entity& e) {
  json aliases = json::array();
  for (const EntityAlias& a : e.aliases) aliases.push_back(AliasToJson(a));
  json j{{"id", e.id},
         {"name", e.name},
         {"metadata", e.metadata},
         {"policies", e.policies},
         {"disabled", e.disabled},
         {"creation_time", e.creation_time},
         {"last_update_time", e.last_update_time},
         {"aliases", std::move(aliases)}};
  // Names and metadata come from clients; invalid UTF-8 is replaced rather than refused here
  // (the HTTP layer only lets valid JSON in, so this is belt and braces).
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

template <typename T>
bool Take(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  try {
    *out = it->get<T>();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

StatusOr<std::shared_ptr<Entity>> EntityFromJson(std::string_view key, std::string_view text) {
  auto bad = [&] { return DataLoss("identity store: the stored entity \"" + std::string(key) + "\" is malformed"); };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad();
  auto e = std::make_shared<Entity>();
  if (!Take(j, "id", &e->id) || !Take(j, "name", &e->name) || !Take(j, "metadata", &e->metadata) ||
      !Take(j, "policies", &e->policies) || !Take(j, "disabled", &e->disabled) ||
      !Take(j, "creation_time", &e->creation_time) || !Take(j, "last_update_time", &e->last_update_time)) {
    return bad();
  }
  if (e->id.empty() || e->name.empty()) return bad();
  auto aliases = j.find("aliases");
  if (aliases != j.end() && !aliases->is_null()) {
    if (!aliases->is_array()) return bad();
    for (const json& aj : *aliases) {
      if (!aj.is_object()) return bad();
      EntityAlias a;
      if (!Take(aj, "id", &a.id) || !Take(aj, "canonical_id", &a.canonical_id) ||
          !Take(aj, "mount_accessor", &a.mount_accessor) || !Take(aj, "mount_type", &a.mount_type) ||
          !Take(aj, "mount_path", &a.mount_path) || !Take(aj, "name", &a.name) || !Take(aj, "metadata", &a.metadata) ||
          !Take(aj, "custom_metadata", &a.custom_metadata) || !Take(aj, "creation_time", &a.creation_time) ||
          !Take(aj, "last_update_time", &a.last_update_time)) {
        return bad();
      }
      if (a.id.empty() || a.mount_accessor.empty() || a.name.empty()) return bad();
      a.canonical_id = e->id;
      e->aliases.push_back(std::move(a));
    }
  }
  return e;
}

}  // namespace

const EntityAlias* Entity::AliasFor(std::string_view mount_accessor) const {
  for (const EntityAlias& a : aliases) {
    if (a.mount_accessor == mount_accessor) return &a;
  }
  return nullptr;
}

policy::IdentityContext IdentityContextOf(const Entity& entity, uint64_t generation) {
  policy::IdentityContext c;
  c.entity_id = entity.id;
  c.entity_name = entity.name;
  c.metadata = entity.metadata;
  for (const EntityAlias& a : entity.aliases) {
    policy::IdentityContext::Alias alias;
    alias.id = a.id;
    alias.name = a.name;
    alias.metadata = a.metadata;
    alias.custom_metadata = a.custom_metadata;
    c.aliases.emplace(a.mount_accessor, std::move(alias));
  }
  c.generation = generation;
  return c;
}

IdentityStore::IdentityStore(logical::Storage* view) : view_(view) {}

void IdentityStore::SetClock(Clock clock) { clock_ = std::move(clock); }

int64_t IdentityStore::Now() const { return clock_ ? clock_() : static_cast<int64_t>(std::time(nullptr)); }

Status IdentityStore::Setup() {
  std::unique_lock lock(mu_);
  by_id_.clear();
  id_by_name_.clear();
  entity_by_alias_.clear();
  alias_by_factors_.clear();
  ASSIGN_OR_RETURN(std::vector<std::string> keys, view_->List(kEntityPrefix));
  for (const std::string& name : keys) {
    if (name.empty() || name.back() == '/') continue;
    const std::string key = std::string(kEntityPrefix) + name;
    ASSIGN_OR_RETURN(std::optional<std::string> text, view_->Get(key));
    if (!text) continue;  // deleted meanwhile
    ASSIGN_OR_RETURN(std::shared_ptr<Entity> entity, EntityFromJson(key, *text));
    if (entity->id != name) return DataLoss("identity store: the entity stored at \"" + key + "\" has another id");
    if (by_id_.count(entity->id) || id_by_name_.count(AsciiLower(entity->name))) {
      return DataLoss("identity store: entity \"" + entity->id + "\" duplicates the name of another entity");
    }
    for (const EntityAlias& a : entity->aliases) {
      if (entity_by_alias_.count(a.id) || alias_by_factors_.count(FactorsKey(a.mount_accessor, a.name))) {
        return DataLoss("identity store: entity \"" + entity->id + "\" holds an alias another entity holds");
      }
    }
    IndexLocked(std::move(entity));
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return OkStatus();
}

void IdentityStore::Reset() {
  std::unique_lock lock(mu_);
  by_id_.clear();
  id_by_name_.clear();
  entity_by_alias_.clear();
  alias_by_factors_.clear();
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void IdentityStore::IndexLocked(const EntityPtr& entity) {
  by_id_[entity->id] = entity;
  id_by_name_[AsciiLower(entity->name)] = entity->id;
  for (const EntityAlias& a : entity->aliases) {
    entity_by_alias_[a.id] = entity->id;
    alias_by_factors_[FactorsKey(a.mount_accessor, a.name)] = a.id;
  }
}

void IdentityStore::UnindexLocked(const Entity& entity) {
  by_id_.erase(entity.id);
  if (auto it = id_by_name_.find(AsciiLower(entity.name)); it != id_by_name_.end() && it->second == entity.id) {
    id_by_name_.erase(it);
  }
  for (const EntityAlias& a : entity.aliases) {
    entity_by_alias_.erase(a.id);
    auto it = alias_by_factors_.find(FactorsKey(a.mount_accessor, a.name));
    if (it != alias_by_factors_.end() && it->second == a.id) alias_by_factors_.erase(it);
  }
}

IdentityStore::EntityPtr IdentityStore::FindLocked(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : it->second;
}

IdentityStore::AliasRef IdentityStore::AliasRefLocked(const std::string& alias_id) const {
  AliasRef ref;
  auto owner = entity_by_alias_.find(alias_id);
  if (owner == entity_by_alias_.end()) return ref;
  ref.entity = FindLocked(owner->second);
  if (ref.entity == nullptr) return AliasRef();
  for (const EntityAlias& a : ref.entity->aliases) {
    if (a.id == alias_id) ref.alias = &a;
  }
  if (ref.alias == nullptr) ref.entity = nullptr;
  return ref;
}

std::string IdentityStore::GenerateNameLocked() const {
  while (true) {
    std::string name = "entity_" + RandomHex(4);
    if (!id_by_name_.count(name)) return name;
  }
}

Status IdentityStore::CommitLocked(const std::vector<std::shared_ptr<Entity>>& changed,
                                   const std::vector<std::string>& deleted) {
  std::vector<logical::TxnOp> ops;
  for (const auto& e : changed) {
    ops.push_back(logical::TxnOp{logical::TxnOp::Kind::kPut, std::string(kEntityPrefix) + e->id, EntityToJson(*e)});
  }
  for (const std::string& id : deleted) {
    ops.push_back(logical::TxnOp{logical::TxnOp::Kind::kDelete, std::string(kEntityPrefix) + id, ""});
  }
  if (ops.size() == 1 && ops[0].kind == logical::TxnOp::Kind::kPut) {
    RETURN_IF_ERROR(view_->Put(ops[0].key, ops[0].value));
  } else if (ops.size() == 1) {
    RETURN_IF_ERROR(view_->Delete(ops[0].key));
  } else if (!ops.empty()) {
    RETURN_IF_ERROR(view_->Transaction(ops));
  }
  for (const std::string& id : deleted) {
    if (EntityPtr old = FindLocked(id)) UnindexLocked(*old);
  }
  for (const auto& e : changed) {
    if (EntityPtr old = FindLocked(e->id)) UnindexLocked(*old);
  }
  for (const auto& e : changed) IndexLocked(e);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return OkStatus();
}

StatusOr<std::shared_ptr<const Entity>> IdentityStore::EntityForLogin(const std::string& mount_accessor,
                                                                      const std::string& mount_type,
                                                                      const std::string& mount_path,
                                                                      const logical::Alias& alias) {
  if (mount_accessor.empty()) return InvalidArgument("identity: missing mount accessor for the login alias");
  if (alias.name.empty()) return InvalidArgument("identity: the auth method reported no alias name for the login");
  const std::string factors = FactorsKey(mount_accessor, alias.name);
  // Whether the stored alias already says what this login says.
  auto current = [&](const EntityAlias& a) {
    return a.metadata == alias.metadata && a.mount_type == mount_type && a.mount_path == mount_path;
  };
  {
    std::shared_lock lock(mu_);
    if (auto it = alias_by_factors_.find(factors); it != alias_by_factors_.end()) {
      AliasRef ref = AliasRefLocked(it->second);
      if (ref && ref.entity->disabled) return PermissionDenied();
      if (ref && current(*ref.alias)) return ref.entity;
    }
  }
  std::unique_lock lock(mu_);
  const int64_t now = Now();
  if (auto it = alias_by_factors_.find(factors); it != alias_by_factors_.end()) {
    AliasRef ref = AliasRefLocked(it->second);
    if (ref) {
      if (ref.entity->disabled) return PermissionDenied();
      if (current(*ref.alias)) return ref.entity;  // another login updated it meanwhile
      auto updated = std::make_shared<Entity>(*ref.entity);
      for (EntityAlias& a : updated->aliases) {
        if (a.id != ref.alias->id) continue;
        a.metadata = alias.metadata;
        a.mount_type = mount_type;
        a.mount_path = mount_path;
        a.last_update_time = now;
      }
      RETURN_IF_ERROR(CommitLocked({updated}, {}));
      return std::shared_ptr<const Entity>(std::move(updated));
    }
  }
  auto entity = std::make_shared<Entity>();
  entity->id = crypto::GenerateUuid();
  entity->name = GenerateNameLocked();
  entity->creation_time = entity->last_update_time = now;
  EntityAlias a;
  a.id = crypto::GenerateUuid();
  a.canonical_id = entity->id;
  a.mount_accessor = mount_accessor;
  a.mount_type = mount_type;
  a.mount_path = mount_path;
  a.name = alias.name;
  a.metadata = alias.metadata;
  a.creation_time = a.last_update_time = now;
  entity->aliases.push_back(std::move(a));
  RETURN_IF_ERROR(CommitLocked({entity}, {}));
  return std::shared_ptr<const Entity>(std::move(entity));
}

StatusOr<std::shared_ptr<const Entity>> IdentityStore::Get(std::string_view entity_id) const {
  std::shared_lock lock(mu_);
  return FindLocked(entity_id);
}

IdentityStore::Snapshot IdentityStore::GetWithGeneration(std::string_view entity_id) const {
  std::shared_lock lock(mu_);  // changes bump the generation under the exclusive lock
  return Snapshot{FindLocked(entity_id), generation()};
}

std::shared_ptr<const Entity> IdentityStore::GetByName(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = id_by_name_.find(AsciiLower(name));
  return it == id_by_name_.end() ? nullptr : FindLocked(it->second);
}

Status IdentityStore::RemoveAliasesOfMount(const std::string& mount_accessor) {
  std::unique_lock lock(mu_);
  std::vector<EntityPtr> affected;
  for (const auto& [id, entity] : by_id_) {
    if (entity->AliasFor(mount_accessor) != nullptr) affected.push_back(entity);
  }
  const int64_t now = Now();
  for (const EntityPtr& entity : affected) {
    auto updated = std::make_shared<Entity>(*entity);
    std::erase_if(updated->aliases, [&](const EntityAlias& a) { return a.mount_accessor == mount_accessor; });
    updated->last_update_time = now;
    RETURN_IF_ERROR(CommitLocked({updated}, {}));
  }
  return OkStatus();
}

StatusOr<IdentityStore::EntityWriteResult> IdentityStore::WriteEntity(const EntityWrite& write) {
  std::vector<std::string> policies;
  if (write.policies) {
    policies = CleanPolicies(*write.policies);
    if (std::find(policies.begin(), policies.end(), "root") != policies.end()) {
      return InvalidArgument("policies cannot contain root");
    }
  }
  std::unique_lock lock(mu_);
  EntityPtr existing;
  if (!write.id.empty()) {
    existing = FindLocked(write.id);
    if (existing == nullptr) return InvalidArgument("entity not found from id");
  }
  if (!write.name.empty()) {
    auto it = id_by_name_.find(AsciiLower(write.name));
    if (it != id_by_name_.end()) {
      if (existing == nullptr) {
        existing = FindLocked(it->second);
      } else if (existing->id != it->second) {
        return InvalidArgument("entity name is already in use");
      }
    }
  }
  const int64_t now = Now();
  auto entity = existing ? std::make_shared<Entity>(*existing) : std::make_shared<Entity>();
  const bool created = existing == nullptr;
  if (created) {
    entity->id = crypto::GenerateUuid();
    entity->creation_time = now;
  }
  if (!write.name.empty()) entity->name = write.name;
  if (entity->name.empty()) entity->name = GenerateNameLocked();
  if (write.metadata) entity->metadata = *write.metadata;
  if (write.policies) entity->policies = std::move(policies);
  if (write.disabled) entity->disabled = *write.disabled;
  entity->last_update_time = now;
  RETURN_IF_ERROR(CommitLocked({entity}, {}));
  return EntityWriteResult{std::move(entity), created};
}

StatusOr<bool> IdentityStore::DeleteEntity(std::string_view entity_id) {
  std::unique_lock lock(mu_);
  if (FindLocked(entity_id) == nullptr) return false;
  RETURN_IF_ERROR(CommitLocked({}, {std::string(entity_id)}));
  return true;
}

std::vector<std::shared_ptr<const Entity>> IdentityStore::ListEntities() const {
  std::vector<EntityPtr> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(by_id_.size());
    for (const auto& [id, entity] : by_id_) out.push_back(entity);
  }
  std::sort(out.begin(), out.end(), [](const EntityPtr& a, const EntityPtr& b) { return a->id < b->id; });
  return out;
}

IdentityStore::AliasRef IdentityStore::GetAlias(std::string_view alias_id) const {
  std::shared_lock lock(mu_);
  return AliasRefLocked(std::string(alias_id));
}

IdentityStore::AliasRef IdentityStore::AliasByFactors(std::string_view mount_accessor, std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = alias_by_factors_.find(FactorsKey(mount_accessor, name));
  return it == alias_by_factors_.end() ? AliasRef() : AliasRefLocked(it->second);
}

std::vector<IdentityStore::AliasRef> IdentityStore::ListAliases() const {
  std::vector<AliasRef> out;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, entity] : by_id_) {
      for (const EntityAlias& a : entity->aliases) out.push_back(AliasRef{entity, &a});
    }
  }
  std::sort(out.begin(), out.end(), [](const AliasRef& a, const AliasRef& b) { return a.alias->id < b.alias->id; });
  return out;
}

StatusOr<IdentityStore::AliasWriteResult> IdentityStore::WriteAlias(const AliasWrite& write) {
  std::unique_lock lock(mu_);
  const int64_t now = Now();
  AliasRef ref;
  if (!write.id.empty()) {
    ref = AliasRefLocked(write.id);
    if (!ref) return InvalidArgument("invalid alias ID provided");
  } else {
    if (write.name.empty() || write.mount_accessor.empty()) {
      return InvalidArgument("'id' or 'mount_accessor' and 'name' must be provided");
    }
    if (auto it = alias_by_factors_.find(FactorsKey(write.mount_accessor, write.name)); it != alias_by_factors_.end()) {
      ref = AliasRefLocked(it->second);  // the alias exists: an update
    }
  }

  if (!ref) {
    // A new alias, on the given entity or on a new one.
    std::shared_ptr<Entity> entity;
    if (!write.canonical_id.empty()) {
      EntityPtr owner = FindLocked(write.canonical_id);
      if (owner == nullptr) return InvalidArgument("invalid canonical ID");
      if (owner->AliasFor(write.mount_accessor) != nullptr) {
        return InvalidArgument("Alias already exists for requested entity and mount accessor");
      }
      entity = std::make_shared<Entity>(*owner);
    } else {
      entity = std::make_shared<Entity>();
      entity->id = crypto::GenerateUuid();
      entity->name = GenerateNameLocked();
      entity->creation_time = now;
    }
    EntityAlias a;
    a.id = crypto::GenerateUuid();
    a.canonical_id = entity->id;
    a.mount_accessor = write.mount_accessor;
    a.mount_type = write.mount_type;
    a.mount_path = write.mount_path;
    a.name = write.name;
    if (write.custom_metadata) a.custom_metadata = *write.custom_metadata;
    a.creation_time = a.last_update_time = now;
    std::string alias_id = a.id;
    entity->aliases.push_back(std::move(a));
    entity->last_update_time = now;
    RETURN_IF_ERROR(CommitLocked({entity}, {}));
    return AliasWriteResult{alias_id, entity->id, true};
  }

  // An update of ref.alias.
  const EntityAlias& old = *ref.alias;
  const std::string name = write.name.empty() ? old.name : write.name;
  const std::string accessor = write.mount_accessor.empty() ? old.mount_accessor : write.mount_accessor;
  const auto custom = write.custom_metadata ? *write.custom_metadata : old.custom_metadata;
  const bool moving = !write.canonical_id.empty() && write.canonical_id != old.canonical_id;
  if (name == old.name && accessor == old.mount_accessor && !moving && custom == old.custom_metadata) {
    return AliasWriteResult{old.id, old.canonical_id, false};
  }
  if (accessor != old.mount_accessor && !moving) {
    for (const EntityAlias& a : ref.entity->aliases) {
      if (a.id != old.id && a.mount_accessor == accessor) {
        return InvalidArgument("Alias cannot be updated as the entity already has an alias for the given 'mount_accessor'");
      }
    }
  }
  if (auto it = alias_by_factors_.find(FactorsKey(accessor, name)); it != alias_by_factors_.end() && it->second != old.id) {
    return InvalidArgument("alias with combination of mount accessor and name already exists");
  }
  EntityAlias updated_alias = old;
  updated_alias.name = name;
  updated_alias.custom_metadata = custom;
  if (accessor != old.mount_accessor) {
    updated_alias.mount_accessor = accessor;
    updated_alias.mount_type = write.mount_type;
    updated_alias.mount_path = write.mount_path;
  }
  updated_alias.last_update_time = now;

  auto from = std::make_shared<Entity>(*ref.entity);
  std::erase_if(from->aliases, [&](const EntityAlias& a) { return a.id == old.id; });
  if (!moving) {
    from->aliases.push_back(std::move(updated_alias));
    std::sort(from->aliases.begin(), from->aliases.end(),
              [](const EntityAlias& a, const EntityAlias& b) { return a.creation_time < b.creation_time; });
    from->last_update_time = now;
    RETURN_IF_ERROR(CommitLocked({from}, {}));
    return AliasWriteResult{old.id, from->id, true};
  }
  EntityPtr target = FindLocked(write.canonical_id);
  if (target == nullptr) return InvalidArgument("given 'canonical_id' is not associated with an entity");
  if (target->AliasFor(accessor) != nullptr) {
    return InvalidArgument("Alias cannot be updated as the given entity already has an alias for this mount");
  }
  auto to = std::make_shared<Entity>(*target);
  updated_alias.canonical_id = to->id;
  to->aliases.push_back(std::move(updated_alias));
  from->last_update_time = to->last_update_time = now;
  RETURN_IF_ERROR(CommitLocked({from, to}, {}));
  return AliasWriteResult{old.id, to->id, true};
}

StatusOr<bool> IdentityStore::DeleteAlias(std::string_view alias_id) {
  std::unique_lock lock(mu_);
  AliasRef ref = AliasRefLocked(std::string(alias_id));
  if (!ref) return false;
  auto entity = std::make_shared<Entity>(*ref.entity);
  std::erase_if(entity->aliases, [&](const EntityAlias& a) { return a.id == alias_id; });
  entity->last_update_time = Now();
  RETURN_IF_ERROR(CommitLocked({entity}, {}));
  return true;
}

}  // namespace coffer::core
