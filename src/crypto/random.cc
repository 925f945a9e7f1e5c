#include "crypto/random.h"

#include <openssl/rand.h>

#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

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

namespace {

// Public random bytes are buffered per thread; buffering them exposes nothing, what matters is
// that no byte is handed out twice.
struct PublicPool {
  unsigned char bytes[1024];
  size_t pos = sizeof(bytes);  // empty
};
thread_local PublicPool public_pool;

// A forked child inherits the forking thread's buffer (the only thread it has); dropping it
// there keeps parent and child from using the same bytes.
void DropPublicPoolInChild() { public_pool.pos = sizeof(public_pool.bytes); }

}  // namespace

void RandomFillPublic(void* out, size_t n) {
  static const bool registered = [] {
    if (pthread_atfork(nullptr, nullptr, &DropPublicPoolInChild) != 0) {
      internal::FatalOpenSsl("pthread_atfork for the random pool");
    }
    return true;
  }();
  (void)registered;
  if (n > 64) {
    RandomFill(out, n);
    return;
  }
  PublicPool& pool = public_pool;
  if (pool.pos + n > sizeof(pool.bytes)) {
    RandomFill(pool.bytes, sizeof(pool.bytes));
    pool.pos = 0;
  }
  std::memcpy(out, pool.bytes + pool.pos, n);
  SecureWipe(pool.bytes + pool.pos, n);
  pool.pos += n;
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
  RandomFillPublic(b, sizeof(b));
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
