// Authenticated encryption with associated data. The caller never chooses a nonce: Encrypt
// draws a fresh random one and returns nonce‖ciphertext‖tag; Decrypt verifies before returning
// anything. Any tampering, truncation or wrong associated data is a kDataLoss Status
// ("message authentication failed"), never garbage and never a crash.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::crypto {

class Aead {
 public:
  virtual ~Aead() = default;
  virtual std::string Encrypt(std::string_view plaintext, std::string_view aad) const = 0;
  virtual StatusOr<std::string> Decrypt(std::string_view sealed, std::string_view aad) const = 0;
};

// AES-256-GCM with a random 96-bit nonce. Random nonces are safe for up to 2^32 encryptions
// under one key (NIST SP 800-38D); callers that encrypt more rotate keys (see barrier/).
// Immutable after New, so one instance may be used from many threads at once. Keyed cipher
// contexts are pooled per key (shared by copies of an instance) and reused with only a new
// nonce, so a call pays no context allocation or key schedule; the contexts are freed (and
// their key schedules wiped by OpenSSL) when the last copy of the instance goes away.
class Aes256Gcm final : public Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;

  // key must be exactly 32 bytes, else kInvalidArgument. The key is copied.
  static StatusOr<Aes256Gcm> New(const SecretBytes& key);

  // nonce(12)‖ciphertext‖tag(16).
  std::string Encrypt(std::string_view plaintext, std::string_view aad) const override;
  // Same as Encrypt, but appends to *out, so a caller can put a header in front without a copy.
  void EncryptAppend(std::string_view plaintext, std::string_view aad, std::string* out) const;

  // The plaintext of `sealed` (as produced by Encrypt with the same key and aad), or kDataLoss.
  StatusOr<std::string> Decrypt(std::string_view sealed, std::string_view aad) const override;
  // Same as Decrypt, for plaintexts that are key material: the result wipes itself.
  StatusOr<SecretBytes> DecryptSecret(std::string_view sealed, std::string_view aad) const;

 private:
  struct CtxPool;
  explicit Aes256Gcm(const SecretBytes& key);
  // Decrypts into out[0, sealed.size() - kOverhead); false when authentication fails.
  bool DecryptTo(std::string_view sealed, std::string_view aad, unsigned char* out) const;

  SecretBytes key_;
  std::shared_ptr<CtxPool> pool_;
};

}  // namespace coffer::crypto
