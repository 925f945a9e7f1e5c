// Private to crypto/*.cc: RAII handles for OpenSSL objects and the loud abort used when OpenSSL
// fails where it cannot fail (CSPRNG, a built-in algorithm missing, out of memory). Never include
// this header from a public header: OpenSSL stays inside crypto/.
#pragma once

#include <memory>

#include <openssl/evp.h>
#include <openssl/kdf.h>

namespace coffer::crypto::internal {

// Prints "coffer: fatal: <what> failed" plus OpenSSL's error queue (which never holds key
// material) to stderr and aborts. For impossible states only, never for bad input.
[[noreturn]] void FatalOpenSsl(const char* what);

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;

}  // namespace coffer::crypto::internal
