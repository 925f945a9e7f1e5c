#include "base/secret_bytes.h"

#include <openssl/crypto.h>

namespace coffer {

void SecureWipe(void* p, size_t n) {
  if (p != nullptr && n > 0) OPENSSL_cleanse(p, n);
}

bool ConstantTimeEquals(const void* a, size_t a_len, const void* b, size_t b_len) {
  if (a_len != b_len) return false;
  if (a_len == 0) return true;
  return CRYPTO_memcmp(a, b, a_len) == 0;
}

}  // namespace coffer
