// Shamir secret sharing over GF(2^8), byte-compatible with HashiCorp Vault's shamir package:
// a share is len(secret) + 1 bytes, the polynomial values for each secret byte followed by one
// trailing byte holding the share's x-coordinate (distinct, non-zero, random). Shares made by
// Vault combine here and vice versa. Stateless and thread-safe.
#pragma once

#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::shamir {

inline constexpr int kMaxParts = 255;

// Splits secret into `parts` shares, any `threshold` of which recover it. Requires
// 2 <= threshold <= parts <= 255 and a non-empty secret, else kInvalidArgument. (Vault's
// one-share configuration, the raw key without splitting, is the caller's special case.)
StatusOr<std::vector<SecretBytes>> Split(const SecretBytes& secret, int parts, int threshold);

// Recovers the secret by Lagrange interpolation at x = 0. Requires at least two shares of the
// same length (>= 2 bytes) with distinct non-zero x-coordinates, else kInvalidArgument. Too few
// or corrupted shares yield a wrong secret, not an error: callers detect it when the result
// fails to decrypt what it should.
StatusOr<SecretBytes> Combine(const std::vector<SecretBytes>& parts);

}  // namespace coffer::shamir
