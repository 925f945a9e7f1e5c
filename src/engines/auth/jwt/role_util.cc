#include "engines/auth/jwt/role_util.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "base/cidr.h"
#include "base/encoding.h"

namespace coffer::jwt {
namespace {

bool WordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

StatusOr<logical::Storage*> StorageOf(logical::Request& req, std::string_view method) {
  if (req.storage == nullptr) return InternalError(std::string(method) + ": request has no storage view");
  return req.storage;
}

StatusOr<std::optional<nlohmann::json>> GetJson(logical::Storage* storage, const std::string& key,
                                                std::string_view method) {
  ASSIGN_OR_RETURN(auto raw, storage->Get(key));
  if (!raw) return std::optional<nlohmann::json>();
  nlohmann::json j = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return DataLoss(std::string(method) + ": stored entry \"" + key + "\" is not a JSON object");
  }
  return std::optional<nlohmann::json>(std::move(j));
}

Status CheckRoleName(const std::string& name) {
  if (name.empty()) return InvalidArgument("missing role name");
  bool ok = name.size() <= 128 && WordChar(name.front()) && WordChar(name.back());
  for (char c : name) ok = ok && (WordChar(c) || c == '-' || c == '.');
  if (!ok) {
    return InvalidArgument(
        "field \"name\": a role name may hold letters, digits, '_', '-' and '.', and must start "
        "and end with a letter, digit or '_'");
  }
  return OkStatus();
}

void AddLegacyTokenFieldsTo(std::vector<logical::Field>* schema) {
  using logical::FieldType;
  schema->push_back({"policies", FieldType::kStringSlice, "Deprecated: use token_policies."});
  schema->push_back({"ttl", FieldType::kDuration, "Deprecated: use token_ttl."});
  schema->push_back({"max_ttl", FieldType::kDuration, "Deprecated: use token_max_ttl."});
  schema->push_back({"period", FieldType::kDuration, "Deprecated: use token_period."});
  schema->push_back({"num_uses", FieldType::kInt, "Deprecated: use token_num_uses."});
  schema->push_back({"bound_cidrs", FieldType::kStringSlice, "Deprecated: use token_bound_cidrs."});
}

Status UpdateTokenFields(const logical::FieldData& f, logical::TokenFields* token) {
  logical::TokenFields next = *token;
  RETURN_IF_ERROR(next.Update(f));
  if (f.Has("policies") && !f.Has("token_policies"))
    next.policies = logical::NormalizePolicyNames(f.GetStringSlice("policies"));
  if (f.Has("ttl") && !f.Has("token_ttl")) next.ttl = f.GetDurationSeconds("ttl");
  if (f.Has("max_ttl") && !f.Has("token_max_ttl")) next.max_ttl = f.GetDurationSeconds("max_ttl");
  if (f.Has("period") && !f.Has("token_period")) next.period = f.GetDurationSeconds("period");
  if (f.Has("num_uses") && !f.Has("token_num_uses")) next.num_uses = f.GetInt("num_uses");
  if (f.Has("bound_cidrs") && !f.Has("token_bound_cidrs")) {
    next.bound_cidrs.clear();
    for (const auto& c : f.GetStringSlice("bound_cidrs")) {
      auto n = NormalizeCidr(c);
      if (!n.ok()) return InvalidArgument("field \"bound_cidrs\": " + n.status().message());
      next.bound_cidrs.push_back(*n);
    }
  }
  if (next.ttl < 0 || next.max_ttl < 0 || next.period < 0 || next.num_uses < 0) {
    return InvalidArgument("'ttl', 'max_ttl', 'period' and 'num_uses' cannot be negative");
  }
  if (next.ttl > 0 && next.max_ttl > 0 && next.ttl > next.max_ttl) {
    return InvalidArgument("'token_ttl' cannot be greater than 'token_max_ttl'");
  }
  *token = std::move(next);
  return OkStatus();
}

Status CheckLoginCidrs(const logical::TokenFields& token, const std::string& remote_address) {
  if (token.bound_cidrs.empty()) return OkStatus();
  if (remote_address.empty() || !AddressAllowed(token.bound_cidrs, remote_address)) return PermissionDenied();
  return OkStatus();
}

std::vector<std::string> JsonStrings(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& e : v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace coffer::jwt
