#include "crypto/openssl_util.h"

#include <openssl/err.h>

#include <cstdio>
#include <cstdlib>

namespace coffer::crypto::internal {

void FatalOpenSsl(const char* what) {
  std::fprintf(stderr, "coffer: fatal: %s failed\n", what);
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    std::fprintf(stderr, "coffer: openssl: %s\n", buf);
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace coffer::crypto::internal
