// KV version 2: the engine's construction and the helpers its paths share (kv_v2.h).
#include "engines/kv/kv_v2.h"

#include "engines/kv/compact_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <limits>
#include <utility>

#include "base/encoding.h"
#include "crypto/hash.h"

namespace coffer::kv {

namespace v2 {

using logical::FieldData;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

std::optional<int64_t> Int64Of(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

std::optional<uint64_t> Uint64Of(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

// Readers of stored records: false when the member is missing or of the wrong type.
bool ReadInt(const json& obj, const char* name, int64_t* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return false;
  std::optional<int64_t> v = Int64Of(*it);
  if (!v) return false;
  *out = *v;
  return true;
}

bool ReadUint(const json& obj, const char* name, uint64_t* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return false;
  std::optional<uint64_t> v = Uint64Of(*it);
  if (!v) return false;
  *out = *v;
  return true;
}

bool ReadBool(const json& obj, const char* name, bool* out) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_boolean()) return false;
  *out = it->get<bool>();
  return true;
}

// A time member that may be null (unset).
bool ReadOptionalTime(const json& obj, const char* name, std::optional<UnixNanos>* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return false;
  if (it->is_null()) {
    out->reset();
    return true;
  }
  std::optional<int64_t> v = Int64Of(*it);
  if (!v) return false;
  *out = *v;
  return true;
}

json OptionalTimeJson(const std::optional<UnixNanos>& t) { return t ? json(*t) : json(nullptr); }

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

UnixNanos SaturatingAdd(UnixNanos t, int64_t delta) {
  if (delta > 0 && t > std::numeric_limits<int64_t>::max() - delta) return std::numeric_limits<int64_t>::max();
  return t + delta;
}

StatusOr<KeyMetadata> DecodeMetadata(const std::string& raw) {
  const Status bad = DataLoss("kv: stored metadata of a secret is malformed");
  json j = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad;
  KeyMetadata meta;
  auto key = j.find("key");
  if (key == j.end() || !key->is_string()) return bad;
  meta.key = key->get<std::string>();
  uint64_t max_versions = 0;
  if (!ReadUint(j, "current_version", &meta.current_version) || !ReadUint(j, "oldest_version", &meta.oldest_version) ||
      !ReadUint(j, "max_versions", &max_versions) || max_versions > static_cast<uint64_t>(kMaxVersionsLimit) ||
      !ReadBool(j, "cas_required", &meta.cas_required) ||
      !ReadInt(j, "delete_version_after", &meta.delete_version_after) ||
      !ReadOptionalTime(j, "created_time", &meta.created_time) ||
      !ReadOptionalTime(j, "updated_time", &meta.updated_time)) {
    return bad;
  }
  meta.max_versions = static_cast<uint32_t>(max_versions);
  auto custom = j.find("custom_metadata");
  if (custom == j.end() || !custom->is_object()) return bad;
  for (auto it = custom->begin(); it != custom->end(); ++it) {
    if (!it.value().is_string()) return bad;
    meta.custom_metadata[it.key()] = it.value().get<std::string>();
  }
  auto versions = j.find("versions");
  if (versions == j.end() || !versions->is_object()) return bad;
  for (auto it = versions->begin(); it != versions->end(); ++it) {
    std::optional<uint64_t> number = ParseDecimal(it.key());
    const json& v = it.value();
    VersionMetadata vm;
    if (!number || !v.is_object() || !ReadInt(v, "created_time", &vm.created_time) ||
        !ReadOptionalTime(v, "deletion_time", &vm.deletion_time) || !ReadBool(v, "destroyed", &vm.destroyed)) {
      return bad;
    }
    meta.versions[*number] = vm;
  }
  return meta;
}

}  // namespace

// ---- Store ---------------------------------------------------------------------------------

UnixNanos Store::Now() const {
  auto now = clock_ ? clock_() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
}

std::shared_mutex& Store::KeyLock(std::string_view key) {
  return key_locks_[std::hash<std::string_view>{}(key) % key_locks_.size()];
}

// ---- Storage records -----------------------------------------------------------------------

std::string MetadataStorageKey(std::string_view key) { return kMetadataPrefix + std::string(key); }

std::string VersionStorageKey(std::string_view key, uint64_t version) {
  return kVersionsPrefix + HexEncode(crypto::Sha256(key)) + "/" + std::to_string(version);
}

StatusOr<Config> LoadConfig(logical::Storage& storage) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(kConfigKey));
  Config config;
  if (!raw) return config;
  const Status bad = DataLoss("kv: stored mount configuration is malformed");
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  uint64_t max_versions = 0;
  if (!j.is_object() || !ReadUint(j, "max_versions", &max_versions) ||
      max_versions > static_cast<uint64_t>(kMaxVersionsLimit) || !ReadBool(j, "cas_required", &config.cas_required) ||
      !ReadInt(j, "delete_version_after", &config.delete_version_after)) {
    return bad;
  }
  config.max_versions = static_cast<uint32_t>(max_versions);
  return config;
}

std::string EncodeConfig(const Config& config) {
  return json{{"max_versions", config.max_versions},
              {"cas_required", config.cas_required},
              {"delete_version_after", config.delete_version_after}}
      .dump();
}

StatusOr<std::optional<KeyMetadata>> LoadMetadata(logical::Storage& storage, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(MetadataStorageKey(key)));
  if (!raw) return std::optional<KeyMetadata>();
  ASSIGN_OR_RETURN(KeyMetadata meta, DecodeMetadata(*raw));
  meta.key = std::string(key);  // the stored copy is informational (and may have been sanitized)
  return std::optional<KeyMetadata>(std::move(meta));
}

std::string EncodeMetadata(const KeyMetadata& meta) {
  json versions = json::object();
  for (const auto& [number, vm] : meta.versions) {
    versions[std::to_string(number)] = json{{"created_time", vm.created_time},
                                            {"deletion_time", OptionalTimeJson(vm.deletion_time)},
                                            {"destroyed", vm.destroyed}};
  }
  json j = {{"key", meta.key},
            {"current_version", meta.current_version},
            {"oldest_version", meta.oldest_version},
            {"max_versions", meta.max_versions},
            {"cas_required", meta.cas_required},
            {"delete_version_after", meta.delete_version_after},
            {"created_time", OptionalTimeJson(meta.created_time)},
            {"updated_time", OptionalTimeJson(meta.updated_time)},
            {"custom_metadata", meta.custom_metadata},
            {"versions", std::move(versions)}};
  // Keys and custom metadata were validated as UTF-8 on the way in; replace rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EncodeVersion(std::string_view data_json, UnixNanos created_time) {
  // The same bytes json{{"created_time", t}, {"data", data}}.dump() gives, without re-serializing.
  return "{\"created_time\":" + std::to_string(created_time) + ",\"data\":" + std::string(data_json) + "}";
}

StatusOr<json> LoadVersionData(logical::Storage& storage, std::string_view key, uint64_t version) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(VersionStorageKey(key, version)));
  if (!raw) return InternalError("kv: could not find version data");
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLoss("kv: stored version data is malformed");
  auto data = j.find("data");
  if (data == j.end() || !data->is_object()) return DataLoss("kv: stored version data is malformed");
  return std::move(*data);
}

StatusOr<std::string> LoadVersionDataText(logical::Storage& storage, std::string_view key, uint64_t version) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(VersionStorageKey(key, version)));
  if (!raw) return InternalError("kv: could not find version data");
  // EncodeVersion's shape: {"created_time":<integer>,"data":<dump() of the data object>}.
  constexpr std::string_view kHead = "{\"created_time\":";
  constexpr std::string_view kData = ",\"data\":";
  std::string_view s = *raw;
  if (s.size() > kHead.size() + kData.size() + 1 && s.substr(0, kHead.size()) == kHead && s.back() == '}') {
    size_t i = kHead.size();
    if (i < s.size() && s[i] == '-') ++i;
    size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i > digits && s.substr(i, kData.size()) == kData) {
      std::string_view data = s.substr(i + kData.size(), s.size() - 1 - (i + kData.size()));
      if (ScanCompactObject(data, [](std::string_view, std::string_view) {})) return std::string(data);
    }
  }
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLoss("kv: stored version data is malformed");
  auto data = j.find("data");
  if (data == j.end() || !data->is_object()) return DataLoss("kv: stored version data is malformed");
  return data->dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- Version bookkeeping -------------------------------------------------------------------

bool IsDeleted(const VersionMetadata& vm, UnixNanos now) {
  // Vault tests deletion_time.Before(now); "at or before" keeps a delete visible to a read in the
  // same clock tick (an injected clock may not advance between the two).
  return vm.deletion_time.has_value() && *vm.deletion_time <= now;
}

std::optional<UnixNanos> ScheduledDeletion(UnixNanos from, const Config& config, const KeyMetadata& meta) {
  if (config.delete_version_after < 0) return std::nullopt;  // disabled on the mount
  int64_t mount = config.delete_version_after;
  int64_t key = meta.delete_version_after;
  if (mount == 0 && key == 0) return std::nullopt;
  int64_t seconds = key;
  if (seconds == 0 || (mount != 0 && mount < seconds)) seconds = mount;
  return SaturatingAdd(from, seconds * kNanosPerSecond);
}

std::vector<uint64_t> AddVersion(KeyMetadata* meta, const VersionMetadata& vm, const Config& config) {
  meta->current_version++;
  meta->versions[meta->current_version] = vm;
  meta->updated_time = vm.created_time;
  if (!meta->created_time) meta->created_time = vm.created_time;

  uint32_t max_versions = std::max(meta->max_versions, config.max_versions);
  if (max_versions == 0) max_versions = kDefaultMaxVersions;
  std::vector<uint64_t> pruned;
  if (meta->current_version - meta->oldest_version >= max_versions) {
    uint64_t last_to_delete = meta->current_version - max_versions;
    for (auto it = meta->versions.begin(); it != meta->versions.end() && it->first <= last_to_delete;) {
      pruned.push_back(it->first);
      it = meta->versions.erase(it);
    }
    meta->oldest_version = last_to_delete + 1;
  }
  return pruned;
}

// ---- Responses -----------------------------------------------------------------------------

std::string FormatTime(UnixNanos t) {
  int64_t seconds = t / kNanosPerSecond;
  int64_t nanos = t % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    seconds -= 1;
  }
  std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::string FormatOptionalTime(const std::optional<UnixNanos>& t) { return t ? FormatTime(*t) : std::string(); }

json CustomMetadataJson(const KeyMetadata& meta) {
  if (meta.custom_metadata.empty()) return nullptr;
  return json(meta.custom_metadata);
}

json VersionInfoJson(uint64_t version, const VersionMetadata& vm, const KeyMetadata& meta) {
  return json{{"created_time", FormatTime(vm.created_time)},
              {"custom_metadata", CustomMetadataJson(meta)},
              {"deletion_time", FormatOptionalTime(vm.deletion_time)},
              {"destroyed", vm.destroyed},
              {"version", version}};
}

Response EnvelopeWithStatus(const Request& req, int status, json data, std::vector<std::string> warnings) {
  json body = {{"request_id", req.id},
               {"lease_id", ""},
               {"renewable", false},
               {"lease_duration", 0},
               {"data", std::move(data)},
               {"wrap_info", nullptr},
               {"warnings", warnings.empty() ? json(nullptr) : json(std::move(warnings))},
               {"auth", nullptr},
               {"mount_type", ""}};
  return Response::Raw(status, std::move(body));
}

Response EmptyNotFound() { return Response::Raw(404, nullptr); }

StatusOr<logical::Storage*> StorageOf(Request& req) {
  if (req.storage == nullptr) return InternalError("kv: request has no storage view");
  return req.storage;
}

// ---- Request parsing -----------------------------------------------------------------------

StatusOr<uint64_t> NonNegativeInt(const FieldData& fields, const std::string& name) {
  int64_t v = fields.GetInt(name);
  if (v < 0) {
    return InvalidArgument("field \"" + name + "\": expected a non-negative integer, got " + std::to_string(v));
  }
  return static_cast<uint64_t>(v);
}

StatusOr<std::optional<int64_t>> CasOption(const FieldData& fields) {
  if (!fields.Has("options")) return std::optional<int64_t>();
  json options = fields.GetJson("options");
  auto it = options.find("cas");
  if (it == options.end() || it->is_null()) return std::optional<int64_t>();
  const Status bad = InvalidArgument("error parsing check-and-set parameter");
  if (it->is_number_integer()) {
    std::optional<int64_t> v = Int64Of(*it);
    if (!v) return bad;
    return std::optional<int64_t>(*v);
  }
  if (it->is_number_float()) {  // Vault decodes weakly: a whole float is fine
    double d = it->get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9.0e18) return bad;
    return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return bad;
    return std::optional<int64_t>(v);
  }
  return bad;
}

Status CheckCas(const std::optional<int64_t>& cas, const Config& config, const KeyMetadata& meta) {
  if (cas) {
    if (*cas < 0 || static_cast<uint64_t>(*cas) != meta.current_version) {
      return InvalidArgument("check-and-set parameter did not match the current version");
    }
    return OkStatus();
  }
  if (config.cas_required || meta.cas_required) {
    return InvalidArgument("check-and-set parameter required for this call");
  }
  return OkStatus();
}

StatusOr<uint32_t> MaxVersionsField(const FieldData& fields) {
  int64_t v = fields.GetInt("max_versions");
  if (v < 0 || v > kMaxVersionsLimit) {
    return InvalidArgument("field \"max_versions\": expected an integer between 0 and " +
                           std::to_string(kMaxVersionsLimit) + ", got " + std::to_string(v));
  }
  return static_cast<uint32_t>(v);
}

StatusOr<std::string> DumpJson(const json& j) {
  try {
    return j.dump();
  } catch (const json::exception&) {
    return InvalidArgument("request data contains a string that is not valid UTF-8");
  }
}

}  // namespace v2

namespace {

constexpr char kKvV2Help[] =
    "This backend provides a versioned key-value store. The kv backend reads and writes "
    "arbitrary secrets to the storage backend; they are encrypted by the barrier before they reach "
    "storage. Each key can have a configured number of versions, and versions can be retrieved "
    "based on their version numbers.\n\n"
    "Secrets are read and written under data/, their versions are managed under delete/, "
    "undelete/ and destroy/, their settings and history under metadata/, their structure under "
    "subkeys/, and the mount's settings at config.";

}  // namespace

StatusOr<std::unique_ptr<logical::Backend>> NewKvV2Backend(const logical::BackendConfig& config, KvClock clock) {
  if (config.storage != nullptr) RETURN_IF_ERROR(UpgradeV1ToV2(config.storage, clock));
  auto store = std::make_shared<v2::Store>(std::move(clock));
  std::vector<logical::Path> paths;
  paths.push_back(v2::ConfigPath(store));
  paths.push_back(v2::DataPath(store));
  for (logical::Path& p : v2::MetadataPaths(store)) paths.push_back(std::move(p));
  for (logical::Path& p : v2::DeletePaths(store)) paths.push_back(std::move(p));
  paths.push_back(v2::SubkeysPath(store));
  paths.push_back(v2::InvalidPath());  // last: it matches everything
  return std::unique_ptr<logical::Backend>(std::make_unique<logical::FrameworkBackend>(std::move(paths), kKvV2Help));
}

}  // namespace coffer::kv
