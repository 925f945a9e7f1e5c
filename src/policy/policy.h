// Vault ACL policies: parsing the HCL and JSON forms into PathRules.
//
// A policy is a list of `path "<pattern>" { ... }` blocks. A pattern is a request path (without
// "/v1/"); a trailing `*` makes it a prefix, a `+` segment matches exactly one path segment.
// Parsing follows Vault's rules (vault/policy.go) and is stricter in two places where Vault
// silently accepts a policy that can never do what its author meant: a `*` anywhere but at the
// end, and a `+` that is not a whole segment, are errors here (Vault treats them as literal
// characters). The control_group and mfa_methods keys (Vault Enterprise) are rejected rather
// than ignored, because ignoring them would grant more than the author wrote.
//
// Everything here is a pure function of its input; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::policy {

// Capability bits, numbered as Vault numbers them.
enum Capability : uint32_t {
  kDeny = 1u << 0,
  kCreate = 1u << 1,
  kRead = 1u << 2,
  kUpdate = 1u << 3,
  kDelete = 1u << 4,
  kList = 1u << 5,
  kSudo = 1u << 6,
  kPatch = 1u << 7,
};
// Every capability except deny: what the root policy holds.
inline constexpr uint32_t kAllCapabilities = kCreate | kRead | kUpdate | kDelete | kList | kSudo | kPatch;

// The bit for "read", "create", ... (exact, lower-case names as Vault spells them); 0 if unknown.
uint32_t CapabilityFromName(std::string_view name);
// Names of the set bits, sorted by name as Vault's sys/capabilities answers them
// (["create", "list", "read"]). A set deny bit gives just ["deny"]; 0 gives [].
std::vector<std::string> CapabilityNames(uint32_t capabilities);

// One `path` block. Parameter names (map keys, required names) are lower-cased as Vault does.
struct PathRules {
  std::string pattern;        // as written, minus a leading '/': "secret/data/*", "kv/+/config"
  uint32_t capabilities = 0;  // kDeny alone when the block denies
  // Parameter name (or "*") → allowed/denied values; an empty list means any value. Values are
  // the JSON the policy wrote: strings (which may glob with a leading and/or trailing '*'),
  // numbers, bools, lists.
  std::map<std::string, std::vector<nlohmann::json>> allowed_parameters;
  std::map<std::string, std::vector<nlohmann::json>> denied_parameters;
  std::vector<std::string> required_parameters;
  int64_t min_wrapping_ttl = 0;  // seconds; 0 = no bound
  int64_t max_wrapping_ttl = 0;
  // The pattern uses identity templating ({{identity.entity.id}} ..., see identity_template.h).
  // Such a rule only applies once rendered for an entity: Acl::Create renders it with the
  // token's IdentityContext and skips it when there is none or a template does not resolve.
  bool templated = false;
};

struct Policy {
  std::string name;              // normalized: trimmed and lower-cased
  std::string raw;               // the text as submitted, returned unchanged by sys/policy reads
  std::vector<PathRules> paths;  // in source order; the same pattern may appear more than once
};

// Trims and lower-cases a policy name as Vault does, then checks it: 1 to 128 characters from
// [a-z0-9], '-', '_', '.', '@', '+', '=', ':' and ','. An invalid name is an InvalidArgument
// `invalid policy name "<name>": ...`.
StatusOr<std::string> NormalizePolicyName(std::string_view name);

// Parses `text` as HCL, or as JSON when its first non-blank character is '{' (as Vault does).
// Errors are InvalidArgument "policy <name>: <line>:<column>: <problem>", the position being the
// offending token in `text` (JSON semantic errors carry no position: "policy <name>: <problem>").
// Problems name the path and the bad key or capability, never a parameter value. An empty text is
// a valid policy without paths (the HTTP layer rejects an empty body before parsing).
StatusOr<Policy> ParsePolicy(std::string_view name, std::string_view text);

}  // namespace coffer::policy
