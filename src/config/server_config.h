// The `coffer server` configuration, read from Vault-compatible HCL or JSON files.
// Unknown keys produce warnings; invalid values produce one InvalidArgument line naming the file,
// the line (HCL) or key path (JSON), the field and what was expected.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::config {

inline constexpr int64_t kDefaultLeaseTtlSeconds = 768 * 3600;  // Vault's 32 days
inline constexpr size_t kMaxConfigFileBytes = 4 << 20;

struct ListenerConfig {
  std::string type = "tcp";  // the only type supported
  std::string address = "127.0.0.1:8200";
  bool tls_disable = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_min_version = "tls12";  // tls10, tls11, tls12 or tls13
  std::string source;                     // "server.hcl:12" or "server.json: listener[0]", for later errors
};

struct StorageConfig {
  // "sqlite" or "inmem". Vault's `storage "file" { path = "/dir" }` is served by the embedded
  // SQLite store: it arrives here as type "sqlite" with options["path"] = "/dir/coffer.db".
  std::string type;
  std::map<std::string, std::string> options;  // every key of the block; bools/numbers as text
  std::string source;
};

struct ServerConfig {
  std::optional<StorageConfig> storage;
  std::vector<ListenerConfig> listeners;
  std::string api_addr;
  bool disable_mlock = false;
  int64_t default_lease_ttl = kDefaultLeaseTtlSeconds;  // seconds
  int64_t max_lease_ttl = kDefaultLeaseTtlSeconds;      // seconds
  std::string log_level = "info";  // trace, debug, info, warn or error ("err" is read as "error")
  bool ui = false;
  // Human-readable notes, e.g. `server.hcl:12: unknown key "foo" ignored`.
  std::vector<std::string> warnings;
  // Top-level settings written explicitly in the file(s), so a later file overrides only those.
  std::set<std::string> explicit_keys;
};

// Reads one file (".json" → JSON syntax, anything else → HCL) or, for a directory, every *.hcl and
// *.json file in it in name order, merged with MergeConfigs (as `vault server -config=<dir>`).
StatusOr<ServerConfig> LoadConfigFile(const std::string& path);

// Parses one config text. filename only labels messages.
StatusOr<ServerConfig> ParseConfig(std::string_view text, std::string_view filename, bool json);

// Merges repeated -config files like Vault: settings written in b override a's, b's listeners
// are appended, b's storage replaces a's when b has one, warnings accumulate.
ServerConfig MergeConfigs(ServerConfig a, const ServerConfig& b);

}  // namespace coffer::config
