// Identity templating in ACL policy paths: `path "secret/data/{{identity.entity.name}}/*"`.
//
// Vault's ACL templating (sdk/helper/identitytpl, ACL mode). A template is `{{ <parameter> }}`
// (spaces around the parameter are ignored); a path may hold several. Parameters:
//   identity.entity.id                              the entity's id
//   identity.entity.name                            the entity's name
//   identity.entity.metadata.<key>                  a key of the entity's metadata
//   identity.entity.aliases.<mount accessor>.id     the entity's alias on that auth mount:
//   identity.entity.aliases.<mount accessor>.name     its id, name,
//   identity.entity.aliases.<mount accessor>.metadata.<key>         login metadata,
//   identity.entity.aliases.<mount accessor>.custom_metadata.<key>  custom metadata
//   identity.groups.ids.<group id>.{id,name,metadata.<key>}       group forms: Coffer has no
//   identity.groups.names.<group name>.{id,name,metadata.<key>}   groups, so they never resolve
//   identity.entity.metadata, identity.entity.groups.ids, identity.entity.groups.names
//                                                   (whole maps and lists: valid, but in ACL
//                                                   mode they never resolve, as in Vault)
// Checking at write time is stricter than Vault (which only checks that braces balance): an
// unknown parameter is an error too, so a typo cannot silently disable a rule. Vault's
// `time.now` forms are not accepted in policies.
//
// Rendering follows Vault: a rule whose template cannot be resolved (no entity, a missing key, an
// empty value, no alias on that mount) is skipped. Coffer is stricter in one place: a value that
// would change the rule's meaning (containing '*', "{{" or "}}", or a '/'-separated part equal to
// "+", "." or "..") also makes the rule skipped rather than widened, since alias metadata may
// come from an identity provider's claims.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::policy {

// What templated policies may refer to: one entity, as the identity store knows it.
struct IdentityContext {
  struct Alias {
    std::string id;
    std::string name;
    std::map<std::string, std::string> metadata;
    std::map<std::string, std::string> custom_metadata;
  };
  std::string entity_id;
  std::string entity_name;
  std::map<std::string, std::string> metadata;
  std::map<std::string, Alias> aliases;  // by mount accessor
  // Changes whenever the entity may have changed (the identity store's generation): part of the
  // key under which PolicyStore caches ACLs rendered for this entity.
  uint64_t generation = 0;
};

// "" when every template in `pattern` is well formed, else the problem ("failed to validate
// policy templating: ..."). Sets *templated when `pattern` holds at least one template.
std::string TemplateProblem(std::string_view pattern, bool* templated);

// `pattern` with every template replaced by its value for `identity`, or std::nullopt when one
// cannot be resolved (the rule is then skipped). `pattern` must have passed TemplateProblem.
std::optional<std::string> RenderTemplate(std::string_view pattern, const IdentityContext& identity);

}  // namespace coffer::policy
