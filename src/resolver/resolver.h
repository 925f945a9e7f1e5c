// Resolution of a ProjectConfig's secrets: env (shell, .env.local, .env, fromFile), file, vault,
// s3, with `fallback`, parallel coalesced Vault reads, parallel S3 pulls (running at the same time
// as the Vault reads) and an optional encrypted cache.
//
// Vault lookups: every distinct (mount, path) is read once, whatever number of keys the config
// takes from it, and (for a remote server) the reads run on a pool of threads sharing the pooled
// connections. A VaultSource is the seam: the real one wraps client::VaultClient (thread-safe),
// tests use an in-memory one.
//
// Values live in SecretBytes and never appear in any message this module produces.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "resolver/config.h"

namespace coffer::client {
class VaultClient;
}
namespace coffer::s3 {
class Store;
}

namespace coffer::resolver {

class SecretCache;

// Where a vault secret lives. The API form (`secret/data/app/prod`) names the mount first; the
// logical form (`app/prod`) is relative to vaultMount. `data/` is dropped on KV v2 mounts only.
struct VaultLocation {
  std::string mount;     // "secret" (no trailing slash)
  std::string relative;  // "data/app/prod" (api form) or "app/prod"
  bool api_form = false;
  std::string Key() const { return mount + "\n" + relative + (api_form ? "\n1" : "\n0"); }
};
VaultLocation LocateVaultSecret(const SecretSpec& spec);

using SecretFields = std::map<std::string, SecretString>;

// Reads whole KV secrets. Implementations must be thread-safe.
class VaultSource {
 public:
  virtual ~VaultSource() = default;
  // The fields of the secret, or kNotFound (no such secret), kUnavailable (server unreachable or
  // sealed), kPermissionDenied, or another error with a message naming the path.
  virtual StatusOr<SecretFields> Read(const VaultLocation& where) = 0;
  // The KV version (1 or 2) of a mount, asking the server once per mount; nullopt when it cannot
  // be reached (the resolver then uses the version remembered in its cache, if any).
  virtual std::optional<int> KvVersion(const std::string& mount) { return std::nullopt; }
};

// `where` in its canonical logical form for a mount of the given KV version: on v2 the API form
// `secret/data/app` becomes `app`, on v1 the API form is already the logical path. Lookups and
// cache entries of one secret written either way thus coincide.
VaultLocation CanonicalLocation(const VaultLocation& where, int kv_version);

// The real source over a VaultClient (borrowed; must outlive it).
std::unique_ptr<VaultSource> NewClientVaultSource(client::VaultClient* client);

// One `source: s3` (or `fallback: s3`) lookup: the secret's name and its s3_path ("" = the
// store's default for the name).
struct S3Lookup {
  std::string name;
  std::string path;
};

struct S3Got {
  // kNotFound (no such object) and kUnavailable (S3 unreachable) let `fallback` apply; any other
  // error (kDataLoss: a tampered or swapped object, kPermissionDenied: not encrypted to this master
  // key or access denied) is reported as the secret's error and is not hidden by a fallback.
  StatusOr<SecretBytes> value = Status(StatusCode::kInternal, "not run");
  bool stale = false;  // an expired cache entry served because S3 was unreachable
  std::string origin;  // "s3://bucket/secrets/x.json" (no values)
};

// Pulls S3 secrets. One call per resolution round; implementations do the lookups in parallel.
class S3Source {
 public:
  virtual ~S3Source() = default;
  virtual std::vector<S3Got> PullAll(const std::vector<S3Lookup>& lookups) = 0;
};

// The real source over the encrypted store (src/s3/store.h; borrowed, must outlive it): up to
// `parallelism` pulls in flight on pooled connections, through the store's encrypted cache unless
// use_cache is false.
std::unique_ptr<S3Source> NewStoreS3Source(s3::Store* store, int parallelism, bool use_cache);

struct ResolveOptions {
  // The process environment as a map (shell values); null = the real environ.
  const std::map<std::string, std::string>* environment = nullptr;
  VaultSource* vault = nullptr;  // null: vault secrets fail with `vault_unavailable_reason`
  std::string vault_unavailable_reason = "Vault is not configured";
  S3Source* s3 = nullptr;  // null: s3 secrets are unavailable for `s3_unavailable_reason`
  std::string s3_unavailable_reason = "no S3 backend configured (secrets.backend)";
  SecretCache* cache = nullptr;  // null = no cache
  // Concurrent Vault reads. 0 = automatic: the first read is timed on the calling thread; the
  // rest go to 16 threads when it took 1.5 ms or more (a remote server: latency dominates), else
  // stay on one kept-alive connection (a local server: opening sixteen costs more than it saves).
  int parallelism = 0;
  bool coalesce = true;  // false: one read per secret (the benchmark's baseline)
};

struct Resolved {
  const SecretSpec* spec = nullptr;
  bool found = false;
  SecretBytes value;
  SourceKind from = SourceKind::kEnv;  // the source that produced the value
  bool via_fallback = false;
  bool stale = false;   // served from an expired cache entry because the remote was down
  std::string origin;   // "shell environment", ".env.local", ".env", a file path, "vault secret/...:key"
  std::string checked;  // what was looked at, for the not-found message: "$X, .env.local, .env"
  std::string problem;  // why the primary source failed when it did (no values here)
  std::string warning;  // e.g. the stale-cache warning
  // The source answered with an error a fallback must not hide (a tampered S3 object, the wrong
  // master key); `problem` says which, naming the secret but never its value.
  bool error = false;
};

struct Resolution {
  std::vector<Resolved> secrets;  // in config order
  size_t vault_requests = 0;      // reads sent to the VaultSource (for tests and the benchmark)
  bool AllRequiredFound() const;
};

// Resolves every secret. Never fails as a whole: each secret says what happened to it.
Resolution ResolveAll(const ProjectConfig& config, const ResolveOptions& options);

// "1.2 KB" style sizes for messages.
std::string HumanSize(size_t bytes);

}  // namespace coffer::resolver
