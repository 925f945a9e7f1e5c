// PolicyStore: named ACL policies kept in a storage view, with parsed-policy and ACL caches.
//
// Each policy is one entry "<name>" holding JSON {"name": ..., "policy": "<raw text>"}. "root" is
// built in (never stored, cannot be written or deleted) and "default" is created by Setup() and
// may be edited but not deleted, as in Vault. "response-wrapping" and "control-group" are
// reserved for Vault's fixed policies and cannot be written.
//
// Thread-safe. Reads hit the caches; a cache miss or a write takes an exclusive lock around its
// storage access, so a reader never caches a policy older than a finished write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "logical/storage.h"
#include "policy/acl.h"
#include "policy/policy.h"

namespace coffer::policy {

// The default policy's text (Vault's rules: token self-service, capabilities-self, cubbyhole,
// leases, response wrapping, tools, resultant ACL, identity self-lookup).
extern const char kDefaultPolicyText[];

class PolicyStore {
 public:
  // `view` is the policy area of the system storage (e.g. "sys/policy/"); borrowed, must
  // outlive the store.
  explicit PolicyStore(logical::Storage* view);

  // Creates the "default" policy if it is not stored yet (an edited one is kept). Call once
  // after unseal, before serving requests.
  Status Setup();

  // The named policy (name normalized as NormalizePolicyName does), or nullptr when there is no
  // such policy or the name is not a valid policy name. Storage errors and a stored entry that
  // does not decode are errors.
  StatusOr<std::shared_ptr<const Policy>> Get(std::string_view name);

  // Parses `text` and stores it under `name`, replacing any previous version. A text that does
  // not parse is an InvalidArgument (ParsePolicy's message) and nothing changes. Writing "root"
  // (or a reserved name) is InvalidArgument `cannot update "root" policy`.
  Status Put(std::string_view name, std::string_view text);

  // Removes the named policy; removing one that does not exist is OK. "root" is
  // `cannot delete "root" policy`, "default" is `cannot delete default policy` (InvalidArgument).
  Status Delete(std::string_view name);

  // Every policy name as sys/policy lists it: the stored names, sorted, then "root" (Vault
  // appends it last).
  StatusOr<std::vector<std::string>> List();

  // Changes whenever any policy changes: an ACL obtained at generation G stays valid while
  // generation() == G (callers may cache it under that condition).
  uint64_t generation() const;

  // The compiled ACL of a token holding `names`, from a cache keyed by the sorted, de-duplicated
  // normalized names. Names of policies that do not exist (or are invalid) are ignored, as Vault
  // ignores them; with none left the ACL denies everything. Any Put or Delete invalidates the
  // cache. The cache holds at most 1024 ACLs and 500,000 compiled rules in all; past either
  // bound it starts over.
  // `identity` is the token's entity (nullptr: none). Templated rules are rendered with it (see
  // Acl::Create). When none of the policies is templated the identity plays no part and the ACL
  // is the one cached for the names alone; otherwise the ACL rendered for the entity is cached
  // under the names + identity->entity_id + identity->generation, so a changed entity (new
  // generation) never gets a stale rendering.
  StatusOr<std::shared_ptr<const Acl>> AclFor(const std::vector<std::string>& names,
                                              const IdentityContext* identity = nullptr);

 private:
  // A cache miss: reads and parses the stored entry. Caller holds mu_ exclusively.
  StatusOr<std::shared_ptr<const Policy>> LoadLocked(const std::string& name);
  void InvalidateAclsLocked();

  logical::Storage* view_;
  std::shared_ptr<const Policy> root_;

  mutable std::shared_mutex mu_;
  // Guarded by mu_:
  std::unordered_map<std::string, std::shared_ptr<const Policy>> policies_;
  // By names key (and, for ACLs rendered for an entity, names key + entity id + generation).
  // `templated` marks a names key whose policies hold templated rules; its `acl` (the rendering
  // without an identity) may be null when only entity renderings were asked for.
  struct CachedAcl {
    std::shared_ptr<const Acl> acl;
    bool templated = false;
  };
  std::unordered_map<std::string, CachedAcl> acls_;
  size_t cached_acl_rules_ = 0;  // sum of rule_count() over acls_
  uint64_t generation_ = 0;      // bumped by every change; an ACL built across a change is not cached
};

}  // namespace coffer::policy
