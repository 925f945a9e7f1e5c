#include "engines/auth/jwt/claims.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace coffer::jwt {
namespace {

// Short, printable rendering of a claim name for error messages (names come from the role
// configuration, not the token, but stay bounded anyway).
std::string Shown(std::string_view name) { return std::string(name.substr(0, 128)); }

// A NumericDate claim: absent → nullopt; a number → seconds (fractions truncated, clamped);
// anything else → error.
StatusOr<std::optional<int64_t>> NumericDate(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number()) return InvalidArgument(std::string("invalid ") + name + " claim: not a number");
  if (it->is_number_integer()) {
    if (it->is_number_unsigned()) {
      uint64_t u = it->get<uint64_t>();
      return std::optional<int64_t>(u > static_cast<uint64_t>(INT64_MAX / 2) ? INT64_MAX / 2 : static_cast<int64_t>(u));
    }
    int64_t v = it->get<int64_t>();
    return std::optional<int64_t>(std::clamp<int64_t>(v, INT64_MIN / 2, INT64_MAX / 2));
  }
  double d = it->get<double>();
  if (!std::isfinite(d)) return InvalidArgument(std::string("invalid ") + name + " claim: not a number");
  d = std::clamp(d, static_cast<double>(INT64_MIN / 2), static_cast<double>(INT64_MAX / 2));
  return std::optional<int64_t>(static_cast<int64_t>(d));
}

// Vault's normalizeList: a list as is; a scalar (string, bool, number) as a one-element list.
std::optional<std::vector<nlohmann::json>> NormalizeList(const nlohmann::json& v) {
  if (v.is_array()) return std::vector<nlohmann::json>(v.begin(), v.end());
  if (v.is_string() || v.is_boolean() || v.is_number()) return std::vector<nlohmann::json>{v};
  return std::nullopt;
}

bool ScalarsEqual(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

}  // namespace

int64_t EffectiveLeeway(int64_t configured, int64_t default_value) {
  if (configured < 0) return 0;
  if (configured == 0) return default_value;
  return configured;
}

Status ValidateTimeClaims(const nlohmann::json& claims, int64_t now, const Leeways& leeways) {
  ASSIGN_OR_RETURN(auto iat, NumericDate(claims, "iat"));
  ASSIGN_OR_RETURN(auto nbf, NumericDate(claims, "nbf"));
  ASSIGN_OR_RETURN(auto exp, NumericDate(claims, "exp"));
  if (!iat && !nbf && !exp) return InvalidArgument("no issue time, notbefore, or expiration time encoded in token");
  int64_t skew = EffectiveLeeway(leeways.clock_skew, kDefaultClockSkewLeeway);
  int64_t exp_leeway = EffectiveLeeway(leeways.expiration, kDefaultExpirationLeeway);
  int64_t nbf_leeway = EffectiveLeeway(leeways.not_before, kDefaultNotBeforeLeeway);

  // Without exp, the token expires expiration_leeway after it started (Vault's rule).
  int64_t expiry = exp ? *exp + exp_leeway : std::max(iat.value_or(0), nbf.value_or(0)) + exp_leeway;
  // Without nbf, the token starts at iat, or not_before_leeway before it expires.
  int64_t not_before = nbf ? *nbf - nbf_leeway : (iat ? *iat : expiry - nbf_leeway);

  if (now - skew > expiry) return PermissionDenied("token is expired (exp)");
  if (iat && now + skew < *iat) return PermissionDenied("token issued in the future (iat)");
  if (now + skew < not_before) return PermissionDenied("token not valid yet (nbf)");
  return OkStatus();
}

StatusOr<std::vector<std::string>> AudienceClaim(const nlohmann::json& claims) {
  std::vector<std::string> out;
  auto it = claims.find("aud");
  if (it == claims.end() || it->is_null()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) return InvalidArgument("invalid aud claim: not a string or a list of strings");
  for (const auto& a : *it) {
    if (!a.is_string()) return InvalidArgument("invalid aud claim: not a string or a list of strings");
    out.push_back(a.get<std::string>());
  }
  return out;
}

Status ValidateAudience(const std::vector<std::string>& bound, const std::vector<std::string>& aud, bool strict) {
  if (strict && bound.empty() && !aud.empty()) {
    return PermissionDenied("audience claim found in JWT but no audiences bound to the role");
  }
  if (bound.empty()) return OkStatus();
  for (const auto& b : bound) {
    if (std::find(aud.begin(), aud.end(), b) != aud.end()) return OkStatus();
  }
  return PermissionDenied("aud claim does not match any bound audience");
}

const nlohmann::json* GetClaim(const nlohmann::json& claims, std::string_view name) {
  if (!claims.is_object()) return nullptr;
  if (name.empty() || name[0] != '/') {
    auto it = claims.find(std::string(name));
    return it == claims.end() || it->is_null() ? nullptr : &*it;
  }
  const nlohmann::json* cur = &claims;
  size_t pos = 1;
  while (true) {
    size_t next = name.find('/', pos);
    std::string_view raw = name.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token.push_back(raw[i]);
        continue;
      }
      if (i + 1 >= raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1')) return nullptr;
      token.push_back(raw[i + 1] == '0' ? '~' : '/');
      ++i;
    }
    if (cur->is_object()) {
      auto it = cur->find(token);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0') ||
          !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return nullptr;
      }
      size_t index = std::stoul(token);
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return cur->is_null() ? nullptr : cur;
}

bool GlobMatch(std::string_view pattern, std::string_view value) {
  if (pattern == "*") return true;
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == value;
  // Split on '*': the first part is a prefix, the last a suffix, the middle ones appear in order.
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t s = pattern.find('*', start);
    parts.push_back(pattern.substr(start, s == std::string_view::npos ? std::string_view::npos : s - start));
    if (s == std::string_view::npos) break;
    start = s + 1;
  }
  std::string_view first = parts.front(), last = parts.back();
  if (value.size() < first.size() + last.size()) return false;
  if (value.substr(0, first.size()) != first) return false;
  if (value.substr(value.size() - last.size()) != last) return false;
  std::string_view middle = value.substr(first.size(), value.size() - first.size() - last.size());
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    size_t at = middle.find(parts[i]);
    if (at == std::string_view::npos) return false;
    middle = middle.substr(at + parts[i].size());
  }
  return true;
}

Status CheckBoundClaimsShape(const nlohmann::json& bound_claims, bool glob) {
  if (bound_claims.is_null()) return OkStatus();
  if (!bound_claims.is_object()) return InvalidArgument("field \"bound_claims\": expected a map of claims to values");
  for (const auto& [claim, value] : bound_claims.items()) {
    auto list = NormalizeList(value);
    if (!list) return InvalidArgument("field \"bound_claims\": claim \"" + Shown(claim) + "\" is not a string or list");
    for (const auto& v : *list) {
      if (glob && !v.is_string()) {
        return InvalidArgument("field \"bound_claims\": claim \"" + Shown(claim) +
                               "\" is not a string (glob patterns are strings)");
      }
      if (!v.is_string() && !v.is_boolean() && !v.is_number()) {
        return InvalidArgument("field \"bound_claims\": claim \"" + Shown(claim) +
                               "\" holds a value that is not a string, bool or number");
      }
    }
  }
  return OkStatus();
}

Status ValidateBoundClaims(const nlohmann::json& bound_claims, const nlohmann::json& claims, bool glob) {
  if (!bound_claims.is_object()) return OkStatus();
  for (const auto& [claim, expected] : bound_claims.items()) {
    const nlohmann::json* actual = GetClaim(claims, claim);
    if (actual == nullptr) return PermissionDenied("claim \"" + Shown(claim) + "\" is missing");
    auto act_vals = NormalizeList(*actual);
    if (!act_vals) return PermissionDenied("claim \"" + Shown(claim) + "\" is not a string or list");
    auto exp_vals = NormalizeList(expected);
    if (!exp_vals) return PermissionDenied("bound claim \"" + Shown(claim) + "\" is not a string or list");
    bool found = false;
    for (const auto& e : *exp_vals) {
      for (const auto& a : *act_vals) {
        if (glob) {
          if (e.is_string() && a.is_string() && GlobMatch(e.get<std::string>(), a.get<std::string>())) found = true;
        } else if (ScalarsEqual(e, a)) {
          found = true;
        }
        if (found) break;
      }
      if (found) break;
    }
    if (!found)
      return PermissionDenied("claim \"" + Shown(claim) + "\" does not match any associated bound claim values");
  }
  return OkStatus();
}

StatusOr<std::map<std::string, std::string>> ExtractMetadata(const nlohmann::json& claims,
                                                             const std::map<std::string, std::string>& mappings) {
  std::map<std::string, std::string> out;
  for (const auto& [source, target] : mappings) {
    const nlohmann::json* v = GetClaim(claims, source);
    if (v == nullptr) continue;
    if (!v->is_string()) return PermissionDenied("error converting claim '" + Shown(source) + "' to string");
    out[target] = v->get<std::string>();
  }
  return out;
}

StatusOr<std::string> UserClaimValue(const nlohmann::json& claims, const std::string& user_claim, bool json_pointer) {
  const nlohmann::json* v = nullptr;
  if (json_pointer) {
    v = GetClaim(claims, user_claim);
  } else {
    auto it = claims.find(user_claim);
    if (it != claims.end() && !it->is_null()) v = &*it;
  }
  if (v == nullptr) return PermissionDenied("claim \"" + Shown(user_claim) + "\" not found in token");
  if (!v->is_string()) return PermissionDenied("claim \"" + Shown(user_claim) + "\" could not be converted to string");
  if (v->get_ref<const std::string&>().empty()) return PermissionDenied("claim \"" + Shown(user_claim) + "\" is empty");
  return v->get<std::string>();
}

StatusOr<std::vector<std::string>> GroupsClaimValues(const nlohmann::json& claims, const std::string& groups_claim) {
  const nlohmann::json* v = GetClaim(claims, groups_claim);
  if (v == nullptr)
    return PermissionDenied("failed to fetch groups: \"" + Shown(groups_claim) + "\" claim not found in token");
  std::vector<std::string> out;
  if (v->is_string()) {
    if (!v->get_ref<const std::string&>().empty()) out.push_back(v->get<std::string>());
    return out;
  }
  if (v->is_boolean()) return PermissionDenied("value in groups claim could not be parsed as string");
  if (!v->is_array())
    return PermissionDenied("\"" + Shown(groups_claim) + "\" claim could not be converted to string list");
  for (const auto& g : *v) {
    if (!g.is_string()) return PermissionDenied("value in groups claim could not be parsed as string");
    if (!g.get_ref<const std::string&>().empty()) out.push_back(g.get<std::string>());
  }
  return out;
}

}  // namespace coffer::jwt
