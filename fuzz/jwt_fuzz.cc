// Fuzzes the JOSE/JWT code of the jwt and kubernetes auth methods: the input is read as a
// compact JWT (parsed, then verified against a fixed P-256 key and put through every claim
// check), as a JWKS document (parsed, then used to verify a fixed valid token), and as a PEM
// public key. Nothing may crash, leak or trip a sanitizer, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/auth/jwt/claims.h"
#include "engines/auth/jwt/jose.h"

namespace {

using coffer::jwt::PublicKey;

const char kPem[] =
    "-----BEGIN PUBLIC "
    "KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYC3RR+/"
    "tOu9VmrJLfEz+SLzizMDh\nqk8WzXC1FGLqbirppAtN6vSGNAWCwrhskgnkBmhYnK4YKVhlVIxXkvedGg==\n-----END PUBLIC KEY-----\n";
// ES256, kid "fuzz", signed by kPem's private key.
const char kToken[] =
    "eyJhbGciOiAiRVMyNTYiLCAia2lkIjogImZ1enoiLCAidHlwIjogIkpXVCJ9."
    "eyJzdWIiOiAiZnV6eiIsICJhdWQiOiBbImEiLCAiYiJdLCAiZXhwIjogNDEwMjQ0NDgwMCwgImlhdCI6IDE3MDAwMDAwMDAsICJncm91cHMiOiBbIn"
    "giLCAieSJdLCAiY3R4IjogeyJ0ZWFtIjogImJsdWUifX0.uRaSVMenfkE9zU6ib10ZAlHVSBXMf3TJHV35RBszd-"
    "DlIqmMHRMJkLneemelRUVdlSSvwS6hkcq1_ngkKI7F8w";

const std::vector<PublicKey>& FixedKeys() {
  static const std::vector<PublicKey> keys = [] {
    std::vector<PublicKey> k;
    auto key = coffer::jwt::ParsePemPublicKey(kPem);
    if (key.ok()) k.push_back(*key);
    return k;
  }();
  return keys;
}

void CheckClaims(const nlohmann::json& claims) {
  using namespace coffer::jwt;
  (void)ValidateTimeClaims(claims, 1700000000, Leeways{});
  (void)ValidateTimeClaims(claims, 1700000000, Leeways{-1, -1, -1});
  auto aud = AudienceClaim(claims);
  if (aud.ok()) (void)ValidateAudience({"a"}, *aud, true);
  (void)ValidateBoundClaims(nlohmann::json{{"/ctx/team", "bl*"}, {"groups", {"x", "y*"}}}, claims, true);
  (void)ValidateBoundClaims(nlohmann::json{{"sub", "fuzz"}}, claims, false);
  (void)ExtractMetadata(claims, {{"/ctx/team", "team"}, {"email", "mail"}});
  (void)UserClaimValue(claims, "/ctx/0/~1x", true);
  (void)UserClaimValue(claims, "sub", false);
  (void)GroupsClaimValues(claims, "groups");
  // Claim names from the token itself become JSON pointers and globs.
  for (const auto& [key, value] : claims.items()) {
    (void)GetClaim(claims, key);
    if (value.is_string()) {
      (void)GetClaim(claims, value.get_ref<const std::string&>());
      (void)GlobMatch(value.get_ref<const std::string&>(), key);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  using namespace coffer::jwt;

  auto jws = ParseCompactJws(input);
  if (jws.ok()) {
    (void)VerifyJwsSignature(*jws, FixedKeys(), SupportedAlgNames());
    CheckClaims(jws->claims);
  }

  auto keys = ParseJwksText(input);
  if (keys.ok()) {
    auto fixed = ParseCompactJws(kToken);
    if (fixed.ok()) (void)VerifyJwsSignature(*fixed, *keys, SupportedAlgNames());
  }
  auto doc = nlohmann::json::parse(input, nullptr, false);
  if (!doc.is_discarded()) {
    (void)ParseJwk(doc);
    if (doc.is_object()) CheckClaims(doc);
  }

  (void)ParsePemPublicKey(input);
  (void)Base64UrlDecode(input);
  return 0;
}
