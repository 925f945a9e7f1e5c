// X25519 (RFC 7748) key agreement over raw 32-byte keys, as used by age recipients.
// Thread-safe; OpenSSL stays inside x25519.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::crypto {

inline constexpr size_t kX25519KeySize = 32;

// A fresh random private key (32 bytes from the CSPRNG).
SecretBytes X25519GeneratePrivateKey();

// The public key (32 bytes) of a 32-byte private key; kInvalidArgument on a wrong length.
StatusOr<std::string> X25519PublicKey(const SecretBytes& private_key);

// The shared secret X25519(private_key, peer_public). kInvalidArgument on wrong lengths, and
// when the result is all zeros (the peer sent a low-order point), which callers must reject.
StatusOr<SecretBytes> X25519SharedSecret(const SecretBytes& private_key, std::string_view peer_public);

}  // namespace coffer::crypto
