// KV v2 `metadata/<path>`: read a secret's history and settings, write or PATCH its settings
// (max_versions, cas_required, delete_version_after, custom_metadata), DELETE it with every
// version, and LIST the secrets of a folder.
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>

#include "base/duration.h"
#include "engines/kv/kv_v2.h"

namespace coffer::kv::v2 {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using logical::TxnOp;
using nlohmann::json;

namespace {

constexpr size_t kMaxCustomMetadataKeys = 64;
constexpr size_t kMaxCustomMetadataKeyLength = 128;
constexpr size_t kMaxCustomMetadataValueLength = 512;
constexpr char kCustomMetadataError[] = "custom_metadata validation failed";
constexpr char kCasIgnoredWarning[] =
    "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.";

// Decodes one UTF-8 sequence at s[i]; returns its length (0 when invalid) and the code point.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  char32_t value;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    value = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    value = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    value = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  if ((len == 3 && value < 0x800) || (len == 4 && (value < 0x10000 || value > 0x10FFFF)) ||
      (value >= 0xD800 && value <= 0xDFFF)) {
    return 0;
  }
  *cp = value;
  return len;
}

// Approximates Go's unicode.IsPrint: no control or format characters, no spaces other than
// U+0020, no private-use or non-characters.
bool IsPrintable(char32_t c) {
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) || c == 0xAD) return false;
  if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F)) return false;
  if (c == 0x3000 || c == 0xFEFF || (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFFF0 && c <= 0xFFFF)) return false;
  return true;
}

bool Printable(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0 || !IsPrintable(cp)) return false;
    i += len;
  }
  return true;
}

// Go's %q: a double-quoted string with escapes for quotes, backslashes and unprintable runes.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      i += 1;
      continue;
    }
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x80 && !IsPrintable(cp)) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (!IsPrintable(cp)) {
      std::snprintf(buf, sizeof(buf), cp > 0xFFFF ? "\\U%08x" : "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out + "\"";
}

// go-multierror's rendering, which Vault returns as the error text.
std::string MultiError(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return "1 error occurred:\n\t* " + errors[0] + "\n\n";
  std::string out = std::to_string(errors.size()) + " errors occurred:";
  for (const std::string& e : errors) out += "\n\t* " + e;
  return out + "\n\n";
}

// custom_metadata as supplied: string values as they are, numbers and bools as text (Vault
// decodes weakly); null stays std::nullopt (a PATCH removes the key, a write stores "").
StatusOr<std::map<std::string, std::optional<std::string>>> ParseCustomMetadata(const json& raw) {
  std::map<std::string, std::optional<std::string>> out;
  for (auto it = raw.begin(); it != raw.end(); ++it) {
    const json& v = it.value();
    if (v.is_null()) {
      out[it.key()] = std::nullopt;
    } else if (v.is_string()) {
      out[it.key()] = v.get<std::string>();
    } else if (v.is_boolean()) {
      out[it.key()] = v.get<bool>() ? "1" : "0";  // mapstructure's weak bool-to-string
    } else if (v.is_number()) {
      out[it.key()] = v.dump();
    } else {
      return InvalidArgument(std::string(kCustomMetadataError) + ": value for key " + GoQuote(it.key()) +
                             " must be a string");
    }
  }
  return out;
}

// Vault's limits: at most 64 keys; keys 1..128 bytes, values 1..512 bytes, all printable. Every
// problem is reported (keys in sorted order), never a value.
Status ValidateCustomMetadata(const std::map<std::string, std::string>& custom) {
  std::vector<std::string> errors;
  if (custom.size() > kMaxCustomMetadataKeys) {
    errors.push_back(std::string(kCustomMetadataError) + ": payload must contain at most " +
                     std::to_string(kMaxCustomMetadataKeys) + " keys, provided " + std::to_string(custom.size()));
    return InvalidArgument(MultiError(errors));
  }
  const std::string prefix = std::string(kCustomMetadataError) + ": ";
  for (const auto& [key, value] : custom) {
    if (key.empty() || key.size() > kMaxCustomMetadataKeyLength) {
      errors.push_back(prefix + "length of key " + GoQuote(key) + " is " + std::to_string(key.size()) +
                       " but must be 0 < len(key) <= " + std::to_string(kMaxCustomMetadataKeyLength));
    }
    if (value.empty() || value.size() > kMaxCustomMetadataValueLength) {
      errors.push_back(prefix + "length of value for key " + GoQuote(key) + " is " + std::to_string(value.size()) +
                       " but must be 0 < len(value) <= " + std::to_string(kMaxCustomMetadataValueLength));
    }
    if (!Printable(key)) {
      errors.push_back(prefix + "key " + GoQuote(key) + " contains unprintable characters");
    }
    if (!Printable(value)) {
      errors.push_back(prefix + "value for key " + GoQuote(key) + " contains unprintable characters");
    }
  }
  if (errors.empty()) return OkStatus();
  return InvalidArgument(MultiError(errors));
}

// A key's delete_version_after: a duration from 0 up to Go's longest; negative is an error here
// (only the mount config uses negative to disable).
StatusOr<int64_t> KeyDeleteVersionAfter(const FieldData& fields) {
  int64_t dva = fields.GetDurationSeconds("delete_version_after");
  if (dva < 0) {
    return InvalidArgument("field \"delete_version_after\": cannot provide negative value '" + std::to_string(dva) +
                           "'");
  }
  if (dva > kMaxDurationSeconds) {
    return InvalidArgument("field \"delete_version_after\": must be at most " + FormatDuration(kMaxDurationSeconds));
  }
  return dva;
}

// Settings common to write and PATCH, validated before anything is read or locked.
struct SettingsUpdate {
  std::optional<uint32_t> max_versions;
  std::optional<bool> cas_required;
  std::optional<int64_t> delete_version_after;
  std::optional<std::map<std::string, std::optional<std::string>>> custom_metadata;
  bool empty() const { return !max_versions && !cas_required && !delete_version_after && !custom_metadata; }
};

StatusOr<SettingsUpdate> ParseSettings(const FieldData& fields) {
  SettingsUpdate update;
  if (fields.Has("max_versions")) {
    ASSIGN_OR_RETURN(update.max_versions, MaxVersionsField(fields));
  }
  if (fields.Has("cas_required")) update.cas_required = fields.GetBool("cas_required");
  if (fields.Has("delete_version_after")) {
    ASSIGN_OR_RETURN(update.delete_version_after, KeyDeleteVersionAfter(fields));
  }
  if (fields.Has("custom_metadata")) {
    ASSIGN_OR_RETURN(update.custom_metadata, ParseCustomMetadata(fields.GetJson("custom_metadata")));
  }
  return update;
}

Status CheckKeyPath(const std::string& key) {
  if (key.empty()) return InvalidArgument("missing path");
  if (key.back() == '/') return InvalidArgument("invalid path: a secret's path cannot end in '/'");
  return OkStatus();
}

Response WithCasWarning(const SettingsUpdate& update, const Config& config) {
  Response resp;
  if (update.cas_required && !*update.cas_required && config.cas_required) resp.warnings.push_back(kCasIgnoredWarning);
  return resp;
}

StatusOr<Response> HandleRead(Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return NotFound();
  json versions = json::object();
  for (const auto& [number, vm] : meta->versions) {
    versions[std::to_string(number)] = json{{"created_time", FormatTime(vm.created_time)},
                                            {"deletion_time", FormatOptionalTime(vm.deletion_time)},
                                            {"destroyed", vm.destroyed}};
  }
  return Response::WithData(json{{"cas_required", meta->cas_required},
                                 {"created_time", FormatOptionalTime(meta->created_time)},
                                 {"current_version", meta->current_version},
                                 {"custom_metadata", CustomMetadataJson(*meta)},
                                 {"delete_version_after", FormatDuration(meta->delete_version_after)},
                                 {"max_versions", meta->max_versions},
                                 {"oldest_version", meta->oldest_version},
                                 {"updated_time", FormatOptionalTime(meta->updated_time)},
                                 {"versions", std::move(versions)}});
}

StatusOr<Response> HandleList(Request& req, const FieldData& fields) {
  std::string prefix = fields.GetString("path");
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage->List(kMetadataPrefix + prefix));
  if (keys.empty()) return NotFound();
  return Response::WithData(json{{"keys", std::move(keys)}});
}

StatusOr<Response> HandleWrite(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  RETURN_IF_ERROR(CheckKeyPath(key));
  ASSIGN_OR_RETURN(SettingsUpdate update, ParseSettings(fields));
  if (update.empty()) return Response();  // Vault: nothing to change, nothing created
  std::map<std::string, std::string> custom;
  if (update.custom_metadata) {
    for (const auto& [k, v] : *update.custom_metadata) custom[k] = v.value_or("");
    RETURN_IF_ERROR(ValidateCustomMetadata(custom));
  }
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));
  Response resp = WithCasWarning(update, config);

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> loaded, LoadMetadata(*storage, key));
  KeyMetadata meta;
  if (loaded) {
    meta = std::move(*loaded);
  } else {
    meta.key = key;
    meta.created_time = meta.updated_time = store.Now();
  }
  if (update.max_versions) meta.max_versions = *update.max_versions;
  if (update.cas_required) meta.cas_required = *update.cas_required;
  if (update.delete_version_after) meta.delete_version_after = *update.delete_version_after;
  if (update.custom_metadata) meta.custom_metadata = std::move(custom);
  RETURN_IF_ERROR(storage->Put(MetadataStorageKey(key), EncodeMetadata(meta)));
  return resp;
}

StatusOr<Response> HandlePatch(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  RETURN_IF_ERROR(CheckKeyPath(key));
  ASSIGN_OR_RETURN(SettingsUpdate update, ParseSettings(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return EmptyNotFound();
  Response resp = WithCasWarning(update, config);
  if (update.max_versions) meta->max_versions = *update.max_versions;
  if (update.cas_required) meta->cas_required = *update.cas_required;
  if (update.delete_version_after) meta->delete_version_after = *update.delete_version_after;
  if (update.custom_metadata) {
    // JSON merge patch of the map: null removes a key, anything else sets it.
    for (const auto& [k, v] : *update.custom_metadata) {
      if (v) {
        meta->custom_metadata[k] = *v;
      } else {
        meta->custom_metadata.erase(k);
      }
    }
    RETURN_IF_ERROR(ValidateCustomMetadata(meta->custom_metadata));
  }
  RETURN_IF_ERROR(storage->Put(MetadataStorageKey(key), EncodeMetadata(*meta)));
  return resp;
}

StatusOr<Response> HandleDelete(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return Response();
  std::vector<TxnOp> ops;
  for (const auto& [number, vm] : meta->versions) {
    ops.push_back(TxnOp{TxnOp::Kind::kDelete, VersionStorageKey(key, number), ""});
  }
  ops.push_back(TxnOp{TxnOp::Kind::kDelete, MetadataStorageKey(key), ""});
  RETURN_IF_ERROR(storage->Transaction(ops));
  return Response();
}

StatusOr<bool> MetadataExists(Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (key.empty() || key.back() == '/') return false;
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage->Get(MetadataStorageKey(key)));
  return raw.has_value();
}

constexpr char kSynopsis[] = "Allows interaction with key metadata and settings in the KV store.";

constexpr char kDescription[] =
    "This endpoint allows for reading, information about a key in the key-value store, writing "
    "key settings, and permanently deleting a key and all versions. LIST on a folder lists the "
    "keys below it (sub-folders end in '/').\n\n"
    "Settings: max_versions (the number of versions to keep; the larger non-zero value of the key "
    "and the mount wins, 10 when neither is set), cas_required (every write must carry a cas "
    "option), delete_version_after (versions read as deleted this long after they are written; "
    "the smaller non-zero value of key and mount wins) and custom_metadata (up to 64 string "
    "pairs).";

}  // namespace

std::vector<logical::Path> MetadataPaths(std::shared_ptr<Store> store) {
  auto bind = [store](StatusOr<Response> (*handler)(Store&, Request&, const FieldData&)) {
    return [store, handler](Request& req, const FieldData& fields) { return handler(*store, req, fields); };
  };
  // "metadata" itself: a LIST (the API layer does not add Vault's trailing '/') lists the root;
  // anything else gets Vault's "Non-listing operations on the root" answer.
  auto root_list = [](Request& req, const FieldData&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
    ASSIGN_OR_RETURN(std::vector<std::string> keys, storage->List(kMetadataPrefix));
    if (keys.empty()) return NotFound();
    return Response::WithData(json{{"keys", std::move(keys)}});
  };
  auto root_other = [](Request& req, const FieldData&) -> StatusOr<Response> { return InvalidPathResponse(req); };
  std::vector<logical::Path> paths;
  paths.push_back(logical::Path{
      .pattern = "metadata",
      .operations = {{Operation::kList, root_list},
                     {Operation::kRead, root_other},
                     {Operation::kCreate, root_other},
                     {Operation::kUpdate, root_other},
                     {Operation::kPatch, root_other},
                     {Operation::kDelete, root_other}},
      .takes_arbitrary_fields = true,
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  });
  paths.push_back(logical::Path{
      .pattern = "metadata/{path*}",
      .fields = {{.name = "path", .type = FieldType::kString, .description = "Location of the secret."},
                 {.name = "cas_required",
                  .type = FieldType::kBool,
                  .description = "If true the key will require the cas parameter to be set on all write requests. "
                                 "If false, the backend's configuration will be used."},
                 {.name = "max_versions",
                  .type = FieldType::kInt,
                  .description = "The number of versions to keep. If not set, the backend's configured max version "
                                 "is used."},
                 {.name = "delete_version_after",
                  .type = FieldType::kDuration,
                  .description = "The length of time before a version is deleted. If not set, the backend's "
                                 "configured delete_version_after is used. A zero duration clears the current "
                                 "setting. A negative duration will cause an error."},
                 {.name = "custom_metadata",
                  .type = FieldType::kMap,
                  .description = "User-provided key-value pairs that are used to describe arbitrary and "
                                 "version-agnostic information about a secret."}},
      .operations = {{Operation::kRead, HandleRead},
                     {Operation::kList, HandleList},
                     {Operation::kCreate, bind(HandleWrite)},
                     {Operation::kUpdate, bind(HandleWrite)},
                     {Operation::kPatch, bind(HandlePatch)},
                     {Operation::kDelete, bind(HandleDelete)}},
      .existence_check = MetadataExists,
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  });
  return paths;
}

}  // namespace coffer::kv::v2
