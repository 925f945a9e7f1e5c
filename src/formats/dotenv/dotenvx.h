// dotenvx's encrypted values and key conventions, byte-compatible with dotenvx (eciesjs):
//   value  = "encrypted:" + base64(E(65, uncompressed) ‖ nonce(16) ‖ tag(16) ‖ AES-256-GCM ct)
//   key    = HKDF-SHA256(ikm = E ‖ S, no salt, no info, 32), S = the uncompressed point e·PK
//   keys   = secp256k1; private 64 hex, public compressed SEC1 66 hex.
// Key names come from the env file's name (.env → DOTENV_PUBLIC_KEY, .env.production →
// DOTENV_PUBLIC_KEY_PRODUCTION); a file that already names a DOTENV_PUBLIC_KEY* keeps it.
// Errors never contain key material or plaintext. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "formats/dotenv/parser.h"

namespace coffer::dotenv {

inline constexpr std::string_view kEncryptedPrefix = "encrypted:";

// The comment block dotenvx puts above the public key in an env file (ends with a newline).
extern const char kPublicKeyBanner[];
// The comment block that opens a new .env.keys file (ends with a newline).
extern const char kKeysFileBanner[];

struct KeyPair {
  SecretBytes private_key;     // 32 bytes
  std::string public_key_hex;  // 66 lowercase hex characters
  SecretString PrivateKeyHex() const;
};

KeyPair GenerateKeyPair();

// A private key from its hex form (surrounding blanks ignored). kInvalidArgument when it is not
// 64 hex characters naming a valid secp256k1 scalar; the message never repeats the input.
StatusOr<SecretBytes> ParsePrivateKey(std::string_view hex);
// The compressed public key (66 hex) of a private key.
std::string PublicKeyHex(const SecretBytes& private_key);
// Checks a public key's hex form (compressed or uncompressed SEC1 on the curve).
Status ValidatePublicKey(std::string_view hex);

bool IsEncrypted(std::string_view value);

// "encrypted:..." for plaintext under the public key (hex). kInvalidArgument for a bad key.
StatusOr<std::string> EncryptValue(std::string_view public_key_hex, std::string_view plaintext);

// The plaintext of an "encrypted:..." value.
//   kInvalidArgument: malformed encrypted data (not base64, too short, not a curve point);
//   kDataLoss: authentication failed (the wrong private key, or tampered data).
StatusOr<std::string> DecryptValue(const SecretBytes& private_key, std::string_view value);

struct KeyNames {
  std::string public_name;   // DOTENV_PUBLIC_KEY[_ENV]
  std::string private_name;  // DOTENV_PRIVATE_KEY[_ENV]
};
// Names for an env file: the first DOTENV_PUBLIC_KEY* in doc wins, else derived from the name.
KeyNames KeyNamesFor(std::string_view file_path, const Document& doc);
// The file name dotenvx writes in comments ("# .env.production"): the path's last component.
std::string FileComment(std::string_view file_path);

// True for keys encrypt leaves alone: DOTENV_PUBLIC_KEY* and names ending in _PLAIN.
bool IsPlainKey(std::string_view key);

// Shell-style glob (*, ?, [...]) as dotenvx's -k / -ek patterns use them.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace coffer::dotenv
