// secp256k1 keys and ECDH over the curve's points, as used by dotenvx (eciesjs).
// Private keys are 32-byte big-endian scalars in [1, n-1]; public keys are SEC1 points
// (33-byte compressed or 65-byte uncompressed). Thread-safe; OpenSSL stays inside secp256k1.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::crypto {

inline constexpr size_t kSecp256k1PrivateKeySize = 32;
inline constexpr size_t kSecp256k1CompressedSize = 33;
inline constexpr size_t kSecp256k1UncompressedSize = 65;

// A fresh random private key (a valid scalar, drawn from the CSPRNG).
SecretBytes Secp256k1GeneratePrivateKey();

// True when key is 32 bytes and a valid scalar in [1, n-1].
bool Secp256k1IsValidPrivateKey(const SecretBytes& key);

// The SEC1 public key of a private key; kInvalidArgument when the key is not a valid scalar.
StatusOr<std::string> Secp256k1PublicKey(const SecretBytes& private_key, bool compressed);

// Re-encodes a SEC1 public key (compressed or uncompressed); kInvalidArgument when it is not a
// point on the curve.
StatusOr<std::string> Secp256k1NormalizePublicKey(std::string_view public_key, bool compressed);

// The uncompressed SEC1 encoding (65 bytes) of the point private_key·peer_public. Unlike
// X-only ECDH this is the whole point, which is what eciesjs feeds into HKDF.
// kInvalidArgument for an invalid scalar or a peer key that is not on the curve.
StatusOr<SecretBytes> Secp256k1SharedPoint(const SecretBytes& private_key, std::string_view peer_public);

}  // namespace coffer::crypto
