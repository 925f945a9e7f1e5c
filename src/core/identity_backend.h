// The identity secrets engine, mounted by the core at "identity/": Vault's entity and
// entity-alias API (hvac's client.secrets.identity) over an IdentityStore.
//   entity                      POST {id?, name?, metadata, policies, disabled}: create, or
//                               update the entity named by id (or by an existing name)
//   entity/id/ (LIST)           {keys: [ids], key_info: {id: {name, aliases: [...]}}}
//   entity/id/<id>              GET / POST (update) / DELETE
//   entity/name/ (LIST)         {keys: [names], key_info: {id: ...}} (keyed by id, as Vault)
//   entity/name/<name>          GET / POST (create or update) / DELETE
//   entity-alias                POST {name, mount_accessor, canonical_id?, custom_metadata?,
//                               id?}: create (a new entity when no canonical_id) or update
//   entity-alias/id/ (LIST)     {keys, key_info: {id: {canonical_id, mount_accessor, ...}}}
//   entity-alias/id/<id>        GET / POST (update) / DELETE
//   lookup/entity               POST {id | name | alias_id | alias_name + alias_mount_accessor}
//   lookup/entity-alias         POST {id | name + mount_accessor} (a Coffer extension)
// Creates answer {id, name, aliases} / {id, canonical_id}; updates of entities answer 204;
// reads of something missing 404; lookups that find nothing 204; deletes of something missing
// 204. Groups (group, group-alias, lookup/group), entity merge and batch-delete, and OIDC are
// not implemented. Thread-safe (the store is).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/identity_store.h"
#include "logical/backend.h"

namespace coffer::core {

// An auth mount's {type, path} ("userpass", "auth/userpass/") by its accessor, or nullopt when
// no auth mount has that accessor.
using AuthMountLookup =
    std::function<std::optional<std::pair<std::string, std::string>>(const std::string& accessor)>;

// `store` is borrowed and must outlive the backend.
std::unique_ptr<logical::Backend> NewIdentityBackend(IdentityStore* store, AuthMountLookup auth_mount_lookup);

}  // namespace coffer::core
