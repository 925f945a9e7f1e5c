// An encrypted on-disk cache of remote secrets (whole Vault secrets, by location).
//
// Unlike Sindri's plaintext cache, every entry is AES-256-GCM sealed under a 32-byte key kept
// OUTSIDE the cache directory (default ~/.config/coffer/cache.key, mode 0600), with the entry's
// location bound as associated data so an entry cannot be swapped for another. File names are
// HMACs of the location, so the directory listing reveals nothing. Directories are 0700, files
// 0600. An entry older than the TTL is `expired`: the resolver uses it only when the remote is
// unavailable, with the warning "Using stale cached secret (cache expired)".
// A tampered or foreign entry reads as a miss. Thread-safe (each call works on its own file).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "resolver/resolver.h"

namespace coffer::resolver {

struct CacheOptions {
  std::string dir;       // "" = $XDG_CACHE_HOME/coffer or ~/.cache/coffer
  std::string key_file;  // "" = $XDG_CONFIG_HOME/coffer/cache.key or ~/.config/coffer/cache.key
  std::chrono::seconds ttl{3600};
};

class SecretCache {
 public:
  // Creates the directories and the key (when missing). kInvalidArgument when the key file
  // would sit inside the cache directory or is malformed.
  static StatusOr<std::unique_ptr<SecretCache>> Open(const CacheOptions& options);
  ~SecretCache();

  struct Entry {
    SecretFields fields;
    bool expired = false;
  };
  std::optional<Entry> Get(const std::string& location) const;
  Status Put(const std::string& location, const SecretFields& fields) const;
  // Removes every entry; returns how many were removed.
  StatusOr<size_t> Clear() const;

  const std::string& dir() const { return dir_; }
  // Default locations (see CacheOptions).
  static std::string DefaultDir();
  static std::string DefaultKeyFile();

 private:
  SecretCache(std::string dir, SecretBytes key, std::chrono::seconds ttl);
  std::string PathFor(const std::string& location) const;

  std::string dir_;
  SecretBytes key_;
  std::chrono::seconds ttl_;
};

}  // namespace coffer::resolver
