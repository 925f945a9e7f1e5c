#include "engines/auth/jwt/jose.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace coffer::jwt {
namespace {

constexpr size_t kMaxTokenSize = 64 * 1024;
constexpr int kMinRsaBits = 2048;

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64Url[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kTable = MakeTable();

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// OpenSSL leaves errors for bad input on its thread-local queue; drop them so they never
// surface in an unrelated later call.
struct ErrorQueueGuard {
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

std::shared_ptr<evp_pkey_st> Share(PkeyPtr p) { return std::shared_ptr<evp_pkey_st>(p.release(), PkeyFree()); }

const char* DigestFor(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
    case Alg::kES256:
      return "SHA256";
    case Alg::kRS384:
    case Alg::kES384:
      return "SHA384";
    case Alg::kRS512:
      return "SHA512";
    case Alg::kEdDSA:
      return nullptr;
  }
  return nullptr;
}

// Classifies an OpenSSL key; InvalidArgument for types and curves this library does not verify.
StatusOr<KeyType> ClassifyKey(EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA: {
      if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
        return InvalidArgument("RSA key too small: at least 2048 bits are required");
      }
      return KeyType::kRsa;
    }
    case EVP_PKEY_EC: {
      char name[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1) {
        return InvalidArgument("EC key without a named curve");
      }
      std::string_view n(name, len);
      if (n == "prime256v1" || n == "P-256" || n == "secp256r1") return KeyType::kEcP256;
      if (n == "secp384r1" || n == "P-384") return KeyType::kEcP384;
      return InvalidArgument("unsupported EC curve (P-256 and P-384 are supported)");
    }
    case EVP_PKEY_ED25519:
      return KeyType::kEd25519;
    default:
      return InvalidArgument("unsupported public key type (RSA, EC P-256/P-384 and Ed25519 are supported)");
  }
}

StatusOr<std::string> JwkField(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return InvalidArgument(std::string("JWK: missing or non-string \"") + name + "\"");
  }
  auto decoded = Base64UrlDecode(it->get<std::string>());
  if (!decoded.ok()) return InvalidArgument(std::string("JWK: \"") + name + "\": " + decoded.status().message());
  return *decoded;
}

StatusOr<PkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return InvalidArgument("JWK: cannot build key parameters");
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return InternalError("OpenSSL: key import unavailable");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) {
    return InvalidArgument("JWK: invalid key parameters");
  }
  return PkeyPtr(raw);
}

StatusOr<PkeyPtr> RsaFromJwk(const nlohmann::json& jwk) {
  ASSIGN_OR_RETURN(std::string n, JwkField(jwk, "n"));
  ASSIGN_OR_RETURN(std::string e, JwkField(jwk, "e"));
  if (n.empty() || e.empty() || e.size() > 8) return InvalidArgument("JWK: invalid RSA modulus or exponent");
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e || BN_is_zero(bn_e.get()) || !BN_is_odd(bn_e.get())) {
    return InvalidArgument("JWK: invalid RSA modulus or exponent");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return InternalError("OpenSSL: cannot build RSA parameters");
  }
  return FromData("RSA", bld.get());
}

StatusOr<PkeyPtr> EcFromJwk(const nlohmann::json& jwk, const std::string& crv) {
  size_t size = crv == "P-256" ? 32 : 48;
  const char* group = crv == "P-256" ? "prime256v1" : "secp384r1";
  ASSIGN_OR_RETURN(std::string x, JwkField(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, JwkField(jwk, "y"));
  if (x.size() != size || y.size() != size)
    return InvalidArgument("JWK: EC coordinates have the wrong length for " + crv);
  std::string point = "\x04" + x + y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return InternalError("OpenSSL: cannot build EC parameters");
  }
  auto pkey = FromData("EC", bld.get());
  if (!pkey.ok()) return InvalidArgument("JWK: EC point is not on the curve " + crv);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return InvalidArgument("JWK: EC point is not on the curve " + crv);
  return pkey;
}

StatusOr<PkeyPtr> Ed25519FromJwk(const nlohmann::json& jwk) {
  ASSIGN_OR_RETURN(std::string x, JwkField(jwk, "x"));
  if (x.size() != 32) return InvalidArgument("JWK: Ed25519 key must be 32 bytes");
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (raw == nullptr) return InvalidArgument("JWK: invalid Ed25519 key");
  return PkeyPtr(raw);
}

// JWS ECDSA signatures are r||s, each exactly the curve's size; OpenSSL wants DER.
std::optional<std::string> EcdsaRawToDer(std::string_view sig, size_t half) {
  if (sig.size() != 2 * half) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> es(ECDSA_SIG_new());
  if (!es) return std::nullopt;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data() + half), static_cast<int>(half), nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(es.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(es.get(), &p) != len) return std::nullopt;
  return der;
}

}  // namespace

std::optional<Alg> ParseAlg(std::string_view name) {
  if (name == "RS256") return Alg::kRS256;
  if (name == "RS384") return Alg::kRS384;
  if (name == "RS512") return Alg::kRS512;
  if (name == "ES256") return Alg::kES256;
  if (name == "ES384") return Alg::kES384;
  if (name == "EdDSA") return Alg::kEdDSA;
  return std::nullopt;
}

const char* AlgName(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
      return "RS256";
    case Alg::kRS384:
      return "RS384";
    case Alg::kRS512:
      return "RS512";
    case Alg::kES256:
      return "ES256";
    case Alg::kES384:
      return "ES384";
    case Alg::kEdDSA:
      return "EdDSA";
  }
  return "";
}

std::vector<std::string> SupportedAlgNames() { return {"RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"}; }

StatusOr<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) return InvalidArgument("invalid base64url length");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int8_t v = kTable[static_cast<unsigned char>(c)];
    if (v < 0) return InvalidArgument("invalid base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return InvalidArgument("non-canonical base64url encoding");
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64Url[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64Url[(acc << (6 - bits)) & 63]);
  return out;
}

StatusOr<Jws> ParseCompactJws(std::string_view token) {
  if (token.empty()) return InvalidArgument("malformed JWT: empty token");
  if (token.size() > kMaxTokenSize) return InvalidArgument("malformed JWT: token larger than 64 KiB");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return InvalidArgument("malformed JWT: expected 3 dot-separated parts");
  }
  std::string_view h64 = token.substr(0, d1), p64 = token.substr(d1 + 1, d2 - d1 - 1), s64 = token.substr(d2 + 1);
  auto h = Base64UrlDecode(h64);
  if (!h.ok()) return InvalidArgument("malformed JWT header: " + h.status().message());
  auto p = Base64UrlDecode(p64);
  if (!p.ok()) return InvalidArgument("malformed JWT payload: " + p.status().message());
  auto s = Base64UrlDecode(s64);
  if (!s.ok()) return InvalidArgument("malformed JWT signature: " + s.status().message());
  Jws jws;
  jws.header = nlohmann::json::parse(*h, nullptr, /*allow_exceptions=*/false);
  if (!jws.header.is_object()) return InvalidArgument("malformed JWT header: not a JSON object");
  jws.claims = nlohmann::json::parse(*p, nullptr, /*allow_exceptions=*/false);
  if (!jws.claims.is_object()) return InvalidArgument("malformed JWT payload: not a JSON object");
  auto alg = jws.header.find("alg");
  if (alg == jws.header.end() || !alg->is_string()) return InvalidArgument("malformed JWT header: missing \"alg\"");
  jws.alg = alg->get<std::string>();
  auto kid = jws.header.find("kid");
  if (kid != jws.header.end()) {
    if (!kid->is_string()) return InvalidArgument("malformed JWT header: \"kid\" is not a string");
    jws.kid = kid->get<std::string>();
  }
  // RFC 7515 §4.1.11: a "crit" header names extensions the verifier must understand; we know none.
  if (jws.header.contains("crit")) return InvalidArgument("unsupported JWT header: \"crit\"");
  jws.signing_input = std::string(token.substr(0, d2));
  jws.signature = std::move(*s);
  return jws;
}

bool PublicKey::Accepts(Alg alg) const {
  if (!alg_.empty() && alg_ != AlgName(alg)) return false;
  switch (type_) {
    case KeyType::kRsa:
      return alg == Alg::kRS256 || alg == Alg::kRS384 || alg == Alg::kRS512;
    case KeyType::kEcP256:
      return alg == Alg::kES256;
    case KeyType::kEcP384:
      return alg == Alg::kES384;
    case KeyType::kEd25519:
      return alg == Alg::kEdDSA;
  }
  return false;
}

bool PublicKey::Verify(Alg alg, std::string_view data, std::string_view signature) const {
  if (!pkey_ || !Accepts(alg)) return false;
  ErrorQueueGuard guard;
  std::string der;
  std::string_view sig = signature;
  if (type_ == KeyType::kEcP256 || type_ == KeyType::kEcP384) {
    auto converted = EcdsaRawToDer(signature, type_ == KeyType::kEcP256 ? 32 : 48);
    if (!converted) return false;
    der = std::move(*converted);
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, DigestFor(alg), nullptr, nullptr, pkey_.get(), nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

StatusOr<PublicKey> ParsePemPublicKey(std::string_view pem) {
  ErrorQueueGuard guard;
  if (pem.size() > 1024 * 1024) return InvalidArgument("PEM data too large");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("OpenSSL: cannot allocate a BIO");
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    return InvalidArgument("no PEM block found (expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)");
  }
  std::string label = name;
  OPENSSL_free(name);
  OPENSSL_free(header);
  struct DataFree {
    unsigned char* p;
    ~DataFree() { OPENSSL_free(p); }
  } data_free{data};
  const unsigned char* p = data;
  PkeyPtr pkey;
  if (label == "PUBLIC KEY") {
    pkey.reset(d2i_PUBKEY(nullptr, &p, len));
  } else if (label == "RSA PUBLIC KEY") {
    pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
  } else if (label == "CERTIFICATE") {
    std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, len));
    if (cert) pkey.reset(X509_get_pubkey(cert.get()));
  } else {
    return InvalidArgument("unsupported PEM block \"" + label.substr(0, 32) +
                           "\" (expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)");
  }
  if (!pkey) return InvalidArgument("PEM block \"" + label + "\" does not hold a valid public key");
  ASSIGN_OR_RETURN(KeyType type, ClassifyKey(pkey.get()));
  PublicKey key;
  key.type_ = type;
  key.pkey_ = Share(std::move(pkey));
  return key;
}

StatusOr<PublicKey> ParseJwk(const nlohmann::json& jwk) {
  ErrorQueueGuard guard;
  if (!jwk.is_object()) return InvalidArgument("JWK: not a JSON object");
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto it = jwk.find(k);
    if (it == jwk.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  for (const char* k : {"kty", "kid", "use", "alg", "crv"}) {
    if (jwk.contains(k) && !jwk[k].is_string())
      return InvalidArgument(std::string("JWK: \"") + k + "\" is not a string");
  }
  std::string kty = str("kty").value_or("");
  std::string use = str("use").value_or("");
  if (!use.empty() && use != "sig")
    return InvalidArgument("JWK: \"use\" is \"" + use.substr(0, 16) + "\", not \"sig\"");
  std::string alg = str("alg").value_or("");
  PkeyPtr pkey;
  if (kty == "RSA") {
    ASSIGN_OR_RETURN(pkey, RsaFromJwk(jwk));
  } else if (kty == "EC") {
    std::string crv = str("crv").value_or("");
    if (crv != "P-256" && crv != "P-384")
      return InvalidArgument("JWK: unsupported EC curve (P-256 and P-384 are supported)");
    ASSIGN_OR_RETURN(pkey, EcFromJwk(jwk, crv));
  } else if (kty == "OKP") {
    if (str("crv").value_or("") != "Ed25519")
      return InvalidArgument("JWK: unsupported OKP curve (Ed25519 is supported)");
    ASSIGN_OR_RETURN(pkey, Ed25519FromJwk(jwk));
  } else {
    return InvalidArgument("JWK: unsupported \"kty\" (RSA, EC and OKP are supported)");
  }
  ASSIGN_OR_RETURN(KeyType type, ClassifyKey(pkey.get()));
  PublicKey key;
  key.type_ = type;
  key.pkey_ = Share(std::move(pkey));
  key.kid_ = str("kid").value_or("");
  key.alg_ = alg;
  return key;
}

StatusOr<std::vector<PublicKey>> ParseJwks(const nlohmann::json& jwks) {
  if (!jwks.is_object()) return InvalidArgument("JWKS: not a JSON object");
  auto keys = jwks.find("keys");
  if (keys == jwks.end() || !keys->is_array()) return InvalidArgument("JWKS: missing \"keys\" array");
  std::vector<PublicKey> out;
  for (const auto& jwk : *keys) {
    if (!jwk.is_object()) return InvalidArgument("JWKS: a key is not a JSON object");
    auto kty = jwk.find("kty");
    auto use = jwk.find("use");
    bool skip = (use != jwk.end() && use->is_string() && use->get<std::string>() != "sig") || kty == jwk.end() ||
                !kty->is_string() || (*kty != "RSA" && *kty != "EC" && *kty != "OKP");
    if (!skip && (*kty == "EC" || *kty == "OKP")) {
      auto crv = jwk.find("crv");
      std::string c = crv != jwk.end() && crv->is_string() ? crv->get<std::string>() : "";
      skip = *kty == "EC" ? (c != "P-256" && c != "P-384") : c != "Ed25519";
    }
    if (skip) continue;
    auto key = ParseJwk(jwk);
    if (!key.ok()) {
      std::string kid =
          jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>().substr(0, 64) : "";
      return InvalidArgument("JWKS: key \"" + kid + "\": " + key.status().message());
    }
    out.push_back(std::move(*key));
  }
  if (out.empty()) return InvalidArgument("JWKS: no usable signing key (RSA, EC P-256/P-384 or Ed25519)");
  return out;
}

StatusOr<std::vector<PublicKey>> ParseJwksText(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("JWKS: not valid JSON");
  return ParseJwks(doc);
}

Status VerifyJwsSignature(const Jws& jws, const std::vector<PublicKey>& keys,
                          const std::vector<std::string>& allowed_algs) {
  auto alg = ParseAlg(jws.alg);
  std::string shown = jws.alg.substr(0, 16);
  if (!alg) return InvalidArgument("unsupported signing algorithm \"" + shown + "\"");
  if (std::find(allowed_algs.begin(), allowed_algs.end(), jws.alg) == allowed_algs.end()) {
    return InvalidArgument("signing algorithm \"" + shown + "\" is not in jwt_supported_algs");
  }
  bool kid_seen = false;
  bool candidate = false;
  for (const auto& key : keys) {
    if (!jws.kid.empty() && !key.kid().empty() && key.kid() != jws.kid) continue;
    if (!jws.kid.empty() && key.kid() == jws.kid) kid_seen = true;
    if (!key.Accepts(*alg)) continue;
    candidate = true;
    if (key.Verify(*alg, jws.signing_input, jws.signature)) return OkStatus();
  }
  bool keys_have_kids = std::any_of(keys.begin(), keys.end(), [](const PublicKey& k) { return !k.kid().empty(); });
  if (!jws.kid.empty() && keys_have_kids && !kid_seen) return NotFound("no key with the token's kid");
  if (!candidate) return PermissionDenied("no configured key accepts signing algorithm \"" + shown + "\"");
  return PermissionDenied("no known key successfully validated the token signature");
}

}  // namespace coffer::jwt
