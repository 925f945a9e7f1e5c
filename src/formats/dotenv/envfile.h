// Whole-file dotenvx operations on texts in memory (the CLI does the I/O): encrypt, decrypt,
// rotate, and the private-key lookup shared by them.
//
// Private keys are looked up as dotenvx does: the process environment variable named after the
// file (DOTENV_PRIVATE_KEY[_ENV]) first, then the same name in the .env.keys text; either may
// hold a comma-separated list, tried in turn. Error messages carry dotenvx's meaning in a code
// prefix and name keys and files, never values:
//   [MISSING_PRIVATE_KEY] [INVALID_PRIVATE_KEY] [WRONG_PRIVATE_KEY] [MALFORMED_ENCRYPTED_DATA]
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "formats/dotenv/dotenvx.h"
#include "formats/dotenv/parser.h"

namespace coffer::dotenv {

using Environment = std::map<std::string, std::string>;

// Turns "KEY=VALUE" strings (as in environ) into a map.
Environment EnvironmentFrom(char** envp);

// The private keys to try for `private_name` (env first, then keys_doc), in order.
// Values are kept as text; invalid ones are reported when used.
std::vector<SecretString> PrivateKeyCandidates(std::string_view private_name, const Environment& env,
                                               const Document* keys_doc);

// Decrypts values for one env file with its candidate keys.
class Decryptor {
 public:
  Decryptor(std::string private_name, std::vector<SecretString> candidates);
  // The plaintext of `value` (an "encrypted:..." value of `key`), trying each candidate.
  StatusOr<std::string> Decrypt(std::string_view key, std::string_view value) const;
  // The first candidate that is a valid key, or the error it would give.
  StatusOr<SecretBytes> FirstValidKey() const;
  bool has_keys() const { return !candidates_.empty(); }

 private:
  std::string private_name_;
  std::vector<SecretString> candidates_;
  std::vector<SecretBytes> valid_keys_;  // the candidates that parse, in order
};

// Key selection for encrypt/decrypt (-k / -ek globs); empty include means every key.
struct KeyFilter {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool Matches(std::string_view key) const;
};

struct FileResult {
  std::string env_text;                  // the new env file
  std::optional<std::string> keys_text;  // the new .env.keys, when it must change
  std::vector<std::string> changed_keys;
  std::string public_key_hex;
};

// Encrypts the file's plaintext values (dotenvx encrypt): creates the keypair and banner when the
// file has no public key, leaves encrypted values, DOTENV_PUBLIC_KEY* and *_PLAIN keys alone.
// keys_text is the current .env.keys (nullopt when absent).
StatusOr<FileResult> EncryptEnvFile(std::string_view file_path, std::string_view env_text,
                                    const std::optional<std::string>& keys_text, const Environment& env,
                                    const KeyFilter& filter);

// Decrypts the file's encrypted values in place (dotenvx decrypt); fails without changes when any
// selected value cannot be decrypted.
StatusOr<FileResult> DecryptEnvFile(std::string_view file_path, std::string_view env_text,
                                    const std::optional<std::string>& keys_text, const Environment& env,
                                    const KeyFilter& filter);

// Rotation plan: a new keypair; every encrypted value re-encrypted under it. Produces three texts
// the caller writes in order so a failure at any step leaves a readable state:
//   keys_transition (new key first, old key kept: "NEW,OLD") → env_text → keys_final.
struct RotatePlan {
  std::string env_text;
  std::string keys_transition;
  std::string keys_final;
  std::string public_key_hex;
  size_t reencrypted = 0;
};
StatusOr<RotatePlan> PlanRotate(std::string_view file_path, std::string_view env_text,
                                const std::optional<std::string>& keys_text, const Environment& env);

// Writes a file atomically (path, data, mode, keep_existing_mode); tests inject failures.
using FileWriter = std::function<Status(const std::string& path, const std::string& data, unsigned mode,
                                        bool keep_existing_mode)>;
// Carries out a rotation plan in the lock-out-free order: keys_transition, env_text, keys_final.
// When the env file cannot be written, the keys file is put back as it was (removed when it did
// not exist). A failure of the last step leaves the transition keys (NEW,OLD), which decrypt the
// new file, and is reported as a warning in *warning with an OK status.
Status CommitRotate(const RotatePlan& plan, const std::string& env_path, const std::string& keys_path,
                    const std::optional<std::string>& old_keys, const FileWriter& write, std::string* warning);

// Adds or replaces `name=value` in a .env.keys text (creating the banner for a new file and a
// "# <file>" comment above a new key), as dotenvx lays it out.
StatusOr<std::string> UpsertKeysFile(const std::optional<std::string>& keys_text, std::string_view file_path,
                                     std::string_view name, std::string_view value);

// The resolved environment of an env file (decrypting with its keys; errors collected).
Resolved ResolveEnvFile(std::string_view file_path, std::string_view env_text,
                        const std::optional<std::string>& keys_text, const Environment& env, bool overload = false);

}  // namespace coffer::dotenv
