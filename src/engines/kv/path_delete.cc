// KV v2 `delete/<path>`, `undelete/<path>` and `destroy/<path>`: soft-delete, restore, or
// permanently remove the data of chosen versions.
#include <charconv>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>

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

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One version number: an integral JSON number or a decimal string.
StatusOr<uint64_t> VersionNumber(const json& item) {
  const Status bad = InvalidArgument("field \"versions\": expected a list of version numbers (non-negative integers)");
  const Status negative = InvalidArgument("field \"versions\": version numbers cannot be negative");
  if (item.is_number_unsigned()) return item.get<uint64_t>();
  if (item.is_number_integer()) {
    if (item.get<int64_t>() < 0) return negative;
    return static_cast<uint64_t>(item.get<int64_t>());
  }
  if (item.is_number_float()) {
    double d = item.get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 1.8e19) return bad;
    if (d < 0) return negative;
    return static_cast<uint64_t>(d);
  }
  if (item.is_string()) {
    std::string_view s = TrimSpaces(item.get_ref<const std::string&>());
    if (!s.empty() && s.front() == '-') {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc() && ptr == s.data() + s.size() ? negative : bad;
    }
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return bad;
    return v;
  }
  return bad;
}

// Vault's TypeCommaIntSlice: a list of numbers or numeric strings, a comma-separated string, or
// one number. Absent gives an empty list.
StatusOr<std::vector<uint64_t>> ParseVersions(const FieldData& fields) {
  std::vector<uint64_t> out;
  if (!fields.Has("versions")) return out;
  const json raw = fields.GetJson("versions");
  std::vector<json> items;
  if (raw.is_array()) {
    items.assign(raw.begin(), raw.end());
  } else if (raw.is_string()) {
    std::string_view s = raw.get_ref<const std::string&>();
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(',', start);
      if (end == std::string_view::npos) end = s.size();
      std::string_view part = TrimSpaces(s.substr(start, end - start));
      if (!part.empty()) items.emplace_back(std::string(part));
      start = end + 1;
    }
  } else {
    items.push_back(raw);
  }
  for (const json& item : items) {
    ASSIGN_OR_RETURN(uint64_t v, VersionNumber(item));
    out.push_back(v);
  }
  return out;
}

// The versions of a request, or Vault's error text for the endpoint when there are none.
StatusOr<std::vector<uint64_t>> RequiredVersions(const FieldData& fields, const char* missing_message) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, ParseVersions(fields));
  if (versions.empty()) return InvalidArgument(missing_message);
  return versions;
}

StatusOr<Response> HandleDelete(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, RequiredVersions(fields, "No version number provided"));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return Response();
  const UnixNanos now = store.Now();
  for (uint64_t number : versions) {
    auto vm = meta->versions.find(number);
    if (vm == meta->versions.end() || vm->second.destroyed || IsDeleted(vm->second, now)) continue;
    vm->second.deletion_time = now;
  }
  RETURN_IF_ERROR(storage->Put(MetadataStorageKey(key), EncodeMetadata(*meta)));
  return Response();
}

StatusOr<Response> HandleUndelete(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, RequiredVersions(fields, "No version number provided"));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return Response();
  const UnixNanos now = store.Now();
  for (uint64_t number : versions) {
    auto vm = meta->versions.find(number);
    if (vm == meta->versions.end() || vm->second.destroyed) continue;
    // As in Vault, an undeleted version gets a fresh delete_version_after window from now.
    vm->second.deletion_time = ScheduledDeletion(now, config, *meta);
  }
  RETURN_IF_ERROR(storage->Put(MetadataStorageKey(key), EncodeMetadata(*meta)));
  return Response();
}

StatusOr<Response> HandleDestroy(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, RequiredVersions(fields, "no version number provided"));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return Response();
  std::vector<TxnOp> ops;
  for (uint64_t number : versions) {
    auto vm = meta->versions.find(number);
    if (vm == meta->versions.end()) continue;
    vm->second.destroyed = true;
    ops.push_back(TxnOp{TxnOp::Kind::kDelete, VersionStorageKey(key, number), ""});
  }
  // The metadata marks the versions destroyed in the same transaction that removes their data.
  ops.push_back(TxnOp{TxnOp::Kind::kPut, MetadataStorageKey(key), EncodeMetadata(*meta)});
  RETURN_IF_ERROR(storage->Transaction(ops));
  return Response();
}

logical::Field PathField() {
  return {.name = "path", .type = FieldType::kString, .description = "Location of the secret."};
}

}  // namespace

std::vector<logical::Path> DeletePaths(std::shared_ptr<Store> store) {
  auto bind = [store](StatusOr<Response> (*handler)(Store&, Request&, const FieldData&)) {
    return [store, handler](Request& req, const FieldData& fields) { return handler(*store, req, fields); };
  };
  std::vector<logical::Path> paths;
  paths.push_back(logical::Path{
      .pattern = "delete/{path*}",
      .fields = {PathField(),
                 {.name = "versions",
                  .type = FieldType::kRaw,
                  .description = "The versions to be archived. The versioned data will not be deleted, but it "
                                 "will no longer be returned in normal get requests."}},
      .operations = {{Operation::kUpdate, bind(HandleDelete)}, {Operation::kCreate, bind(HandleDelete)}},
      .help_synopsis = "Marks one or more versions as deleted in the KV store.",
      .help_description = "Deletes the data for the provided version and path in the key-value store. The "
                          "versioned data will not be fully removed, but marked as deleted and will no longer be "
                          "returned in normal get requests. This operation can be undone.",
  });
  paths.push_back(logical::Path{
      .pattern = "undelete/{path*}",
      .fields = {PathField(),
                 {.name = "versions",
                  .type = FieldType::kRaw,
                  .description = "The versions to unarchive. The versions will be restored and their data will be "
                                 "returned on normal get requests."}},
      .operations = {{Operation::kUpdate, bind(HandleUndelete)}, {Operation::kCreate, bind(HandleUndelete)}},
      .help_synopsis = "Undeletes one or more versions from the KV store.",
      .help_description = "Undeletes the data for the provided version and path in the key-value store. This "
                          "restores the data, allowing it to be returned on get requests.",
  });
  paths.push_back(logical::Path{
      .pattern = "destroy/{path*}",
      .fields = {PathField(),
                 {.name = "versions",
                  .type = FieldType::kRaw,
                  .description = "The versions to destroy. Their data will be permanently deleted."}},
      .operations = {{Operation::kUpdate, bind(HandleDestroy)}, {Operation::kCreate, bind(HandleDestroy)}},
      .help_synopsis = "Permanently removes one or more versions in the KV store",
      .help_description = "Permanently removes the specified version data for the provided key and version "
                          "numbers from the key-value store.",
  });
  return paths;
}

}  // namespace coffer::kv::v2
