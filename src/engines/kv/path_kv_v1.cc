#include "engines/kv/path_kv_v1.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/duration.h"
#include "engines/kv/compact_json.h"
#include "logical/storage.h"

namespace coffer::kv {

using logical::FieldData;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

// A secret lives at a key naming a file: not the mount root, not a "folder/".
bool IsSecretKey(std::string_view key) { return !key.empty() && key.back() != '/'; }

StatusOr<logical::Storage*> StorageOf(Request& req) {
  if (req.storage == nullptr) return InternalError("kv: request has no storage view");
  return req.storage;
}

// The advisory TTL of one "ttl"/"lease" value: a value that is not a duration (or is
// negative) leaves the mount default in place. No lease is ever created for KV v1.
int64_t LeaseDurationOf(const json& value, int64_t default_ttl) {
  const json* it = &value;
  std::optional<int64_t> seconds;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return default_ttl;
    seconds = it->get<int64_t>();
  } else if (it->is_number_float()) {
    double d = it->get<double>();
    if (std::isfinite(d) && d >= 0 && d < 9.2e18) seconds = static_cast<int64_t>(d);
  } else if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (text.empty()) {
      seconds = 0;
    } else if (StatusOr<int64_t> parsed = ParseDurationSeconds(text); parsed.ok()) {
      seconds = *parsed;
    }
  }
  if (!seconds || *seconds < 0) return default_ttl;
  return *seconds;
}

// Vault reads the advisory TTL from "ttl", else "lease".
int64_t LeaseDurationFor(const json& data, int64_t default_ttl) {
  auto it = data.find("ttl");
  if (it == data.end()) it = data.find("lease");
  if (it == data.end()) return default_ttl;
  return LeaseDurationOf(*it, default_ttl);
}

StatusOr<Response> HandleRead(Request& req, const FieldData& fields, int64_t default_ttl) {
  const std::string key = fields.GetString("path");
  if (!IsSecretKey(key)) return NotFound();
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<std::string> stored, storage->Get(key));
  if (!stored) return NotFound();
  Response resp;
  // HandleWrite stores dump() output, which parse + dump reproduces byte for byte (sorted keys,
  // compact, shortest round-trip numbers, the same escapes), so the stored text is the
  // rendered "data" as is. Anything of another shape takes the parsing path.
  std::string_view ttl, lease;
  auto top_level = [&](std::string_view key, std::string_view value) {
    if (key == "\"ttl\"") ttl = value;
    else if (key == "\"lease\"") lease = value;
  };
  if (ScanCompactObject(*stored, top_level)) {
    std::string_view advisory = !ttl.empty() ? ttl : lease;
    resp.lease_duration = default_ttl;
    if (!advisory.empty()) {
      json value = json::parse(advisory, nullptr, /*allow_exceptions=*/false);
      if (value.is_discarded()) return InternalError("kv: stored entry is not a JSON object");
      resp.lease_duration = LeaseDurationOf(value, default_ttl);
    }
    resp.raw_data = std::move(*stored);
    return resp;
  }
  json data = json::parse(*stored, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) return InternalError("kv: stored entry is not a JSON object");
  resp.lease_duration = LeaseDurationFor(data, default_ttl);
  resp.data = std::move(data);
  return resp;
}

StatusOr<Response> HandleWrite(Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (key.empty()) return InvalidArgument("missing path");
  if (!IsSecretKey(key)) {
    return InvalidArgument("invalid path \"" + key.substr(0, 64) + "\": a secret's path cannot end in '/'");
  }
  // The stored object is the body as sent, including any field named "path".
  const json& data = fields.raw();
  if (data.empty()) return InvalidArgument("missing data fields");
  std::string encoded;
  try {
    encoded = data.dump();
  } catch (const json::exception&) {  // only invalid UTF-8 can fail, and the body came from a client
    return InvalidArgument("request data contains a string that is not valid UTF-8");
  }
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  RETURN_IF_ERROR(storage->Put(key, encoded));
  return Response();
}

StatusOr<Response> HandleDelete(Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (!IsSecretKey(key)) return Response();  // nothing can be stored there
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  RETURN_IF_ERROR(storage->Delete(key));
  return Response();
}

StatusOr<Response> HandleList(Request& req, const FieldData& fields) {
  std::string prefix = fields.GetString("path");
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage->List(prefix));
  if (keys.empty()) return NotFound();
  return Response::WithData(json{{"keys", std::move(keys)}});
}

StatusOr<bool> SecretExists(Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (!IsSecretKey(key)) return false;
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<std::string> stored, storage->Get(key));
  return stored.has_value();
}

constexpr char kSynopsis[] = "Read and write arbitrary JSON secrets, one object per path.";

constexpr char kDescription[] =
    "Each path stores one JSON object, written with create/update (the whole object is "
    "replaced), read back unchanged, removed with delete, and listed with list (sub-folders end "
    "in '/'). Values are encrypted by the barrier before they reach storage.\n\n"
    "A \"ttl\" field in the object (for example \"1h\") is returned as the lease_duration of "
    "reads: a hint for how long a reader may cache the value. No lease is created and nothing "
    "expires; without it the mount's default lease TTL is reported.";

}  // namespace

logical::Path KvV1SecretPath(int64_t default_lease_ttl_seconds) {
  using logical::Operation;
  auto read = [default_lease_ttl_seconds](Request& req, const FieldData& fields) {
    return HandleRead(req, fields, default_lease_ttl_seconds);
  };
  return logical::Path{
      .pattern = "{path*}",
      .fields = {{.name = "path", .type = logical::FieldType::kString, .description = "Location of the secret."}},
      .operations = {{Operation::kRead, read},
                     {Operation::kCreate, HandleWrite},
                     {Operation::kUpdate, HandleWrite},
                     {Operation::kDelete, HandleDelete},
                     {Operation::kList, HandleList}},
      .existence_check = SecretExists,
      .takes_arbitrary_fields = true,
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  };
}

}  // namespace coffer::kv
