#include "crypto/scrypt.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/openssl_util.h"

namespace coffer::crypto {

StatusOr<SecretBytes> Scrypt(std::string_view passphrase, std::string_view salt, int log2_n, uint32_t r, uint32_t p,
                             size_t length) {
  if (log2_n < 1 || log2_n > 40 || length == 0 || r == 0 || p == 0) {
    return InvalidArgument("invalid scrypt parameters");
  }
  static EVP_KDF* const kdf = [] {
    EVP_KDF* k = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
    if (k == nullptr) internal::FatalOpenSsl("EVP_KDF_fetch(SCRYPT)");
    return k;
  }();
  internal::KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr) internal::FatalOpenSsl("EVP_KDF_CTX_new");
  uint64_t n = uint64_t{1} << log2_n;
  // The working set is 128*r*N (plus 128*r*p); leave headroom over OpenSSL's 32 MiB default cap.
  uint64_t maxmem = 128ull * r * n + 128ull * r * p + (1u << 20);
  static const unsigned char kEmpty = 0;
  auto bytes = [](std::string_view s) {
    return const_cast<unsigned char*>(s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data()));
  };
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, bytes(passphrase), passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, bytes(salt), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Unavailable("scrypt key derivation failed (not enough memory?)");
  }
  return out;
}

}  // namespace coffer::crypto
