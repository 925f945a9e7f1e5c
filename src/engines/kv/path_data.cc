// KV v2 `data/<path>`: read a version, write a new one (check-and-set), JSON merge PATCH of the
// latest version, and soft DELETE of the latest version.
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

// Vault's data pattern does not match a path ending in '/': such requests get the invalid-path
// answer.
bool IsFolder(const std::string& key) { return key.empty() || key.back() == '/'; }

// Appends a version holding `data_json` to `meta` and stores the version, the metadata and the
// removal of pruned versions in one transaction. Returns the new version's metadata.
StatusOr<Response> CommitNewVersion(Store& store, logical::Storage& storage, const Config& config, KeyMetadata* meta,
                                    const std::string& data_json) {
  VersionMetadata vm;
  vm.created_time = store.Now();
  vm.deletion_time = ScheduledDeletion(vm.created_time, config, *meta);
  std::vector<uint64_t> pruned = AddVersion(meta, vm, config);
  std::vector<TxnOp> ops;
  ops.push_back(TxnOp{TxnOp::Kind::kPut, VersionStorageKey(meta->key, meta->current_version),
                      EncodeVersion(data_json, vm.created_time)});
  ops.push_back(TxnOp{TxnOp::Kind::kPut, MetadataStorageKey(meta->key), EncodeMetadata(*meta)});
  for (uint64_t version : pruned) {
    ops.push_back(TxnOp{TxnOp::Kind::kDelete, VersionStorageKey(meta->key, version), ""});
  }
  RETURN_IF_ERROR(storage.Transaction(ops));
  return Response::WithData(VersionInfoJson(meta->current_version, vm, *meta));
}

StatusOr<Response> HandleRead(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (IsFolder(key)) return InvalidPathResponse(req);
  ASSIGN_OR_RETURN(uint64_t requested, NonNegativeInt(fields, "version"));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  std::shared_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return NotFound();
  const uint64_t version = requested > 0 ? requested : meta->current_version;
  auto vm = meta->versions.find(version);
  if (vm == meta->versions.end()) return NotFound();
  json metadata = VersionInfoJson(version, vm->second, *meta);
  if (IsDeleted(vm->second, store.Now()) || vm->second.destroyed) {
    return EnvelopeWithStatus(req, 404, json{{"data", nullptr}, {"metadata", std::move(metadata)}});
  }
  ASSIGN_OR_RETURN(std::string data, LoadVersionDataText(*storage, key, version));
  // {"data":...,"metadata":...} exactly as rendering the parsed document would give ("data"
  // sorts first), with the stored data spliced in rather than parsed and re-serialized.
  Response resp;
  resp.raw_data.reserve(data.size() + 200);
  resp.raw_data += "{\"data\":";
  resp.raw_data += data;
  resp.raw_data += ",\"metadata\":";
  resp.raw_data += metadata.dump(-1, ' ', false, json::error_handler_t::replace);
  resp.raw_data += '}';
  return resp;
}

StatusOr<Response> HandleWrite(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (IsFolder(key)) return InvalidPathResponse(req);
  if (!fields.Has("data")) return InvalidArgument("no data provided");
  ASSIGN_OR_RETURN(std::optional<int64_t> cas, CasOption(fields));
  ASSIGN_OR_RETURN(std::string data_json, DumpJson(fields.GetJson("data")));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> loaded, LoadMetadata(*storage, key));
  KeyMetadata meta;
  if (loaded) {
    meta = std::move(*loaded);
  } else {
    meta.key = key;
  }
  RETURN_IF_ERROR(CheckCas(cas, config, meta));
  return CommitNewVersion(store, *storage, config, &meta, data_json);
}

StatusOr<Response> HandlePatch(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (IsFolder(key)) return InvalidPathResponse(req);
  if (!fields.Has("data")) return InvalidArgument("no data provided");
  ASSIGN_OR_RETURN(std::optional<int64_t> cas, CasOption(fields));
  const json patch = fields.GetJson("data");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return EmptyNotFound();
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));
  RETURN_IF_ERROR(CheckCas(cas, config, *meta));
  const uint64_t current = meta->current_version;
  auto vm = meta->versions.find(current);
  if (vm == meta->versions.end()) return EmptyNotFound();
  if (IsDeleted(vm->second, store.Now()) || vm->second.destroyed) {
    // Unlike a read, Vault answers with the flat version metadata here.
    return EnvelopeWithStatus(req, 404, VersionInfoJson(current, vm->second, *meta));
  }
  ASSIGN_OR_RETURN(json data, LoadVersionData(*storage, key, current));
  data.merge_patch(patch);  // RFC 7396: null removes a member, objects merge recursively
  ASSIGN_OR_RETURN(std::string data_json, DumpJson(data));
  return CommitNewVersion(store, *storage, config, &*meta, data_json);
}

StatusOr<Response> HandleDelete(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (IsFolder(key)) return InvalidPathResponse(req);
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  std::unique_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return Response();
  auto latest = meta->versions.find(meta->current_version);
  const UnixNanos now = store.Now();
  // Nothing to do when the latest version is gone, destroyed or already deleted.
  if (latest == meta->versions.end() || latest->second.destroyed || IsDeleted(latest->second, now)) {
    return Response();
  }
  latest->second.deletion_time = now;
  RETURN_IF_ERROR(storage->Put(MetadataStorageKey(key), EncodeMetadata(*meta)));
  return Response();
}

StatusOr<bool> SecretExists(Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  if (IsFolder(key)) return false;
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage->Get(MetadataStorageKey(key)));
  return raw.has_value();
}

constexpr char kSynopsis[] = "Write, Patch, Read, and Delete data in the Key-Value Store.";

constexpr char kDescription[] =
    "This path takes a key name and based on the operation stores, retrieves or deletes versions "
    "of data.\n\n"
    "If a write operation is used the endpoint takes an options object and a data object. The "
    "options object is used to pass some options to the write command and the data object is "
    "encrypted and stored in the storage backend. Each write operation for a key creates a new "
    "version and does not overwrite the previous data.\n\n"
    "A patch operation must be performed on an existing secret. The secret must neither be "
    "deleted nor destroyed. Like a write operation, patch operations accept an options object and "
    "data object; the data object is applied to the current version as a JSON merge patch (RFC "
    "7396) and the result is stored as a new version.\n\n"
    "A read operation will return the latest version for a key unless the \"version\" parameter "
    "is set, then it returns the version at that number.\n\n"
    "Delete operations are a soft delete. They will mark the latest version as deleted, but the "
    "underlying data will not be fully removed. Delete operations can be undone.";

}  // namespace

logical::Path DataPath(std::shared_ptr<Store> store) {
  auto bind = [store](StatusOr<Response> (*handler)(Store&, Request&, const FieldData&)) {
    return [store, handler](Request& req, const FieldData& fields) { return handler(*store, req, fields); };
  };
  return logical::Path{
      .pattern = "data/{path+}",
      .fields = {{.name = "path", .type = FieldType::kString, .description = "Location of the secret."},
                 {.name = "version",
                  .type = FieldType::kInt,
                  .description = "If provided during a read, the value at the version number will be returned"},
                 {.name = "options",
                  .type = FieldType::kMap,
                  .description = "Options for writing a KV entry. Set the \"cas\" value to use a Check-And-Set "
                                 "operation. If not set the write will be allowed. If set to 0 a write will only "
                                 "be allowed if the key doesn't exist. If the index is non-zero the write will "
                                 "only be allowed if the key's current version matches the version specified in "
                                 "the cas parameter."},
                 {.name = "data",
                  .type = FieldType::kMap,
                  .description = "The contents of the data map will be stored and returned on read."}},
      .operations = {{Operation::kRead, bind(HandleRead)},
                     {Operation::kCreate, bind(HandleWrite)},
                     {Operation::kUpdate, bind(HandleWrite)},
                     {Operation::kPatch, bind(HandlePatch)},
                     {Operation::kDelete, bind(HandleDelete)}},
      .existence_check = SecretExists,
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  };
}

}  // namespace coffer::kv::v2
