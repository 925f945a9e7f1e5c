// age recipients and identities: the stanza they exchange, the X25519 and scrypt (passphrase)
// types, and the text formats of keys (Bech32 `age1...` / `AGE-SECRET-KEY-1...`), identity files
// (age-keygen's output: comment lines, blank lines, several keys) and recipients files.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::age {

inline constexpr size_t kFileKeySize = 16;
// The default scrypt work factor (log2 N) for encryption, and the largest one accepted when
// decrypting (both as in age: 18 and 22).
inline constexpr int kScryptDefaultWorkFactor = 18;
inline constexpr int kScryptMaxWorkFactor = 22;

// One recipient stanza of the header. args[0] is the stanza type ("X25519", "scrypt", ...);
// every argument is non-empty printable ASCII without spaces. body is the decoded body.
struct Stanza {
  std::vector<std::string> args;
  std::string body;
};

// Wraps a file key for someone. Implementations are immutable and thread-compatible.
class Recipient {
 public:
  virtual ~Recipient() = default;
  virtual StatusOr<Stanza> Wrap(const SecretBytes& file_key) const = 0;
  // True for passphrase recipients, which must be the only recipient of a file.
  virtual bool IsPassphrase() const { return false; }
};

// Unwraps a file key from the stanzas of a header. Returns the 16-byte file key, nullopt when no
// stanza is addressed to this identity, or an error for a malformed or hostile header.
class Identity {
 public:
  virtual ~Identity() = default;
  virtual StatusOr<std::optional<SecretBytes>> Unwrap(const std::vector<Stanza>& stanzas) const = 0;
};

class X25519Recipient final : public Recipient {
 public:
  // "age1..." (lowercase Bech32 of the 32-byte public key).
  static StatusOr<X25519Recipient> Parse(std::string_view text);
  static StatusOr<X25519Recipient> FromPublicKey(std::string_view public_key);
  StatusOr<Stanza> Wrap(const SecretBytes& file_key) const override;
  std::string String() const;
  const std::string& public_key() const { return public_key_; }

 private:
  explicit X25519Recipient(std::string public_key) : public_key_(std::move(public_key)) {}
  std::string public_key_;
};

class X25519Identity final : public Identity {
 public:
  static X25519Identity Generate();
  // "AGE-SECRET-KEY-1..." (uppercase Bech32 of the 32-byte private key). Errors never contain
  // the text.
  static StatusOr<X25519Identity> Parse(std::string_view text);
  StatusOr<std::optional<SecretBytes>> Unwrap(const std::vector<Stanza>& stanzas) const override;
  // The Bech32 secret key: handle as a secret.
  SecretString String() const;
  const X25519Recipient& recipient() const { return recipient_; }

 private:
  X25519Identity(SecretBytes key, X25519Recipient recipient) : key_(std::move(key)), recipient_(std::move(recipient)) {}
  SecretBytes key_;
  X25519Recipient recipient_;
};

class ScryptRecipient final : public Recipient {
 public:
  // work_factor is log2 N (1..kScryptMaxWorkFactor is what age decrypts).
  explicit ScryptRecipient(SecretString passphrase, int work_factor = kScryptDefaultWorkFactor)
      : passphrase_(std::move(passphrase)), work_factor_(work_factor) {}
  StatusOr<Stanza> Wrap(const SecretBytes& file_key) const override;
  bool IsPassphrase() const override { return true; }

 private:
  SecretString passphrase_;
  int work_factor_;
};

class ScryptIdentity final : public Identity {
 public:
  explicit ScryptIdentity(SecretString passphrase, int max_work_factor = kScryptMaxWorkFactor)
      : passphrase_(std::move(passphrase)), max_work_factor_(max_work_factor) {}
  StatusOr<std::optional<SecretBytes>> Unwrap(const std::vector<Stanza>& stanzas) const override;

 private:
  SecretString passphrase_;
  int max_work_factor_;
};

// An identity file: age-keygen's output or bare keys, one per line; empty lines and lines
// starting with '#' are ignored; CRLF is accepted. Errors name the line ("error at line 3:
// malformed secret key"), never its content; "no secret keys found" when there is none.
StatusOr<std::vector<X25519Identity>> ParseIdentities(std::string_view text);
// A recipients file (age -R): one "age1..." per line, same comment rules.
StatusOr<std::vector<X25519Recipient>> ParseRecipients(std::string_view text);

// age-keygen's file: "# created: <RFC 3339 local time>", "# public key: age1...", the key.
SecretString FormatIdentityFile(const X25519Identity& identity, int64_t unix_seconds);

// age's base64: standard alphabet, no padding, canonical. Decode rejects anything else.
std::string B64Encode(std::string_view bytes);
StatusOr<std::string> B64DecodeStrict(std::string_view text);

}  // namespace coffer::age
