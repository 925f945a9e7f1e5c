#include "logical/token_fields.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "base/cidr.h"

namespace coffer::logical {

std::vector<std::string> NormalizePolicyNames(const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const auto& raw : names) {
    size_t b = raw.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    size_t e = raw.find_last_not_of(" \t\r\n");
    std::string name = raw.substr(b, e - b + 1);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    out.insert(std::move(name));
  }
  return {out.begin(), out.end()};
}

void TokenFields::AddFieldsTo(std::vector<Field>* schema) {
  schema->push_back({"token_policies", FieldType::kStringSlice, "Policies of the tokens issued."});
  schema->push_back({"token_ttl", FieldType::kDuration, "Initial TTL of the tokens issued."});
  schema->push_back({"token_max_ttl", FieldType::kDuration, "Longest lifetime of the tokens issued, renewals included."});
  schema->push_back({"token_explicit_max_ttl", FieldType::kDuration,
                     "A hard cap on the tokens' lifetime, stored in the token itself."});
  schema->push_back({"token_period", FieldType::kDuration, "Makes the tokens periodic with this renewal period."});
  schema->push_back({"token_num_uses", FieldType::kInt, "Number of uses of each token issued (0 = unlimited)."});
  schema->push_back({"token_bound_cidrs", FieldType::kStringSlice,
                     "CIDR blocks the tokens may be used from."});
  schema->push_back({"token_no_default_policy", FieldType::kBool,
                     "Do not add the default policy to the tokens issued."});
  schema->push_back({"token_type", FieldType::kString, "Token type: \"default\" or \"service\".", "default"});
}

Status TokenFields::Update(const FieldData& f) {
  TokenFields next = *this;
  if (f.Has("token_policies")) next.policies = NormalizePolicyNames(f.GetStringSlice("token_policies"));
  if (f.Has("token_ttl")) next.ttl = f.GetDurationSeconds("token_ttl");
  if (f.Has("token_max_ttl")) next.max_ttl = f.GetDurationSeconds("token_max_ttl");
  if (f.Has("token_explicit_max_ttl")) next.explicit_max_ttl = f.GetDurationSeconds("token_explicit_max_ttl");
  if (f.Has("token_period")) next.period = f.GetDurationSeconds("token_period");
  if (f.Has("token_num_uses")) next.num_uses = f.GetInt("token_num_uses");
  if (f.Has("token_no_default_policy")) next.no_default_policy = f.GetBool("token_no_default_policy");
  if (f.Has("token_bound_cidrs")) {
    next.bound_cidrs.clear();
    for (const auto& c : f.GetStringSlice("token_bound_cidrs")) {
      auto n = NormalizeCidr(c);
      if (!n.ok()) return InvalidArgument("field \"token_bound_cidrs\": " + n.status().message());
      next.bound_cidrs.push_back(*n);
    }
  }
  if (f.Has("token_type")) {
    std::string t = f.GetString("token_type");
    if (t == "default-service") t = "default";
    if (t == "batch" || t == "default-batch") {
      return InvalidArgument("field \"token_type\": batch tokens are not supported by Coffer; use \"service\" or \"default\"");
    }
    if (t != "default" && t != "service") {
      return InvalidArgument("invalid 'token_type' value \"" + t.substr(0, 32) + "\"");
    }
    next.type = t;
  }
  if (next.ttl < 0) return InvalidArgument("'token_ttl' cannot be negative");
  if (next.max_ttl < 0) return InvalidArgument("'token_max_ttl' cannot be negative");
  if (next.explicit_max_ttl < 0) return InvalidArgument("'token_explicit_max_ttl' cannot be negative");
  if (next.period < 0) return InvalidArgument("'token_period' cannot be negative");
  if (next.num_uses < 0) return InvalidArgument("'token_num_uses' cannot be negative");
  if (next.ttl > 0 && next.max_ttl > 0 && next.ttl > next.max_ttl) {
    return InvalidArgument("'token_ttl' cannot be greater than 'token_max_ttl'");
  }
  *this = std::move(next);
  return OkStatus();
}

void TokenFields::AddToResponse(nlohmann::json* data) const {
  nlohmann::json& d = *data;
  d["token_policies"] = policies;
  d["token_ttl"] = ttl;
  d["token_max_ttl"] = max_ttl;
  d["token_explicit_max_ttl"] = explicit_max_ttl;
  d["token_period"] = period;
  d["token_num_uses"] = num_uses;
  d["token_bound_cidrs"] = bound_cidrs;
  d["token_no_default_policy"] = no_default_policy;
  d["token_type"] = type;
}

nlohmann::json TokenFields::ToStorage() const {
  nlohmann::json j = nlohmann::json::object();
  AddToResponse(&j);
  return j;
}

TokenFields TokenFields::FromStorage(const nlohmann::json& j) {
  TokenFields t;
  if (!j.is_object()) return t;
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it != j.end() && it->is_array()) {
      for (const auto& v : *it) {
        if (v.is_string()) out.push_back(v.get<std::string>());
      }
    }
    return out;
  };
  auto integer = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  t.policies = strings("token_policies");
  t.bound_cidrs = strings("token_bound_cidrs");
  t.ttl = integer("token_ttl");
  t.max_ttl = integer("token_max_ttl");
  t.explicit_max_ttl = integer("token_explicit_max_ttl");
  t.period = integer("token_period");
  t.num_uses = integer("token_num_uses");
  auto ndp = j.find("token_no_default_policy");
  t.no_default_policy = ndp != j.end() && ndp->is_boolean() && ndp->get<bool>();
  auto type = j.find("token_type");
  if (type != j.end() && type->is_string()) t.type = type->get<std::string>();
  return t;
}

void TokenFields::PopulateAuth(Auth* auth) const {
  auth->policies = policies;
  auth->ttl = ttl;
  auth->max_ttl = max_ttl;
  auth->explicit_max_ttl = explicit_max_ttl;
  auth->period = period;
  auth->num_uses = num_uses;
  auth->bound_cidrs = bound_cidrs;
  auth->no_default_policy = no_default_policy;
  auth->token_type = type;
}

}  // namespace coffer::logical
