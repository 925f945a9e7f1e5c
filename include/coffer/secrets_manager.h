// coffer::SecretsManager — application-side access to KV secrets with a TTL cache,
// environment-variable fallback and background token renewal.
//
//   coffer::SecretsManager::Options o;               // VAULT_* from the environment
//   auto sm = coffer::SecretsManager::Create(o);
//   auto url = sm->GetSecret("database/connection", "url");
//   if (!url.ok()) { if (url.error().code == coffer::SecretsErrorCode::kVaultConnection) ...; }
//
// Paths are logical KV paths below `mount` (KV v1 or v2 is detected). When the server cannot be
// reached, GetSecret falls back to an environment variable: an explicit `env_mapping` entry for
// "path/key", else the derived name (database/connection + url -> DATABASE_URL,
// api-keys/openai + key -> OPENAI_API_KEY). Errors never contain a value or the token.
// All methods are thread-safe. Link the CMake target coffer_resolver.
#pragma once

#include <coffer/client.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coffer {

enum class SecretsErrorCode {
  kOk = 0,
  kNotFound,          // SecretNotFoundError: no secret at the path, or no such key
  kVaultConnection,   // VaultConnectionError: unreachable, TLS failure, timeout, sealed
  kPermissionDenied,  // the token may not do this
  kInvalidArgument,   // a bad path or key
  kServer,            // any other server error
};

struct SecretsError {
  SecretsErrorCode code = SecretsErrorCode::kOk;
  std::string message;
};

template <typename T>
class SecretsResult {
 public:
  SecretsResult(T value) : value_(std::move(value)) {}
  SecretsResult(SecretsError error) : error_(std::move(error)) {}
  bool ok() const { return value_.has_value(); }
  const T& value() const { return *value_; }
  T& value() { return *value_; }
  const SecretsError& error() const { return error_; }
  // True when the value came from the environment-variable fallback.
  bool from_env_fallback() const { return from_env_; }
  void set_from_env_fallback(bool b) { from_env_ = b; }

 private:
  std::optional<T> value_;
  SecretsError error_;
  bool from_env_ = false;
};

class SecretsManager {
 public:
  struct Options {
    client::Config client = client::Config::FromEnvironment();
    std::string mount = "secret";
    std::chrono::seconds cache_ttl{300};  // 0 disables the cache
    size_t max_entries = 1000;            // oldest entries are evicted beyond this
    bool env_fallback = true;
    std::map<std::string, std::string> env_mapping;  // "database/connection/url" -> "DATABASE_URL"
    bool renew_token = true;                         // renew when the TTL is under an hour
    std::chrono::seconds renew_check_interval{60};
    // Receives warnings (token renewal failures). Default: stderr.
    std::function<void(const std::string&)> logger;
  };

  static std::unique_ptr<SecretsManager> Create(Options options);
  ~SecretsManager();
  SecretsManager(const SecretsManager&) = delete;
  SecretsManager& operator=(const SecretsManager&) = delete;

  SecretsResult<std::string> GetSecret(const std::string& path, const std::string& key);
  SecretsResult<std::map<std::string, std::string>> GetSecret(const std::string& path);
  // Writes (replaces) the secret's fields and invalidates its cache entry.
  SecretsResult<bool> SetSecret(const std::string& path, const std::map<std::string, std::string>& fields);
  // Keys under prefix (folders end with '/'); an absent prefix is an empty list.
  SecretsResult<std::vector<std::string>> ListSecrets(const std::string& prefix);

  void InvalidateCache();
  size_t CacheSize() const;
  // The variable GetSecret(path, key) falls back to.
  std::string EnvVarFor(const std::string& path, const std::string& key) const;

 private:
  struct Impl;
  explicit SecretsManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer
