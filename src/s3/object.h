// Sindri's S3 secret object (FORMATS.md): one pretty-printed JSON document per secret holding a
// ChaCha20-Poly1305 ciphertext under a random 32-byte data key (DEK), the DEK wrapped in a binary
// age v1 file for the recipients.
//
// Versions: "1.0" is Sindri's (no associated data) and the default Coffer writes. "1.1" is
// Coffer's opt-in variant that binds the secret name and S3 path as associated data, so an
// object copied to another path or renamed fails to decrypt; Sindri cannot decrypt it.
//
// Parsing checks every field (types, base64 canonical form, sizes, algorithm names, recipients)
// and fails with kDataLoss naming the field; decryption failures are kDataLoss too, and a key
// that is not a recipient is kPermissionDenied. Messages never contain secret material.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "formats/age/keys.h"

namespace coffer::s3 {

inline constexpr char kVersionSindri[] = "1.0";
inline constexpr char kVersionBound[] = "1.1";
inline constexpr size_t kDekSize = 32;
inline constexpr size_t kNonceSize = 12;

struct SecretObject {
  std::string version = kVersionSindri;
  std::string secret_name;
  std::string created_at;  // RFC 3339
  std::string updated_at;
  std::string algorithm = "chacha20poly1305";
  std::string key_derivation = "age-x25519";
  std::vector<std::string> recipients;
  std::string encrypted_dek;    // raw age file bytes
  std::string encrypted_value;  // raw ciphertext‖tag
  std::string nonce;            // raw 12 bytes
  uint32_t rotation_count = 0;
  std::optional<std::string> last_rotated_by;
  std::optional<std::string> description;
  std::map<std::string, std::string> tags;
};

// The exact JSON Sindri writes (serde_json pretty: 2-space indent, fields in order).
std::string SerializeObject(const SecretObject& obj);
StatusOr<SecretObject> ParseObject(std::string_view json);

// RFC 3339 UTC with microseconds and "+00:00", like chrono's to_rfc3339 of a Utc time.
std::string NowRfc3339();
// Parses RFC 3339 ("Z" or ±hh:mm, optional fraction) to Unix nanoseconds.
StatusOr<int64_t> ParseRfc3339(std::string_view s);

// The associated data of a "1.1" object.
std::string BoundAad(std::string_view secret_name, std::string_view s3_path);

// Encrypts value under a fresh DEK for the recipients (at least one).
StatusOr<SecretObject> SealSecret(std::string_view secret_name, std::string_view s3_path, const SecretBytes& value,
                                  const std::vector<age::X25519Recipient>& recipients, bool bind_aad);
// Unwraps the DEK with the identities (kPermissionDenied when none matches).
StatusOr<SecretBytes> UnwrapDek(const SecretObject& obj, const std::vector<age::X25519Identity>& identities);
// Decrypts the value with a DEK (kDataLoss when it does not authenticate).
StatusOr<SecretBytes> DecryptValue(const SecretObject& obj, std::string_view s3_path, const SecretBytes& dek);
// UnwrapDek + DecryptValue.
StatusOr<SecretBytes> OpenSecret(const SecretObject& obj, std::string_view s3_path,
                                 const std::vector<age::X25519Identity>& identities);
// Replaces encrypted_dek and recipients with a fresh age file of the same DEK for `recipients`.
Status RewrapDek(SecretObject* obj, const SecretBytes& dek, const std::vector<age::X25519Recipient>& recipients);

}  // namespace coffer::s3
