// Acl: the compiled form of a token's policies, answering "may this request proceed?".
//
// Matching is Vault's (vault/acl.go):
//   1. A rule whose pattern equals the request path wins outright.
//   2. Otherwise the longest matching `*` prefix rule and every matching `+` rule compete; the
//      winner is the highest priority by, in order: the later first wildcard; not ending in `*`;
//      fewer `+` segments; the longer pattern; the lexically greater pattern.
//   3. No rule matches: denied.
//   A LIST of "a/b/" also tries "a/b" first, as Vault does (LIST paths always end in '/').
// Rules for the same pattern from several policies (or blocks) are merged first: capabilities
// are unioned and `deny` wins over everything; allowed/denied parameter lists are merged per
// name (an empty list, meaning any value, absorbs the other); required parameters are unioned;
// the smaller non-zero wrapping TTL bounds win.
//
// Create precomputes everything: exact rules sit in a hash map, prefix rules in a sorted array
// searched in O(log n) (each entry knows its longest enclosing prefix), `+` rules in arrays
// indexed by their first segment (those starting with `+` are always tried). Check does not
// allocate, so a token with thousands of rules pays a few lookups per request. An Acl is
// immutable and thread-safe once created.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "logical/request.h"
#include "policy/identity_template.h"
#include "policy/policy.h"

namespace coffer::policy {

struct AclResult {
  bool allowed = false;
  // The matched rule grants sudo (Vault's RootPrivs): needed on root-protected paths.
  bool sudo = false;
  // The matched rule's capability bits (kDeny alone for a denying rule; 0 when nothing matched).
  uint32_t capabilities = 0;
};

class Acl {
 public:
  // Compiles `policies` (null entries are skipped). A policy named "root" makes an Acl that
  // allows everything, sudo included. Templated rules ({{identity...}}) are rendered for
  // `identity` (the token's entity) and then compiled like any other rule; without an identity,
  // or when a template does not resolve for it, the rule is skipped, as Vault does.
  static std::shared_ptr<const Acl> Create(const std::vector<std::shared_ptr<const Policy>>& policies,
                                           const IdentityContext* identity = nullptr);
  ~Acl();
  Acl(const Acl&) = delete;
  Acl& operator=(const Acl&) = delete;

  // Decides one request. `path` is the full request path without "/v1/" (leading '/' ignored);
  // for kList it is taken to end in '/', as Vault's HTTP layer makes every LIST path.
  // Operations map to capabilities: kRead→read, kList→list, kCreate→create, kUpdate→update,
  // kPatch→patch, kDelete→delete. kHelp is always allowed, as in Vault (help text is not data).
  // For kRead, kCreate, kUpdate and kPatch the matched rule's parameter constraints apply to the
  // top-level keys of `request_data` (body or query; null or non-object counts as empty), like
  // Vault: every required parameter must be present; with data present, a "*" denied key or a
  // denied key whose value matches a denied value refuses; then, if allowed keys exist and are
  // not just "*", every key must be allowed (or "*" allowed) with a matching value. Parameter
  // names compare case-insensitively. Values match by JSON equality (numbers by value); a string
  // in the policy may glob with a leading and/or trailing '*'; a list value must have every
  // element allowed (or any element denied); a string value also counts as its comma-separated
  // parts. `wrap_ttl_seconds` is the requested response-wrapping TTL, 0 when not wrapped: a rule
  // with min/max_wrapping_ttl refuses unwrapped requests and TTLs outside its bounds.
  AclResult Check(std::string_view path, logical::Operation op, const nlohmann::json& request_data,
                  int64_t wrap_ttl_seconds = 0) const;

  // The capability bits that apply to `path` (LIST matching: a trailing '/' also tries without):
  // what sys/capabilities reports. kAllCapabilities for root; 0 when nothing matches.
  uint32_t Capabilities(std::string_view path) const;
  // sys/capabilities' answer for `path`: ["root"] for root, ["deny"] when nothing matches or the
  // rule denies, otherwise the sorted names (["list", "read"]).
  std::vector<std::string> CapabilityNamesFor(std::string_view path) const;

  // Whether the token may see the mount at `mount_path` ("secret/") in sys/internal/ui/mounts:
  // it has a non-deny capability on the mount path itself, or any non-deny rule at or below it
  // (Vault's hasMountAccess, including its walk over `+` rules).
  bool HasMountAccess(std::string_view mount_path) const;

  bool root() const { return root_; }
  // Number of distinct patterns compiled in (a measure of the ACL's memory).
  size_t rule_count() const;

 private:
  struct Rules;
  Acl();

  bool root_ = false;
  std::unique_ptr<Rules> rules_;
};

}  // namespace coffer::policy
