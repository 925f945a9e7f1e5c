// scrypt (RFC 7914) password-based key derivation, as used by age passphrase recipients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::crypto {

// `length` bytes derived from passphrase and salt with cost N = 2^log2_n, block size r and
// parallelism p. Memory use is about 128 * r * N bytes (256 MiB for log2_n = 18, r = 8).
// kInvalidArgument for parameters OpenSSL rejects (log2_n outside 1..40, length 0); kUnavailable
// if the memory cannot be allocated.
StatusOr<SecretBytes> Scrypt(std::string_view passphrase, std::string_view salt, int log2_n, uint32_t r, uint32_t p,
                             size_t length);

}  // namespace coffer::crypto
