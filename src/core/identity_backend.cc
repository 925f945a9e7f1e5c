#include "core/identity_backend.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/time_format.h"
#include "logical/framework.h"

namespace coffer::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;
using nlohmann::json;

// Vault answers a map that was never set with null.
json MapOrNull(const std::map<std::string, std::string>& m) { return m.empty() ? json(nullptr) : json(m); }

class IdentityBackend {
 public:
  IdentityBackend(IdentityStore* store, AuthMountLookup lookup) : store_(store), lookup_(std::move(lookup)) {}

  std::vector<Path> Paths();

 private:
  // The alias's mount as the router knows it now (it may have been remounted), else as stored.
  std::pair<std::string, std::string> MountOf(const EntityAlias& a) const {
    if (lookup_) {
      if (auto found = lookup_(a.mount_accessor)) return *found;
    }
    return {a.mount_type, a.mount_path};
  }

  json AliasJson(const EntityAlias& a) const {
    auto [type, path] = MountOf(a);
    return json{{"id", a.id},
                {"canonical_id", a.canonical_id},
                {"mount_accessor", a.mount_accessor},
                {"mount_type", type},
                {"mount_path", path},
                {"name", a.name},
                {"metadata", MapOrNull(a.metadata)},
                {"custom_metadata", a.custom_metadata},
                {"creation_time", FormatRfc3339(a.creation_time)},
                {"last_update_time", FormatRfc3339(a.last_update_time)},
                {"merged_from_canonical_ids", nullptr},
                {"namespace_id", "root"},
                {"local", false}};
  }

  Response EntityResponse(const Entity& e) const {
    json aliases = json::array();
    for (const EntityAlias& a : e.aliases) aliases.push_back(AliasJson(a));
    return Response::WithData(json{{"id", e.id},
                                   {"name", e.name},
                                   {"metadata", MapOrNull(e.metadata)},
                                   {"policies", e.policies},
                                   {"disabled", e.disabled},
                                   {"creation_time", FormatRfc3339(e.creation_time)},
                                   {"last_update_time", FormatRfc3339(e.last_update_time)},
                                   {"aliases", std::move(aliases)},
                                   {"direct_group_ids", json::array()},
                                   {"group_ids", json::array()},
                                   {"inherited_group_ids", json::array()},
                                   {"merged_entity_ids", nullptr},
                                   {"namespace_id", "root"}});
  }

  // entity, entity/id/<id>, entity/name/<name>: Vault's handleEntityUpdateCommon.
  StatusOr<Response> WriteEntity(const FieldData& f) {
    IdentityStore::EntityWrite w;
    w.id = f.GetString("id");
    w.name = f.GetString("name");
    if (f.Has("metadata")) w.metadata = f.GetKVPairs("metadata");
    if (f.Has("policies")) w.policies = f.GetStringSlice("policies");
    if (f.Has("disabled")) w.disabled = f.GetBool("disabled");
    ASSIGN_OR_RETURN(IdentityStore::EntityWriteResult result, store_->WriteEntity(w));
    if (!result.created) return Response();  // 204, as Vault answers updates
    return Response::WithData(json{{"id", result.entity->id}, {"name", result.entity->name}, {"aliases", nullptr}});
  }

  StatusOr<Response> EntityList(bool by_id) const {
    std::vector<std::shared_ptr<const Entity>> entities = store_->ListEntities();
    if (entities.empty()) return NotFound();
    if (!by_id) {
      std::sort(entities.begin(), entities.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
    }
    json keys = json::array();
    json info = json::object();
    for (const auto& e : entities) {
      keys.push_back(by_id ? e->id : e->name);
      json entry{{"name", e->name}};
      if (!e->aliases.empty()) {
        json aliases = json::array();
        for (const EntityAlias& a : e->aliases) {
          auto [type, path] = MountOf(a);
          aliases.push_back(json{{"id", a.id},
                                 {"name", a.name},
                                 {"mount_accessor", a.mount_accessor},
                                 {"mount_type", type},
                                 {"mount_path", path}});
        }
        entry["aliases"] = std::move(aliases);
      }
      info[e->id] = std::move(entry);
    }
    return Response::WithData(json{{"keys", std::move(keys)}, {"key_info", std::move(info)}});
  }

  // entity-alias, entity-alias/id/<id>: Vault's handleAliasCreateUpdate.
  StatusOr<Response> WriteAlias(const FieldData& f) {
    IdentityStore::AliasWrite w;
    w.id = f.GetString("id");
    w.name = f.GetString("name");
    w.mount_accessor = f.GetString("mount_accessor");
    w.canonical_id = f.GetString("canonical_id");
    if (w.canonical_id.empty()) w.canonical_id = f.GetString("entity_id");  // Vault's deprecated name
    if (f.Has("custom_metadata")) w.custom_metadata = f.GetKVPairs("custom_metadata");
    if (w.id.empty() && (w.name.empty() || w.mount_accessor.empty())) {
      return InvalidArgument("'id' or 'mount_accessor' and 'name' must be provided");
    }
    if (!w.mount_accessor.empty()) {
      std::optional<std::pair<std::string, std::string>> mount;
      if (lookup_) mount = lookup_(w.mount_accessor);
      if (!mount) return InvalidArgument("invalid mount accessor \"" + w.mount_accessor + "\"");
      w.mount_type = mount->first;
      w.mount_path = mount->second;
    }
    ASSIGN_OR_RETURN(IdentityStore::AliasWriteResult result, store_->WriteAlias(w));
    if (!result.changed) return Response();  // nothing to do: 204, as Vault
    return Response::WithData(json{{"id", result.alias_id}, {"canonical_id", result.canonical_id}});
  }

  IdentityStore* store_;
  AuthMountLookup lookup_;
};

std::vector<Field> EntityFields() {
  return {
      {"id", FieldType::kString, "ID of the entity. If set, updates the corresponding existing entity."},
      {"name", FieldType::kString, "Name of the entity."},
      {"metadata", FieldType::kKVPairs, "Metadata to be associated with the entity (string keys and values)."},
      {"policies", FieldType::kStringSlice, "Policies to be tied to the entity."},
      {"disabled", FieldType::kBool, "If true, tokens tied to this identity cannot be used (but are not revoked)."},
  };
}

std::vector<Field> AliasFields() {
  return {
      {"id", FieldType::kString, "ID of the entity alias. If set, updates the corresponding entity alias."},
      {"canonical_id", FieldType::kString, "Entity ID to which this alias belongs."},
      {"entity_id", FieldType::kString, "Deprecated name of canonical_id."},
      {"mount_accessor", FieldType::kString, "Accessor of the auth mount to which this alias belongs."},
      {"name", FieldType::kString, "Name of the alias: the client's name in the auth method."},
      {"custom_metadata", FieldType::kKVPairs, "User provided key-value pairs."},
  };
}

std::vector<Field> LookupFields(bool alias) {
  if (alias) {
    return {
        {"id", FieldType::kString, "ID of the alias."},
        {"name", FieldType::kString, "Name of the alias, with mount_accessor."},
        {"mount_accessor", FieldType::kString, "Accessor of the alias's auth mount, with name."},
    };
  }
  return {
      {"id", FieldType::kString, "ID of the entity."},
      {"name", FieldType::kString, "Name of the entity."},
      {"alias_id", FieldType::kString, "ID of an alias of the entity."},
      {"alias_name", FieldType::kString, "Name of an alias of the entity, with alias_mount_accessor."},
      {"alias_mount_accessor", FieldType::kString, "Accessor of the alias's auth mount, with alias_name."},
  };
}

std::vector<Path> IdentityBackend::Paths() {
  std::vector<Path> paths;
  auto write_entity = [this](Request&, const FieldData& f) { return WriteEntity(f); };
  auto write_alias = [this](Request&, const FieldData& f) { return WriteAlias(f); };

  {
    Path p;
    p.pattern = "entity";
    p.fields = EntityFields();
    p.operations[Operation::kCreate] = write_entity;
    p.operations[Operation::kUpdate] = write_entity;
    p.help_synopsis = "Create a new entity, or update one given its id or name.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity/id/?";
    p.operations[Operation::kList] = [this](Request&, const FieldData&) -> StatusOr<Response> {
      return EntityList(/*by_id=*/true);
    };
    p.help_synopsis = "List the entity ids.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity/id/{id}";
    p.fields = EntityFields();
    p.operations[Operation::kRead] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(auto entity, store_->Get(f.GetString("id")));
      if (entity == nullptr) return NotFound();
      return EntityResponse(*entity);
    };
    p.operations[Operation::kCreate] = write_entity;
    p.operations[Operation::kUpdate] = write_entity;
    p.operations[Operation::kDelete] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(bool existed, store_->DeleteEntity(f.GetString("id")));
      (void)existed;
      return Response();
    };
    p.help_synopsis = "Read, update or delete an entity by its id.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity/name/?";
    p.operations[Operation::kList] = [this](Request&, const FieldData&) -> StatusOr<Response> {
      return EntityList(/*by_id=*/false);
    };
    p.help_synopsis = "List the entity names.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity/name/{name+}";
    p.fields = EntityFields();
    p.operations[Operation::kRead] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      auto entity = store_->GetByName(f.GetString("name"));
      if (entity == nullptr) return NotFound();
      return EntityResponse(*entity);
    };
    p.operations[Operation::kCreate] = write_entity;
    p.operations[Operation::kUpdate] = write_entity;
    p.operations[Operation::kDelete] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      if (auto entity = store_->GetByName(f.GetString("name"))) {
        ASSIGN_OR_RETURN(bool existed, store_->DeleteEntity(entity->id));
        (void)existed;
      }
      return Response();
    };
    p.help_synopsis = "Read, create or update, or delete an entity by its name.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity-alias";
    p.fields = AliasFields();
    p.operations[Operation::kCreate] = write_alias;
    p.operations[Operation::kUpdate] = write_alias;
    p.help_synopsis = "Create a new alias (on a new entity unless canonical_id names one), or update one.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity-alias/id/?";
    p.operations[Operation::kList] = [this](Request&, const FieldData&) -> StatusOr<Response> {
      std::vector<IdentityStore::AliasRef> aliases = store_->ListAliases();
      if (aliases.empty()) return NotFound();
      json keys = json::array();
      json info = json::object();
      for (const auto& ref : aliases) {
        const EntityAlias& a = *ref.alias;
        auto [type, path] = MountOf(a);
        keys.push_back(a.id);
        info[a.id] = json{{"canonical_id", a.canonical_id},
                          {"custom_metadata", a.custom_metadata},
                          {"local", false},
                          {"mount_accessor", a.mount_accessor},
                          {"mount_path", path},
                          {"mount_type", type},
                          {"name", a.name}};
      }
      return Response::WithData(json{{"keys", std::move(keys)}, {"key_info", std::move(info)}});
    };
    p.help_synopsis = "List the alias ids.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "entity-alias/id/{id}";
    p.fields = AliasFields();
    p.operations[Operation::kRead] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      IdentityStore::AliasRef ref = store_->GetAlias(f.GetString("id"));
      if (!ref) return NotFound();
      return Response::WithData(AliasJson(*ref.alias));
    };
    p.operations[Operation::kCreate] = write_alias;
    p.operations[Operation::kUpdate] = write_alias;
    p.operations[Operation::kDelete] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(bool existed, store_->DeleteAlias(f.GetString("id")));
      (void)existed;
      return Response();
    };
    p.help_synopsis = "Read, update or delete an alias by its id.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "lookup/entity";
    p.fields = LookupFields(/*alias=*/false);
    auto lookup = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      // Vault counts the parameters supplied, even empty ones.
      int count = 0;
      for (const char* name : {"id", "name", "alias_id", "alias_name", "alias_mount_accessor"}) count += f.Has(name);
      const std::string alias_name = f.GetString("alias_name");
      const std::string alias_accessor = f.GetString("alias_mount_accessor");
      if (count == 0) return InvalidArgument("query parameter not supplied");
      if (count == 2 && !(alias_name.empty() || alias_accessor.empty())) {
        // alias_name + alias_mount_accessor
      } else if (count != 1) {
        return InvalidArgument("query parameter conflict; please supply distinct set of query parameters");
      } else if (f.Has("alias_name") || f.Has("alias_mount_accessor")) {
        return InvalidArgument("both 'alias_name' and 'alias_mount_accessor' needs to be set");
      }
      std::shared_ptr<const Entity> entity;
      if (!f.GetString("id").empty()) {
        ASSIGN_OR_RETURN(entity, store_->Get(f.GetString("id")));
      } else if (!f.GetString("name").empty()) {
        entity = store_->GetByName(f.GetString("name"));
      } else if (!f.GetString("alias_id").empty()) {
        entity = store_->GetAlias(f.GetString("alias_id")).entity;
      } else if (!alias_name.empty()) {
        entity = store_->AliasByFactors(alias_accessor, alias_name).entity;
      }
      if (entity == nullptr) return Response();  // 204: nothing found
      return EntityResponse(*entity);
    };
    p.operations[Operation::kCreate] = lookup;
    p.operations[Operation::kUpdate] = lookup;
    p.help_synopsis = "Query an entity by id, name, alias id, or alias name and mount accessor.";
    paths.push_back(std::move(p));
  }
  {
    Path p;
    p.pattern = "lookup/entity-alias";
    p.fields = LookupFields(/*alias=*/true);
    auto lookup = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      const std::string id = f.GetString("id");
      const std::string name = f.GetString("name");
      const std::string accessor = f.GetString("mount_accessor");
      if (id.empty() && name.empty() && accessor.empty()) return InvalidArgument("query parameter not supplied");
      if (!id.empty() && (!name.empty() || !accessor.empty())) {
        return InvalidArgument("query parameter conflict; please supply distinct set of query parameters");
      }
      if (id.empty() && (name.empty() || accessor.empty())) {
        return InvalidArgument("both 'name' and 'mount_accessor' needs to be set");
      }
      IdentityStore::AliasRef ref = id.empty() ? store_->AliasByFactors(accessor, name) : store_->GetAlias(id);
      if (!ref) return Response();  // 204: nothing found
      return Response::WithData(AliasJson(*ref.alias));
    };
    p.operations[Operation::kCreate] = lookup;
    p.operations[Operation::kUpdate] = lookup;
    p.help_synopsis = "Query an alias by id, or by name and mount accessor.";
    paths.push_back(std::move(p));
  }
  return paths;
}

// Owns the IdentityBackend whose handlers the framework calls.
class IdentityFrameworkBackend final : public logical::FrameworkBackend {
 public:
  IdentityFrameworkBackend(std::unique_ptr<IdentityBackend> impl, std::vector<Path> paths)
      : FrameworkBackend(std::move(paths),
                         "The identity store: entities (the clients Coffer knows, whatever auth method they use) "
                         "and their aliases (the names auth mounts know them by)."),
        impl_(std::move(impl)) {}

 private:
  std::unique_ptr<IdentityBackend> impl_;
};

}  // namespace

std::unique_ptr<logical::Backend> NewIdentityBackend(IdentityStore* store, AuthMountLookup auth_mount_lookup) {
  auto impl = std::make_unique<IdentityBackend>(store, std::move(auth_mount_lookup));
  std::vector<Path> paths = impl->Paths();
  return std::make_unique<IdentityFrameworkBackend>(std::move(impl), std::move(paths));
}

}  // namespace coffer::core
