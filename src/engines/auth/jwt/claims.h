// Claim checks shared by the jwt and kubernetes auth methods, following Vault's JWT auth
// method: time claims with leeways, iss/sub/aud bindings, bound_claims (exact or glob, with
// JSON-pointer claim paths), claim_mappings, the user claim and the groups claim.
// Messages say which claim failed; none echoes the token.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::jwt {

// Vault's defaults: a leeway of 0 means the default, a negative leeway disables it.
inline constexpr int64_t kDefaultClockSkewLeeway = 60;
inline constexpr int64_t kDefaultExpirationLeeway = 150;
inline constexpr int64_t kDefaultNotBeforeLeeway = 150;

struct Leeways {
  int64_t clock_skew = 0;  // applies to exp, nbf and iat
  int64_t expiration = 0;  // added to exp (or, without exp, to the latest of iat/nbf)
  int64_t not_before = 0;  // subtracted from nbf (or, without nbf and iat, from exp)
};

// The effective seconds for a configured leeway: 0 → default, negative → 0.
int64_t EffectiveLeeway(int64_t configured, int64_t default_value);

// exp/nbf/iat at time `now` (Unix seconds). At least one of the three must be present; each
// present one must be a number. Errors: "token is expired (exp)", "token not valid yet (nbf)",
// "token issued in the future (iat)", "no issue time, notbefore, or expiration time encoded in
// token", "invalid exp claim: not a number".
Status ValidateTimeClaims(const nlohmann::json& claims, int64_t now, const Leeways& leeways);

// The "aud" claim as a list: absent → empty; a string → one entry; an array of strings.
StatusOr<std::vector<std::string>> AudienceClaim(const nlohmann::json& claims);

// Vault's audience rule: with bound audiences, at least one must be in the token's aud; with
// none and `strict`, a token that carries an aud is refused.
Status ValidateAudience(const std::vector<std::string>& bound, const std::vector<std::string>& aud, bool strict);

// A claim by name, or by JSON pointer (RFC 6901) when `name` starts with '/': "/a/b" walks
// objects, "/groups/0" indexes arrays. nullptr when absent (or the pointer is malformed).
const nlohmann::json* GetClaim(const nlohmann::json& claims, std::string_view name);

// ryanuber/go-glob semantics as Vault uses them: '*' matches any run of characters (including
// none), everything else is literal; "*" alone matches anything.
bool GlobMatch(std::string_view pattern, std::string_view value);

// Every bound claim must match: the token's value (a string, bool, number or a list of them)
// and the expected value (the same shapes) must share an element; with `glob`, expected
// strings are glob patterns. Errors name the claim: `claim "/a/b" is missing`,
// `claim "groups" does not match any associated bound claim values`.
Status ValidateBoundClaims(const nlohmann::json& bound_claims, const nlohmann::json& claims, bool glob);

// Checks a bound_claims document at role-write time: an object whose values are strings,
// bools, numbers or lists of those; with glob, strings (or lists of strings) only.
Status CheckBoundClaimsShape(const nlohmann::json& bound_claims, bool glob);

// claim_mappings: claim (name or JSON pointer) → metadata key. Absent claims are skipped; a
// present non-string claim is an error ("error converting claim 'x' to string").
StatusOr<std::map<std::string, std::string>> ExtractMetadata(const nlohmann::json& claims,
                                                             const std::map<std::string, std::string>& mappings);

// The user claim's value (a non-empty string). With json_pointer, a name starting with '/' is
// a JSON pointer; otherwise it is a plain claim name.
StatusOr<std::string> UserClaimValue(const nlohmann::json& claims, const std::string& user_claim, bool json_pointer);

// The groups claim as a list of strings: a list, or a single string/bool (normalized to a
// one-element list, as Vault does); empty strings are dropped; other element types fail.
StatusOr<std::vector<std::string>> GroupsClaimValues(const nlohmann::json& claims, const std::string& groups_claim);

}  // namespace coffer::jwt
