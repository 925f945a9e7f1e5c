// age v1 file encryption (c2sp.org/age): X25519 and scrypt recipients, header MAC, 64 KiB
// ChaCha20-Poly1305 STREAM payload, optional ASCII armor. Both directions stream: memory use is
// constant (a few 64 KiB buffers) whatever the input size.
//
// Errors are Status values with age-like messages; they never contain key material:
//   kInvalidArgument  bad arguments (no recipients, a passphrase mixed with other recipients)
//   kPermissionDenied "no identity matched any of the recipients"
//   kDataLoss         malformed header or armor, "header MAC mismatch", payload failures
//   kUnavailable      I/O errors from the Reader/Writer
#pragma once

#include <memory>
#include <vector>

#include "formats/age/io.h"
#include "formats/age/keys.h"

namespace coffer::age {

inline constexpr size_t kChunkSize = 64 * 1024;

// Encrypts all of `in` to `out` for the recipients (at least one; a passphrase recipient must be
// the only one), armored when `armor`. Calls out.Flush() at the end.
Status Encrypt(const std::vector<const Recipient*>& recipients, Reader& in, Writer& out, bool armor = false);

// Decryption in two steps, so a caller can look at the header (is it passphrase-encrypted?)
// before choosing identities. Not thread-safe.
class Decryptor {
 public:
  // Reads and parses the header from `in` (borrowed; must outlive the Decryptor). Armor is
  // detected from the first bytes. Header syntax errors are reported here.
  static StatusOr<std::unique_ptr<Decryptor>> Open(Reader& in);
  ~Decryptor();

  const std::vector<Stanza>& stanzas() const;
  bool armored() const;
  // True when the (only) stanza is scrypt.
  bool passphrase_encrypted() const;

  // Finds the file key with the identities (in order), checks the header MAC and writes the
  // plaintext to `out` chunk by chunk. On a payload error, the chunks verified before it have
  // already been written (as with age); callers writing files should discard them.
  Status Decrypt(const std::vector<const Identity*>& identities, Writer& out);

 private:
  struct Impl;
  explicit Decryptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Open + Decrypt.
Status Decrypt(const std::vector<const Identity*>& identities, Reader& in, Writer& out);

}  // namespace coffer::age
