// ChaCha20-Poly1305 (RFC 8439) with a caller-supplied nonce, for constructions whose nonces are
// structured rather than random: age's STREAM payload (counter ‖ last-chunk flag) and age's
// stanza bodies (zero nonce under a one-time key). Everything else uses crypto::Aead, which picks
// its own nonces. The caller guarantees that a (key, nonce) pair is never used twice.
//
// One instance holds OpenSSL contexts with the key already set, so per-message cost is one nonce
// reset. Not thread-safe: use one instance per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::crypto {

class ChaCha20Poly1305 {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;

  // key must be 32 bytes, else kInvalidArgument.
  static StatusOr<std::unique_ptr<ChaCha20Poly1305>> New(const SecretBytes& key);
  ~ChaCha20Poly1305();
  ChaCha20Poly1305(const ChaCha20Poly1305&) = delete;
  ChaCha20Poly1305& operator=(const ChaCha20Poly1305&) = delete;

  // Writes ciphertext‖tag (n + kTagSize bytes) to out. out may equal in (in-place).
  void Seal(const uint8_t nonce[kNonceSize], const uint8_t* in, size_t n, uint8_t* out);
  // Verifies and decrypts in (n >= kTagSize bytes: ciphertext‖tag) into out (n - kTagSize bytes;
  // may equal in). False when authentication fails; out then holds nothing usable.
  [[nodiscard]] bool Open(const uint8_t nonce[kNonceSize], const uint8_t* in, size_t n, uint8_t* out);

 private:
  struct Impl;
  explicit ChaCha20Poly1305(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::crypto
