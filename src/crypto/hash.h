// SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869). Outputs are raw bytes; hex-encode with
// base/encoding.h when needed. All functions are thread-safe and cannot fail on valid input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"

namespace coffer::crypto {

inline constexpr size_t kSha256Size = 32;
// HKDF-SHA256 can produce at most 255 hash blocks.
inline constexpr size_t kHkdfSha256MaxLength = 255 * kSha256Size;

// The 32-byte SHA-256 digest of data.
std::string Sha256(std::string_view data);

// The 32-byte HMAC-SHA256 of data under key (any length, including empty).
std::string HmacSha256(std::string_view key, std::string_view data);

// RFC 5869 HKDF-SHA256: `length` bytes derived from ikm, salt (empty means no salt) and info.
// 1 <= length <= kHkdfSha256MaxLength is a precondition: anything else is a programming error
// and aborts.
SecretBytes HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length);

}  // namespace coffer::crypto
