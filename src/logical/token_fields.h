// The token_* fields every auth method's roles and users share (Vault's tokenutil.TokenParams):
// token_policies, token_ttl, token_max_ttl, token_explicit_max_ttl, token_period,
// token_num_uses, token_bound_cidrs, token_no_default_policy, token_type. One schema, one
// validation, one read shape and one mapping into the login's Auth, so the four methods agree.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "logical/framework.h"
#include "logical/request.h"

namespace coffer::logical {

struct TokenFields {
  std::vector<std::string> policies;     // normalized: trimmed, lower-case, de-duplicated, sorted
  std::vector<std::string> bound_cidrs;  // normalized CIDR blocks
  int64_t ttl = 0, max_ttl = 0, explicit_max_ttl = 0, period = 0, num_uses = 0;  // seconds / count
  bool no_default_policy = false;
  std::string type = "default";  // "default" or "service" (batch tokens are not supported)

  // Appends the nine token_* field declarations to a path's schema.
  static void AddFieldsTo(std::vector<Field>* schema);

  // Applies the token_* fields the client supplied (the others keep their values) and checks
  // the result as Vault does: no negative TTL, period or use count ("'token_ttl' cannot be
  // negative"), token_ttl not above token_max_ttl, valid CIDRs, a known token_type. Batch
  // tokens ("batch", "default-batch") are refused with a clear 400: Coffer issues service
  // tokens only. On error nothing is changed.
  Status Update(const FieldData& fields);

  // The token_* keys of a role or user read: TTLs in seconds, lists as arrays (never null).
  void AddToResponse(nlohmann::json* data) const;

  // Storage form (the same keys as AddToResponse) and back; FromStorage tolerates missing keys.
  nlohmann::json ToStorage() const;
  static TokenFields FromStorage(const nlohmann::json& stored);

  // Copies the settings into a login's Auth (policies, TTLs, period, uses, CIDRs, type,
  // no_default_policy).
  void PopulateAuth(Auth* auth) const;
};

// Vault's policyutil.ParsePolicies: trims, lower-cases, drops empty names, de-duplicates and
// sorts.
std::vector<std::string> NormalizePolicyNames(const std::vector<std::string>& names);

}  // namespace coffer::logical
