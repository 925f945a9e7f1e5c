// KV v2 `config`: the mount-wide max_versions, cas_required and delete_version_after.
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "engines/kv/kv_v2.h"

namespace coffer::kv::v2 {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

StatusOr<Response> HandleRead(Request& req, const FieldData&) {
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));
  return Response::WithData(json{{"cas_required", config.cas_required},
                                 {"delete_version_after", FormatDuration(config.delete_version_after)},
                                 {"max_versions", config.max_versions}});
}

StatusOr<Response> HandleWrite(Store& store, Request& req, const FieldData& fields) {
  const bool has_max = fields.Has("max_versions");
  const bool has_cas = fields.Has("cas_required");
  const bool has_dva = fields.Has("delete_version_after");
  if (!has_max && !has_cas && !has_dva) return Response();  // Vault: nothing to change, 204

  uint32_t max_versions = 0;
  if (has_max) {
    ASSIGN_OR_RETURN(max_versions, MaxVersionsField(fields));
  }
  int64_t dva = fields.GetDurationSeconds("delete_version_after");
  if (dva > kMaxDurationSeconds) {
    return InvalidArgument("field \"delete_version_after\": must be at most " + FormatDuration(kMaxDurationSeconds));
  }

  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::lock_guard lock(store.ConfigLock());
  ASSIGN_OR_RETURN(Config config, LoadConfig(*storage));
  if (has_max) config.max_versions = max_versions;
  if (has_cas) config.cas_required = fields.GetBool("cas_required");
  if (has_dva) {
    // Negative disables delete_version_after on every key; zero clears the setting.
    config.delete_version_after = dva < 0 ? kDeleteVersionAfterDisabled : dva;
  }
  RETURN_IF_ERROR(storage->Put(kConfigKey, EncodeConfig(config)));
  return Response();
}

constexpr char kSynopsis[] = "Configures settings for the KV store";

constexpr char kDescription[] =
    "This path configures backend level settings that are applied to every key in the key-value "
    "store. This parameter accepts:\n\n"
    "  * max_versions (int) - The number of versions to keep for each key. Defaults to 10\n\n"
    "  * cas_required (bool) - If true, the backend will require the cas parameter to be set for "
    "each write\n\n"
    "  * delete_version_after (duration) - If set, the length of time before a version is "
    "deleted. A negative duration disables the use of delete_version_after on all keys. A zero "
    "duration clears the current setting. Accepts a Go duration format string.";

}  // namespace

logical::Path ConfigPath(std::shared_ptr<Store> store) {
  auto write = [store](Request& req, const FieldData& fields) { return HandleWrite(*store, req, fields); };
  return logical::Path{
      .pattern = "config",
      .fields = {{.name = "max_versions",
                  .type = FieldType::kInt,
                  .description = "The number of versions to keep for each key. Defaults to 10"},
                 {.name = "cas_required",
                  .type = FieldType::kBool,
                  .description = "If true, the backend will require the cas parameter to be set for each write"},
                 {.name = "delete_version_after",
                  .type = FieldType::kDuration,
                  .description = "If set, the length of time before a version is deleted. A negative duration "
                                 "disables the use of delete_version_after on all keys. A zero duration clears "
                                 "the current setting. Accepts a Go duration format string."}},
      .operations = {{Operation::kRead, HandleRead}, {Operation::kUpdate, write}, {Operation::kCreate, write}},
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  };
}

}  // namespace coffer::kv::v2
