#include "policy/policy_store.h"

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

namespace coffer::policy {
namespace {

using nlohmann::json;

constexpr size_t kMaxCachedAcls = 1024;
constexpr size_t kMaxCachedAclRules = 500'000;

constexpr std::string_view kReservedNames[] = {"root", "response-wrapping", "control-group"};

bool IsReserved(std::string_view name) {
  return std::find(std::begin(kReservedNames), std::end(kReservedNames), name) != std::end(kReservedNames);
}

}  // namespace

// The same rules as Vault's default policy. Its templated identity paths let a token with an
// entity read that entity.
const char kDefaultPolicyText[] = R"(# The default policy: what every token may do for and about itself.

# Read its own properties, renew and revoke itself.
path "auth/token/lookup-self" {
    capabilities = ["read"]
}
path "auth/token/renew-self" {
    capabilities = ["update"]
}
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Ask which capabilities it holds on a path.
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Read its own identity entity, by id or by name.
path "identity/entity/id/{{identity.entity.id}}" {
    capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
    capabilities = ["read"]
}

# The combined ACL of all its policies (used by UIs; the format is internal).
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Renew a lease given its id (old path for old clients, new path for newer ones), and look up a
# lease whose id it already knows.
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Its own cubbyhole.
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap values, look up and unwrap wrapping tokens.
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# General purpose tools.
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Check a control group request it holds the accessor of.
path "sys/control-group/request" {
    capabilities = ["update"]
}

# Use the authorization endpoint of OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
)";

PolicyStore::PolicyStore(logical::Storage* view) : view_(view) {
  auto root = std::make_shared<Policy>();
  root->name = "root";
  root_ = std::move(root);
}

Status PolicyStore::Setup() {
  ASSIGN_OR_RETURN(auto existing, Get("default"));
  if (existing != nullptr) return OkStatus();
  return Put("default", kDefaultPolicyText);
}

StatusOr<std::shared_ptr<const Policy>> PolicyStore::LoadLocked(const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, view_->Get(name));
  if (!stored) return std::shared_ptr<const Policy>();
  json entry = json::parse(*stored, nullptr, /*allow_exceptions=*/false);
  auto text = entry.is_object() ? entry.find("policy") : entry.end();
  if (!entry.is_object() || text == entry.end() || !text->is_string()) {
    return InternalError("policy store: the stored entry of policy \"" + name + "\" is malformed");
  }
  auto parsed = ParsePolicy(name, text->get_ref<const std::string&>());
  if (!parsed.ok()) {
    return InternalError("policy store: stored policy \"" + name + "\" no longer parses: " + parsed.status().message());
  }
  auto policy = std::make_shared<const Policy>(std::move(parsed).value());
  policies_[name] = policy;
  return std::shared_ptr<const Policy>(std::move(policy));
}

StatusOr<std::shared_ptr<const Policy>> PolicyStore::Get(std::string_view name) {
  auto normalized = NormalizePolicyName(name);
  if (!normalized.ok()) return std::shared_ptr<const Policy>();
  if (*normalized == "root") return root_;
  {
    std::shared_lock lock(mu_);
    if (auto it = policies_.find(*normalized); it != policies_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  if (auto it = policies_.find(*normalized); it != policies_.end()) return it->second;
  return LoadLocked(*normalized);
}

Status PolicyStore::Put(std::string_view name, std::string_view text) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizePolicyName(name));
  if (IsReserved(normalized)) return InvalidArgument("cannot update \"" + normalized + "\" policy");
  ASSIGN_OR_RETURN(Policy parsed, ParsePolicy(normalized, text));
  std::string entry;
  try {
    entry = json{{"name", normalized}, {"policy", parsed.raw}}.dump();
  } catch (const json::exception&) {
    return InvalidArgument("policy " + normalized + ": the policy text is not valid UTF-8");
  }
  auto policy = std::make_shared<const Policy>(std::move(parsed));
  std::unique_lock lock(mu_);
  RETURN_IF_ERROR(view_->Put(normalized, entry));
  policies_[normalized] = std::move(policy);
  InvalidateAclsLocked();
  return OkStatus();
}

Status PolicyStore::Delete(std::string_view name) {
  auto normalized = NormalizePolicyName(name);
  if (!normalized.ok()) return OkStatus();  // nothing can be stored under an invalid name
  if (IsReserved(*normalized)) return InvalidArgument("cannot delete \"" + *normalized + "\" policy");
  if (*normalized == "default") return InvalidArgument("cannot delete default policy");
  std::unique_lock lock(mu_);
  RETURN_IF_ERROR(view_->Delete(*normalized));
  policies_.erase(*normalized);
  InvalidateAclsLocked();
  return OkStatus();
}

StatusOr<std::vector<std::string>> PolicyStore::List() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, view_->List(""));
  std::vector<std::string> names;
  names.reserve(keys.size() + 1);
  for (std::string& key : keys) {
    if (!key.empty() && key.back() != '/') names.push_back(std::move(key));
  }
  std::sort(names.begin(), names.end());
  names.push_back("root");
  return names;
}

uint64_t PolicyStore::generation() const {
  std::shared_lock lock(mu_);
  return generation_;
}

StatusOr<std::shared_ptr<const Acl>> PolicyStore::AclFor(const std::vector<std::string>& names,
                                                         const IdentityContext* identity) {
  std::vector<std::string> normalized;
  normalized.reserve(names.size());
  for (const std::string& name : names) {
    auto n = NormalizePolicyName(name);
    if (n.ok()) normalized.push_back(std::move(n).value());
  }
  std::sort(normalized.begin(), normalized.end());
  normalized.erase(std::unique(normalized.begin(), normalized.end()), normalized.end());
  std::string key;
  for (const std::string& n : normalized) {
    key += n;
    key += '\n';  // cannot appear in a valid name
  }
  // The key of the rendering for `identity`; '\0' cannot appear in a names key.
  auto entity_key = [&]() {
    return key + '\0' + identity->entity_id + '\0' + std::to_string(identity->generation);
  };

  uint64_t generation = 0;
  {
    std::shared_lock lock(mu_);
    if (auto it = acls_.find(key); it != acls_.end()) {
      const CachedAcl& cached = it->second;
      if (!cached.templated || identity == nullptr) {
        if (cached.acl != nullptr) return cached.acl;
      } else if (auto rendered = acls_.find(entity_key()); rendered != acls_.end()) {
        return rendered->second.acl;
      }
    }
    generation = generation_;
  }
  std::vector<std::shared_ptr<const Policy>> policies;
  policies.reserve(normalized.size());
  bool templated = false;
  for (const std::string& name : normalized) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Policy> policy, Get(name));
    if (policy == nullptr) continue;
    for (const PathRules& rules : policy->paths) templated = templated || rules.templated;
    policies.push_back(std::move(policy));
  }
  const bool for_entity = templated && identity != nullptr;
  std::shared_ptr<const Acl> acl = Acl::Create(policies, for_entity ? identity : nullptr);
  std::unique_lock lock(mu_);
  if (generation == generation_ && acl->rule_count() <= kMaxCachedAclRules) {
    if (acls_.size() + 2 > kMaxCachedAcls || cached_acl_rules_ + acl->rule_count() > kMaxCachedAclRules) {
      acls_.clear();
      cached_acl_rules_ = 0;
    }
    if (for_entity) {
      acls_.try_emplace(key, CachedAcl{nullptr, true});  // marks the names as templated
      auto [it, inserted] = acls_.try_emplace(entity_key(), CachedAcl{acl, true});
      if (inserted) cached_acl_rules_ += acl->rule_count();
    } else {
      auto [it, inserted] = acls_.try_emplace(key, CachedAcl{acl, templated});
      if (inserted) {
        cached_acl_rules_ += acl->rule_count();
      } else if (it->second.acl == nullptr) {
        it->second.acl = acl;  // a marker: now with the rendering without an identity
        cached_acl_rules_ += acl->rule_count();
      }
    }
  }
  return acl;
}

void PolicyStore::InvalidateAclsLocked() {
  acls_.clear();
  cached_acl_rules_ = 0;
  ++generation_;
}

}  // namespace coffer::policy
