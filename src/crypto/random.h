// The CSPRNG (OpenSSL's RAND_bytes). These calls cannot fail: if the system's randomness source
// is broken the process aborts loudly instead of handing out predictable bytes. Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "base/secret_bytes.h"

namespace coffer::crypto {

// Fills out[0, n) with cryptographically secure random bytes.
void RandomFill(void* out, size_t n);
// Like RandomFill, for small public values (nonces, identifiers; n <= 64): served from a
// per-thread buffer refilled by RandomFill, since each DRBG call costs ~2 us whatever its size.
// Never hands out the same bytes twice, also across fork(). Never use it for key material.
void RandomFillPublic(void* out, size_t n);
// n random bytes, for values that are not key material (nonces, salts, identifiers).
std::string RandomBytes(size_t n);
// n random bytes in a wiping container, for keys.
SecretBytes RandomSecret(size_t n);
// A random (version 4, RFC 4122 variant) UUID in lowercase 8-4-4-4-12 form.
std::string GenerateUuid();

}  // namespace coffer::crypto
