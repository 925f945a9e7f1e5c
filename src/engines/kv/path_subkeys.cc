// KV v2 `subkeys/<path>`: the structure of a version's data with every leaf value replaced by
// null, optionally cut at a depth.
#include <nlohmann/json.hpp>
#include <shared_mutex>

#include "engines/kv/kv_v2.h"

namespace coffer::kv::v2 {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

// Replaces, in place, every value of `object` (at nesting level `depth`, the top being 1) that is
// not a non-empty object with null; non-empty objects are walked unless that would go deeper
// than max_depth (0: no limit), in which case they become null too, so no value ever leaks.
void RemoveValues(json& object, uint64_t depth, uint64_t max_depth) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    json& v = it.value();
    if (v.is_object() && !v.empty() && (max_depth == 0 || depth + 1 <= max_depth)) {
      RemoveValues(v, depth + 1, max_depth);
    } else {
      v = nullptr;
    }
  }
}

StatusOr<Response> HandleRead(Store& store, Request& req, const FieldData& fields) {
  const std::string key = fields.GetString("path");
  ASSIGN_OR_RETURN(uint64_t requested, NonNegativeInt(fields, "version"));
  ASSIGN_OR_RETURN(uint64_t depth, NonNegativeInt(fields, "depth"));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  std::shared_lock lock(store.KeyLock(key));
  ASSIGN_OR_RETURN(std::optional<KeyMetadata> meta, LoadMetadata(*storage, key));
  if (!meta) return NotFound();
  const uint64_t version = requested > 0 ? requested : meta->current_version;
  auto vm = meta->versions.find(version);
  if (vm == meta->versions.end()) return NotFound();
  json metadata = VersionInfoJson(version, vm->second, *meta);
  if (IsDeleted(vm->second, store.Now()) || vm->second.destroyed) {
    return EnvelopeWithStatus(req, 404, json{{"metadata", std::move(metadata)}, {"subkeys", nullptr}});
  }
  ASSIGN_OR_RETURN(json data, LoadVersionData(*storage, key, version));
  RemoveValues(data, 1, depth);
  return Response::WithData(json{{"metadata", std::move(metadata)}, {"subkeys", std::move(data)}});
}

constexpr char kDescription[] =
    "This endpoint provides the subkeys within a secret entry that exists at the requested path. "
    "The secret entry at this path will be retrieved and stripped of all data by replacing "
    "underlying values of leaf keys (i.e. non-map keys or map keys with no underlying subkeys) "
    "with null.\n\n"
    "The \"version\" parameter specifies which version of the secret to read when generating the "
    "subkeys structure. If not provided, the current version will be used.\n\n"
    "The \"depth\" parameter specifies the deepest nesting level to provide in the output. The "
    "default value 0 will not impose any limit. If non-zero, keys that reside at the specified "
    "depth value will be artificially treated as leaves and will thus be null even if further "
    "underlying subkeys exist.";

}  // namespace

logical::Path SubkeysPath(std::shared_ptr<Store> store) {
  auto read = [store](Request& req, const FieldData& fields) { return HandleRead(*store, req, fields); };
  return logical::Path{
      .pattern = "subkeys/{path*}",
      .fields = {{.name = "path", .type = FieldType::kString, .description = "Location of the secret."},
                 {.name = "depth",
                  .type = FieldType::kInt,
                  .description = "The maximum depth to traverse. No limit will be imposed if not provided or if 0."},
                 {.name = "version",
                  .type = FieldType::kInt,
                  .description = "Specifies which version to retrieve. If not provided, the current version will "
                                 "be used."}},
      .operations = {{Operation::kRead, read}},
      .help_synopsis = "Read the structure of a secret entry from the Key-Value store with the values removed.",
      .help_description = kDescription,
  };
}

}  // namespace coffer::kv::v2
