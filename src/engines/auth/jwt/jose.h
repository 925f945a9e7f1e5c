// JOSE for the jwt and kubernetes auth methods: compact JWS parsing, public keys (PEM and JWKS)
// and signature verification with OpenSSL 3. Only asymmetric algorithms exist here: RS256,
// RS384, RS512, ES256, ES384 and EdDSA (Ed25519). "none" and HS* are unknown algorithms, so
// a token can never be verified with a public key used as an HMAC secret.
//
// Error messages name what failed (part count, base64, JSON, alg, kid, signature) and never
// contain the token or any part of it.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace coffer::jwt {

enum class Alg { kRS256, kRS384, kRS512, kES256, kES384, kEdDSA };

// "RS256" ... "EdDSA" (JOSE names, case-sensitive). Anything else (including "none", "HS256",
// "PS256", "ES512") is nullopt.
std::optional<Alg> ParseAlg(std::string_view name);
const char* AlgName(Alg alg);
// Every algorithm this library verifies, in JOSE names.
std::vector<std::string> SupportedAlgNames();

// Strict unpadded base64url (RFC 7515 §2): no '=', no whitespace, no characters outside
// [A-Za-z0-9_-], no impossible length, no non-zero trailing bits.
StatusOr<std::string> Base64UrlDecode(std::string_view in);
std::string Base64UrlEncode(std::string_view bytes);

// A compact JWS split and decoded; the signature is not checked yet.
struct Jws {
  nlohmann::json header;      // an object
  nlohmann::json claims;      // an object
  std::string signing_input;  // "<b64 header>.<b64 payload>" exactly as received
  std::string signature;      // raw bytes
  std::string alg;            // header "alg" (a string)
  std::string kid;            // header "kid", "" when absent
};

// Exactly three non-empty-header parts separated by '.', each strict base64url; header and
// payload must be JSON objects; header.alg must be a string. Rejects tokens longer than 64 KiB.
StatusOr<Jws> ParseCompactJws(std::string_view token);

enum class KeyType { kRsa, kEcP256, kEcP384, kEd25519 };

// A public verification key with its JWKS attributes (empty when the key came from PEM).
class PublicKey {
 public:
  KeyType type() const { return type_; }
  const std::string& kid() const { return kid_; }
  const std::string& alg() const { return alg_; }  // the JWK's "alg", "" when absent
  // True when `alg` is an algorithm for this key's type (RS* for RSA, ES256 for P-256,
  // ES384 for P-384, EdDSA for Ed25519) and agrees with the JWK's own "alg" if it has one.
  bool Accepts(Alg alg) const;
  // Verifies `signature` (JWS form: raw r||s for ECDSA) over `data`. False on any mismatch,
  // including an algorithm the key does not accept.
  bool Verify(Alg alg, std::string_view data, std::string_view signature) const;

 private:
  friend StatusOr<PublicKey> ParsePemPublicKey(std::string_view pem);
  friend StatusOr<std::vector<PublicKey>> ParseJwks(const nlohmann::json& jwks);
  friend StatusOr<PublicKey> ParseJwk(const nlohmann::json& jwk);
  PublicKey() = default;
  std::shared_ptr<evp_pkey_st> pkey_;
  KeyType type_ = KeyType::kRsa;
  std::string kid_;
  std::string alg_;
};

// The first PEM block of `pem`: "PUBLIC KEY" (SPKI), "RSA PUBLIC KEY" (PKCS#1) or
// "CERTIFICATE" (its subject public key). RSA keys must have at least 2048 bits; EC keys must
// be on P-256 or P-384; Ed25519 is accepted.
StatusOr<PublicKey> ParsePemPublicKey(std::string_view pem);

// One JWK: kty RSA (n, e), EC (crv P-256/P-384, x, y, on the curve) or OKP (crv Ed25519, x).
// Keys with "use" other than "sig" or an unsupported kty/crv are InvalidArgument.
StatusOr<PublicKey> ParseJwk(const nlohmann::json& jwk);
// A JWKS document {"keys": [...]}. Keys for encryption ("use": "enc") and of unsupported
// types are skipped; a malformed supported key is an error; no usable key is an error.
StatusOr<std::vector<PublicKey>> ParseJwks(const nlohmann::json& jwks);
StatusOr<std::vector<PublicKey>> ParseJwksText(std::string_view text);

// Signature check of a parsed token against `keys`:
//  - the token's alg must be known and listed in `allowed_algs` (JOSE names), else
//    InvalidArgument naming the alg;
//  - when the token has a kid, only keys with that kid are tried; none is NotFound
//    ("no key with the token's kid"), so a caller may refresh its JWKS and retry;
//  - a key is tried only if it accepts the alg (type and JWK alg);
//  - PermissionDenied when no candidate verifies the signature.
Status VerifyJwsSignature(const Jws& jws, const std::vector<PublicKey>& keys,
                          const std::vector<std::string>& allowed_algs);

}  // namespace coffer::jwt
