// envdrift-style sync of dotenvx private keys from a vault into each mapped folder's .env.keys.
// The provider is an interface: the hashicorp one lives in the CLI, AWS and Azure in providers.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "keysync/config.h"

namespace coffer::keysync {

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // The raw secret stored under `name` (vault_name may be empty). kNotFound when absent.
  virtual StatusOr<SecretString> Fetch(const std::string& name, const std::string& vault_name) = 0;
  // Stores `value` under `name`.
  virtual Status Store(const std::string& name, const std::string& vault_name, std::string_view value) = 0;
};

// Normalises a vault value to the 64-hex private key for `environment`: bare hex,
// `DOTENV_PRIVATE_KEY_<ENV>=hex`, JSON {"value": ...}, or a multi-line value holding one of
// those. A key labelled for another environment is kInvalidArgument naming both labels.
// Messages never contain the key.
StatusOr<SecretString> NormalizeKey(std::string_view raw, std::string_view environment);

// DOTENV_PRIVATE_KEY_<ENV> for an environment name ("production" → _PRODUCTION; "" → no suffix).
std::string PrivateKeyName(std::string_view environment);

struct SyncOptions {
  bool force = false;             // replace a different local key (after a backup)
  bool verify = false;            // change nothing; any mismatch or missing key is a failure
  bool check_decryption = false;  // prove the key decrypts <folder>/.env.<environment>
};

enum class Outcome { kCreated, kSkipped, kUpdated, kMismatch, kMissing, kError };
const char* OutcomeName(Outcome o);

struct SyncResult {
  std::string secret_name;
  std::string folder;
  Outcome outcome = Outcome::kError;
  std::string detail;  // one line, never a key
  bool ok() const { return outcome == Outcome::kCreated || outcome == Outcome::kSkipped || outcome == Outcome::kUpdated; }
};

// Syncs one mapping. Never throws; a failure is a result with outcome kMismatch/kMissing/kError.
SyncResult SyncMapping(const SyncConfig& config, const Mapping& m, KeyProvider& provider, const SyncOptions& opt);

// Checks that `key_hex` decrypts every encrypted value of the env file at `env_path`.
Status CheckDecryption(const std::string& env_path, std::string_view private_name, std::string_view key_hex);

// Reads the private key for a mapping's environment from its folder's keys file.
StatusOr<SecretString> LocalKey(const SyncConfig& config, const Mapping& m);

}  // namespace coffer::keysync
