// TokenStore: service tokens, stored only as salted hashes. The token string itself never
// reaches storage or logs: entries live at "id/<hex HMAC-SHA256(salt, token)>" inside the
// store's view, with an accessor index at "accessor/<hex HMAC(salt, accessor)>".
// Thread-safe after Setup(); Setup() runs at unseal, Reset() at seal.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "logical/storage.h"

namespace coffer::core {

struct TokenEntry {
  std::string id_hash;                // hex salted hash of the token string
  std::string accessor;
  std::vector<std::string> policies;
  std::string path;                   // creation path, e.g. "auth/token/root"
  std::string display_name;
  std::string parent_hash;            // "" for orphans
  std::map<std::string, std::string> meta;
  int64_t creation_time = 0;          // unix seconds
  int64_t ttl = 0;                    // seconds, 0 = no expiry
  int64_t explicit_max_ttl = 0;
  int64_t num_uses = 0;
  bool renewable = false;
  std::string type = "service";

  bool IsRoot() const;
};

class TokenStore {
 public:
  // `view` is the barrier view reserved for tokens; borrowed, outlives the store.
  explicit TokenStore(logical::Storage* view);

  // Loads the salt, creating it on first use. Must succeed before any other call.
  Status Setup();
  // Forgets the salt (wiped) so a sealed server holds no token material.
  void Reset();

  // Creates a root token. An empty `id` generates a fresh "hvs." token with 143 bits of
  // randomness; a given id (dev mode) is used as is. Returns the token string and its entry.
  StatusOr<std::pair<std::string, TokenEntry>> CreateRootToken(std::string id);

  // The entry for a token string, std::nullopt when it is unknown or expired.
  StatusOr<std::optional<TokenEntry>> Lookup(std::string_view token) const;

  // Removes the token and its accessor index. Revoking an unknown token is OK.
  Status Revoke(std::string_view token);

 private:
  std::string HashOf(std::string_view value) const;
  Status Store(const TokenEntry& entry);

  logical::Storage* view_;
  mutable std::shared_mutex mu_;
  SecretBytes salt_;  // guarded by mu_
};

// "hvs." followed by 24 base62 characters from the CSPRNG.
std::string GenerateTokenString();
// 24 base62 characters from the CSPRNG.
std::string GenerateAccessor();

}  // namespace coffer::core
