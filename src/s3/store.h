// The envelope-encrypted secrets store on an S3 bucket: one Sindri object per secret under
// `<prefix><path>.json` (object.h), a local cache of decrypted values kept ENCRYPTED at rest
// (an age file per secret, encrypted to the master key's own recipient, mode 0600), rotation.
//
// This is the API the resolver's `source: s3` uses: Store::Pull(name, path) -> SecretBytes.
// Not thread-safe (one Store per thread) except inside PullMany; the ObjectStore underneath is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "formats/age/keys.h"
#include "s3/client.h"
#include "s3/object.h"

namespace coffer::s3 {

struct CacheOptions {
  bool enabled = false;
  int64_t ttl_seconds = 3600;
  std::string path;  // directory; created 0700
};

struct StoreOptions {
  std::string prefix = "secrets/";
  bool bind_aad = false;  // write "1.1" objects (Coffer-only, see object.h)
  CacheOptions cache;
  // Where warnings go (stale cache use, ...). Never receives secret values.
  std::function<void(const std::string&)> warn;
};

struct PushOptions {
  std::string path;  // "" = the name
  bool force = false;
  std::vector<age::X25519Recipient> extra_recipients;
  std::optional<std::string> description;
};

struct ListEntry {
  std::string path;  // relative to the prefix, without ".json"
  std::string key;   // the full object key
  uint64_t size = 0;
  std::string last_modified;
};

struct PullResult {
  SecretBytes value;
  std::string source;  // "s3", "cache", "stale cache"
};

struct RemoteSecret {
  SecretObject object;
  SecretBytes value;
};

struct RotateOptions {
  std::vector<age::X25519Identity> old_identities;  // may be empty: the store's identities are used
  std::optional<age::X25519Identity> new_identity;
  bool add_only = false;
  std::vector<std::string> remove_recipients;
  std::function<void(size_t done, size_t total)> progress;
  int stop_after = -1;  // tests: stop (as if killed) after this many rewrites
};

struct RotateReport {
  size_t rotated = 0, already_done = 0;
  std::vector<std::string> failed;  // "path: reason"
};

class Store {
 public:
  // identities: the master key(s) for reading; recipients: who new objects are encrypted to (at
  // least one; normally the master key's recipient).
  static StatusOr<std::unique_ptr<Store>> Create(std::unique_ptr<ObjectStore> objects, StoreOptions options,
                                                 std::vector<age::X25519Identity> identities,
                                                 std::vector<age::X25519Recipient> recipients);

  // `<prefix><path>.json` with leading slashes dropped and "//" collapsed, as Sindri builds it.
  std::string KeyFor(std::string_view path) const;
  std::string PathFor(std::string_view key) const;  // the inverse, for listings

  // The decrypted value: a fresh cache entry, else S3 (refreshing the cache), else a stale cache
  // entry with a warning when S3 is unreachable. path "" = name.
  StatusOr<PullResult> Pull(std::string_view name, std::string_view path = "", bool use_cache = true);
  // Pull for many secrets with up to `parallelism` requests in flight (each worker borrows its
  // own pooled connection). Results in input order; the first failure (in input order) wins.
  StatusOr<std::vector<PullResult>> PullMany(const std::vector<std::pair<std::string, std::string>>& names_and_paths,
                                             int parallelism, bool use_cache = true);
  // As PullMany, but every item gets its own result (one missing or damaged secret does not hide
  // the others): what the resolver's `source: s3` uses.
  std::vector<StatusOr<PullResult>> PullEach(const std::vector<std::pair<std::string, std::string>>& names_and_paths,
                                             int parallelism, bool use_cache = true);
  // Fetches and decrypts from S3 only; checks that the object holds `name` (if non-empty).
  StatusOr<RemoteSecret> Fetch(std::string_view name, std::string_view path);
  // Encrypts and uploads. kPreconditionFailed when the object exists and !force.
  Status Push(std::string_view name, const SecretBytes& value, const PushOptions& options);
  StatusOr<std::vector<ListEntry>> List();
  // Re-wraps every object's DEK for the new recipient set (values are not re-encrypted), verifying
  // each object decrypts with the new key before going on. Idempotent: objects already in the
  // target state are skipped, so an interrupted run can simply be run again.
  StatusOr<RotateReport> Rotate(const RotateOptions& options);

  ObjectStore& objects() { return *objects_; }
  const std::vector<age::X25519Recipient>& recipients() const { return recipients_; }

  // ---- the encrypted cache (also the "last synced" base for sync) ----
  struct CacheEntry {
    SecretBytes value;
    int64_t fetched_at = 0;      // unix seconds
    std::string updated_at;      // the object's updated_at when cached
    std::string sha256;          // hex of the value
  };
  std::optional<CacheEntry> CacheGet(std::string_view path);
  Status CachePut(std::string_view path, const SecretBytes& value, const std::string& updated_at);

 private:
  Store(std::unique_ptr<ObjectStore> objects, StoreOptions options, std::vector<age::X25519Identity> identities,
        std::vector<age::X25519Recipient> recipients);
  std::string CacheFile(std::string_view path) const;
  void Warn(const std::string& m) const {
    if (options_.warn) options_.warn(m);
  }

  std::unique_ptr<ObjectStore> objects_;
  StoreOptions options_;
  std::vector<age::X25519Identity> identities_;
  std::vector<age::X25519Recipient> recipients_;
};

}  // namespace coffer::s3
