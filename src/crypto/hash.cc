#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>

#include "crypto/openssl_util.h"

namespace coffer::crypto {
namespace {

using internal::FatalOpenSsl;

// Algorithms are fetched once: an implicit fetch on every call costs a locked lookup in
// OpenSSL 3's method store.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (m == nullptr) FatalOpenSsl("EVP_MD_fetch(SHA2-256)");
    return m;
  }();
  return md;
}

// An HMAC context with the digest already chosen; each call duplicates it and sets its key, so
// the digest is not looked up again. Read-only after construction, hence safe to share.
const EVP_MAC_CTX* HmacSha256Template() {
  static const EVP_MAC_CTX* const tmpl = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) FatalOpenSsl("EVP_MAC_fetch(HMAC)");
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    if (ctx == nullptr) FatalOpenSsl("EVP_MAC_CTX_new");
    char digest[] = "SHA2-256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) FatalOpenSsl("EVP_MAC_CTX_set_params");
    return ctx;
  }();
  return tmpl;
}

EVP_KDF* HkdfKdf() {
  static EVP_KDF* const kdf = [] {
    EVP_KDF* k = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (k == nullptr) FatalOpenSsl("EVP_KDF_fetch(HKDF)");
    return k;
  }();
  return kdf;
}

// OpenSSL treats a NULL key as "no key"; an empty key must still be a valid pointer.
const unsigned char* NonNull(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 Sha256Md(), nullptr) != 1 ||
      len != kSha256Size) {
    FatalOpenSsl("SHA-256");
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  internal::MacCtxPtr ctx(EVP_MAC_CTX_dup(HmacSha256Template()));
  if (ctx == nullptr) FatalOpenSsl("EVP_MAC_CTX_dup");
  if (EVP_MAC_init(ctx.get(), NonNull(key), key.size(), nullptr) != 1) FatalOpenSsl("HMAC init");
  if (EVP_MAC_update(ctx.get(), NonNull(data), data.size()) != 1) FatalOpenSsl("HMAC update");
  std::string out(kSha256Size, '\0');
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
          1 ||
      len != kSha256Size) {
    FatalOpenSsl("HMAC final");
  }
  return out;
}

SecretBytes HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length) {
  if (length == 0 || length > kHkdfSha256MaxLength) {
    std::fprintf(stderr, "coffer: fatal: HkdfSha256 called with length %zu (allowed 1..%zu)\n",
                 length, kHkdfSha256MaxLength);
    std::abort();
  }
  internal::KdfCtxPtr ctx(EVP_KDF_CTX_new(HkdfKdf()));
  if (ctx == nullptr) FatalOpenSsl("EVP_KDF_CTX_new");
  char digest[] = "SHA2-256";
  auto octets = [](const char* name, std::string_view s) {
    return OSSL_PARAM_construct_octet_string(name, const_cast<unsigned char*>(NonNull(s)),
                                             s.size());
  };
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm);
  // An absent salt is the RFC's default (HashLen zero bytes), identical to an empty one.
  if (!salt.empty()) params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  if (!info.empty()) params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) FatalOpenSsl("HKDF");
  return out;
}

}  // namespace coffer::crypto
