#include "crypto/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>

#include "crypto/openssl_util.h"

namespace coffer::crypto {

void RandomFill(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  constexpr size_t kMaxChunk = size_t{1} << 30;  // RAND_bytes takes an int length
  while (n > 0) {
    size_t chunk = std::min(n, kMaxChunk);
    if (RAND_bytes(p, static_cast<int>(chunk)) != 1) internal::FatalOpenSsl("RAND_bytes");
    p += chunk;
    n -= chunk;
  }
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RandomFill(out.data(), n);
  return out;
}

SecretBytes RandomSecret(size_t n) {
  SecretBytes out(n);
  RandomFill(out.data(), n);
  return out;
}

std::string GenerateUuid() {
  uint8_t b[16];
  RandomFill(b, sizeof(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace coffer::crypto
