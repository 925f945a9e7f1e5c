// KV version 2 internals shared by the path_*.cc files of the kv engine: the stored records
// (mount config, key metadata, version data), their storage layout, the per-key lock stripes and
// the helpers that shape Vault's responses. Not part of the engine's public interface.
//
// Storage layout inside the mount's view (every value is compact JSON):
//   config                              the mount configuration (absent: all defaults)
//   metadata/<path>                     one KeyMetadata per secret; LIST on metadata/ maps onto
//                                       storage List naturally
//   versions/<hex sha256(path)>/<n>     the data of version n of <path>
//   upgrade-done                        written once the view holds no KV v1 data (upgrade.cc)
// A write puts the version data, the updated metadata and the deletes of pruned versions in one
// storage Transaction, so metadata never points at missing data.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engines/kv/backend.h"
#include "logical/framework.h"
#include "logical/storage.h"

namespace coffer::kv::v2 {

// Nanoseconds since the Unix epoch, UTC.
using UnixNanos = int64_t;

// Vault keeps 10 versions when neither the mount nor the key sets max_versions.
inline constexpr uint32_t kDefaultMaxVersions = 10;
// max_versions is a uint32 in Vault; larger values are rejected here rather than wrapped.
inline constexpr int64_t kMaxVersionsLimit = 4294967295;
// The longest Go time.Duration, in whole seconds: durations beyond it cannot be represented.
inline constexpr int64_t kMaxDurationSeconds = 9223372036;
// Stored in Config::delete_version_after when a negative duration disabled it (Vault's "-1s").
inline constexpr int64_t kDeleteVersionAfterDisabled = -1;

inline constexpr char kConfigKey[] = "config";
inline constexpr char kMetadataPrefix[] = "metadata/";
inline constexpr char kVersionsPrefix[] = "versions/";
inline constexpr char kUpgradeDoneKey[] = "upgrade-done";

// The mount configuration (`config` endpoint).
struct Config {
  uint32_t max_versions = 0;  // 0: unset
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds; 0 unset; kDeleteVersionAfterDisabled disables
};

struct VersionMetadata {
  UnixNanos created_time = 0;
  std::optional<UnixNanos> deletion_time{};  // the version reads as deleted from this instant on
  bool destroyed = false;                    // the data is gone for good
};

// Everything the engine knows about one secret apart from its data.
struct KeyMetadata {
  std::string key{};
  uint64_t current_version = 0;
  uint64_t oldest_version = 0;  // 0 until pruning first advances it, as in Vault
  uint32_t max_versions = 0;    // 0: use the mount's
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds, >= 0; 0 unset
  std::optional<UnixNanos> created_time{};
  std::optional<UnixNanos> updated_time{};
  std::map<std::string, std::string> custom_metadata{};
  std::map<uint64_t, VersionMetadata> versions{};
};

// Per-backend state: the clock and the lock stripes that serialize read-modify-write cycles on
// one secret (readers share, writers exclude). Thread-safe.
class Store {
 public:
  explicit Store(KvClock clock) : clock_(std::move(clock)) {}
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  UnixNanos Now() const;
  // The stripe guarding `key` (one of 256, chosen by a hash of the key).
  std::shared_mutex& KeyLock(std::string_view key);
  // Serializes read-modify-write cycles of the mount config.
  std::mutex& ConfigLock() { return config_mu_; }

 private:
  KvClock clock_;
  std::array<std::shared_mutex, 256> key_locks_;
  std::mutex config_mu_;
};

// ---- Storage records -------------------------------------------------------------------------

std::string MetadataStorageKey(std::string_view key);
std::string VersionStorageKey(std::string_view key, uint64_t version);

StatusOr<Config> LoadConfig(logical::Storage& storage);
std::string EncodeConfig(const Config& config);

// std::nullopt when the secret has no metadata. Corrupt records are DataLoss.
StatusOr<std::optional<KeyMetadata>> LoadMetadata(logical::Storage& storage, std::string_view key);
std::string EncodeMetadata(const KeyMetadata& meta);
// The stored bytes of a version, {"created_time": ns, "data": {...}}, from the compact JSON of
// its data object (DumpJson's output).
std::string EncodeVersion(std::string_view data_json, UnixNanos created_time);
// The data object of a version; Internal when the record is missing (metadata says it exists).
StatusOr<nlohmann::json> LoadVersionData(logical::Storage& storage, std::string_view key, uint64_t version);
// Same, as the compact JSON text Dump(data) would give: taken from the stored record as is
// when it has EncodeVersion's shape (no parse), else parsed and re-serialized.
StatusOr<std::string> LoadVersionDataText(logical::Storage& storage, std::string_view key, uint64_t version);

// ---- Version bookkeeping (Vault's semantics) ------------------------------------------------

// True once the version's deletion time has passed.
bool IsDeleted(const VersionMetadata& vm, UnixNanos now);
// When a version created (or undeleted) at `from` should read as deleted: from + the smaller
// non-zero delete_version_after of mount and key; none when both are unset or the mount disabled
// it.
std::optional<UnixNanos> ScheduledDeletion(UnixNanos from, const Config& config, const KeyMetadata& meta);
// Appends version current_version+1 and slides the window of kept versions: the larger non-zero
// max_versions of key and mount wins (Vault's rule), else 10. Returns the version numbers whose
// data must be deleted from storage.
std::vector<uint64_t> AddVersion(KeyMetadata* meta, const VersionMetadata& vm, const Config& config);

// ---- Responses -------------------------------------------------------------------------------

// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed, as Go's time.RFC3339Nano prints.
std::string FormatTime(UnixNanos t);
// FormatTime, or "" for an unset time.
std::string FormatOptionalTime(const std::optional<UnixNanos>& t);
// The key's custom_metadata, or null when it has none (Vault round-trips an empty map as null).
nlohmann::json CustomMetadataJson(const KeyMetadata& meta);
// {created_time, custom_metadata, deletion_time, destroyed, version}
nlohmann::json VersionInfoJson(uint64_t version, const VersionMetadata& vm, const KeyMetadata& meta);

// Vault answers a read of a deleted or destroyed version with 404 *and* the usual response
// envelope (logical.RespondWithStatusCode). logical::Response carries a status only through
// raw_status/raw_body, which the API layer renders verbatim, so the engine builds the complete
// envelope itself: request_id from req.id, the given data and warnings, empty lease fields.
logical::Response EnvelopeWithStatus(const logical::Request& req, int status, nlohmann::json data,
                                     std::vector<std::string> warnings = {});
// 404 with an empty body: Vault's RespondWithStatusCode(nil, req, 404).
logical::Response EmptyNotFound();

StatusOr<logical::Storage*> StorageOf(logical::Request& req);

// ---- Request parsing -------------------------------------------------------------------------

// A "version" style kInt field: absent means 0 (latest); negative is InvalidArgument naming it.
StatusOr<uint64_t> NonNegativeInt(const logical::FieldData& fields, const std::string& name);
// The cas value of an "options" object, std::nullopt when absent; "error parsing check-and-set
// parameter" when it is not an integer.
StatusOr<std::optional<int64_t>> CasOption(const logical::FieldData& fields);
// Vault's validateCheckAndSetOption: a supplied cas must equal the current version; without
// one, cas_required on the mount or the key is an error.
Status CheckCas(const std::optional<int64_t>& cas, const Config& config, const KeyMetadata& meta);
// max_versions in [0, 2^32-1], named in the error.
StatusOr<uint32_t> MaxVersionsField(const logical::FieldData& fields);
// Compact JSON, or InvalidArgument when a string is not valid UTF-8.
StatusOr<std::string> DumpJson(const nlohmann::json& j);

// ---- Paths (one file each) -------------------------------------------------------------------

logical::Path ConfigPath(std::shared_ptr<Store> store);
logical::Path DataPath(std::shared_ptr<Store> store);
std::vector<logical::Path> MetadataPaths(std::shared_ptr<Store> store);
std::vector<logical::Path> DeletePaths(std::shared_ptr<Store> store);  // delete, undelete, destroy
logical::Path SubkeysPath(std::shared_ptr<Store> store);
// Everything else: 404 with Vault's warning pointing at the data/ and metadata/ prefixes.
logical::Path InvalidPath();
// The response the catch-all path gives; data/ paths ending in '/' answer it too.
logical::Response InvalidPathResponse(const logical::Request& req);

}  // namespace coffer::kv::v2
