// AppRole secret IDs: `role/:role_name/secret-id` (generate, LIST accessors),
// `role/:role_name/custom-secret-id`, `role/:role_name/secret-id/{lookup,destroy}` and
// `role/:role_name/secret-id-accessor/{lookup,destroy}`.
#include <mutex>
#include <shared_mutex>

#include "crypto/random.h"
#include "engines/auth/approle/approle.h"

namespace coffer::approle {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

Status RoleMissing(const std::string& name) { return InvalidArgument("role \"" + name + "\" does not exist"); }

// Vault's deriveSecretIDTTL: a TTL beyond the mount's max lease TTL (or negative) is capped to it.
int64_t DeriveTtl(const Store& store, int64_t ttl) {
  return ttl < 0 || ttl > store.max_lease_ttl() ? store.max_lease_ttl() : ttl;
}

json ToResponseData(const SecretIdEntry& e) {
  return json{{"secret_id_accessor", e.accessor},
              {"secret_id_num_uses", e.num_uses},
              {"secret_id_ttl", e.ttl},
              {"creation_time", FormatTime(e.creation_time)},
              {"expiration_time", FormatTime(e.expiration_time)},
              {"last_updated_time", FormatTime(e.last_updated_time)},
              {"metadata", e.metadata},
              {"cidr_list", e.cidr_list},
              {"token_bound_cidrs", e.token_bound_cidrs}};
}

// The role, read under the caller's lock; 400 "role ... does not exist" when absent.
StatusOr<Role> RequireRole(logical::Storage& storage, const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(storage, name));
  if (!role) return RoleMissing(name);
  return std::move(*role);
}

// Vault's handleRoleSecretIDCommon: checks the request against the role and registers the
// secret ID (stored only as its HMAC) with a fresh accessor.
StatusOr<Response> RegisterSecretId(Store& store, Request& req, const FieldData& fields, const std::string& secret_id) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  if (secret_id.empty()) return InvalidArgument("missing secret_id");
  if (secret_id.size() > kMaxHmacInputLength) {
    return InvalidArgument("secret_id is longer than maximum of " + std::to_string(kMaxHmacInputLength) + " bytes");
  }
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock role_lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(Role role, RequireRole(*storage, name));
  if (!role.bind_secret_id) return InvalidArgument("bind_secret_id is not set on the role");

  SecretIdEntry entry;
  ASSIGN_OR_RETURN(entry.cidr_list,
                   ParseCidrs(fields.GetStringSlice("cidr_list"), "cidr_list", "failed to validate CIDR blocks"));
  RETURN_IF_ERROR(CheckCidrSubset(entry.cidr_list, role.secret_id_bound_cidrs));
  ASSIGN_OR_RETURN(entry.token_bound_cidrs, ParseCidrs(fields.GetStringSlice("token_bound_cidrs"), "token_bound_cidrs",
                                                       "failed to validate token CIDR blocks"));
  RETURN_IF_ERROR(CheckCidrSubset(entry.token_bound_cidrs, role.token.bound_cidrs));

  entry.num_uses = role.secret_id_num_uses;
  if (fields.Has("num_uses")) {
    entry.num_uses = fields.GetInt("num_uses");
    if (entry.num_uses < 0) return InvalidArgument("num_uses cannot be negative");
    if ((entry.num_uses == 0 && role.secret_id_num_uses > 0) ||
        (role.secret_id_num_uses > 0 && entry.num_uses > role.secret_id_num_uses)) {
      return InvalidArgument("num_uses cannot be higher than the role's secret_id_num_uses");
    }
  }
  entry.ttl = role.secret_id_ttl;
  if (fields.Has("ttl")) {
    entry.ttl = fields.GetDurationSeconds("ttl");
    if (entry.ttl < 0) return InvalidArgument("ttl cannot be negative");
    if ((entry.ttl == 0 && role.secret_id_ttl > 0) || (role.secret_id_ttl > 0 && entry.ttl > role.secret_id_ttl)) {
      return InvalidArgument("ttl cannot be longer than the role's secret_id_ttl");
    }
  }
  ASSIGN_OR_RETURN(entry.metadata, ParseMetadata(fields.GetJson("metadata")));

  ASSIGN_OR_RETURN(std::string secret_hmac, store.Hmac(*storage, secret_id));
  ASSIGN_OR_RETURN(std::string role_hmac, store.Hmac(*storage, name));
  const std::string key = SecretIdKey(role_hmac, secret_hmac);
  std::unique_lock secret_lock(store.SecretLock(secret_hmac));
  ASSIGN_OR_RETURN(std::optional<SecretIdEntry> existing, LoadSecretId(*storage, key));
  if (existing) return InvalidArgument("SecretID is already registered");

  const int64_t ttl = DeriveTtl(store, entry.ttl);
  entry.creation_time = entry.last_updated_time = store.Now();
  if (ttl != 0) entry.expiration_time = entry.creation_time + ttl * kNanosPerSecond;
  entry.accessor = crypto::GenerateUuid();
  ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(*storage, entry.accessor));
  RETURN_IF_ERROR(storage->Transaction({{logical::TxnOp::Kind::kPut, kAccessorPrefix + accessor_hmac,
                                         EncodeAccessor({.secret_id_hmac = secret_hmac, .role_name_hmac = role_hmac})},
                                        {logical::TxnOp::Kind::kPut, key, EncodeSecretId(entry)}}));
  return Response::WithData(json{{"secret_id", secret_id},
                                 {"secret_id_accessor", entry.accessor},
                                 {"secret_id_ttl", ttl},
                                 {"secret_id_num_uses", entry.num_uses}});
}

StatusOr<Response> HandleGenerate(Store& store, Request& req, const FieldData& fields) {
  return RegisterSecretId(store, req, fields, crypto::GenerateUuid());
}

StatusOr<Response> HandleCustom(Store& store, Request& req, const FieldData& fields) {
  return RegisterSecretId(store, req, fields, fields.GetString("secret_id"));
}

StatusOr<Response> HandleList(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock role_lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(Role role, RequireRole(*storage, name));
  ASSIGN_OR_RETURN(std::string role_hmac, store.Hmac(*storage, name));
  const std::string prefix = std::string(kSecretIdPrefix) + role_hmac + "/";
  ASSIGN_OR_RETURN(std::vector<std::string> secret_hmacs, storage->List(prefix));
  std::vector<std::string> accessors;
  for (const std::string& secret_hmac : secret_hmacs) {
    std::shared_lock secret_lock(store.SecretLock(secret_hmac));
    ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(*storage, prefix + secret_hmac));
    if (entry) accessors.push_back(entry->accessor);
  }
  if (accessors.empty()) return NotFound();
  return Response::WithData(json{{"keys", accessors}});
}

// Lookup (destroy == false) or destroy of a secret ID given by value.
StatusOr<Response> HandleById(Store& store, Request& req, const FieldData& fields, bool destroy) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  const std::string secret_id = fields.GetString("secret_id");
  if (secret_id.empty()) return InvalidArgument("missing secret_id");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock role_lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(Role role, RequireRole(*storage, name));
  if (secret_id.size() > kMaxHmacInputLength) return Response();  // no such secret ID can exist
  ASSIGN_OR_RETURN(std::string secret_hmac, store.Hmac(*storage, secret_id));
  ASSIGN_OR_RETURN(std::string role_hmac, store.Hmac(*storage, name));
  const std::string key = SecretIdKey(role_hmac, secret_hmac);
  std::unique_lock secret_lock(store.SecretLock(secret_hmac));
  ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(*storage, key));
  if (!entry) return Response();
  if (destroy) {
    RETURN_IF_ERROR(DeleteSecretId(store, *storage, key, entry->accessor));
    return Response();
  }
  // An entry without its accessor index is revoked on sight, as in Vault.
  ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(*storage, entry->accessor));
  ASSIGN_OR_RETURN(std::optional<AccessorEntry> index, LoadAccessor(*storage, kAccessorPrefix + accessor_hmac));
  if (!index) {
    RETURN_IF_ERROR(storage->Delete(key));
    return InvalidArgument("invalid secret id");
  }
  return Response::WithData(ToResponseData(*entry));
}

// Lookup (destroy == false) or destroy of a secret ID given by its accessor.
StatusOr<Response> HandleByAccessor(Store& store, Request& req, const FieldData& fields, bool destroy) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  const std::string accessor = fields.GetString("secret_id_accessor");
  if (accessor.empty()) return InvalidArgument("missing secret_id_accessor");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock role_lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(Role role, RequireRole(*storage, name));
  ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(*storage, accessor));
  ASSIGN_OR_RETURN(std::optional<AccessorEntry> index, LoadAccessor(*storage, kAccessorPrefix + accessor_hmac));
  if (!index) {
    return NotFound("failed to find accessor entry for secret_id_accessor: " + json(accessor).dump());
  }
  ASSIGN_OR_RETURN(std::string role_hmac, store.Hmac(*storage, name));
  const std::string key = SecretIdKey(role_hmac, index->secret_id_hmac);
  if (!destroy) {
    std::shared_lock secret_lock(store.SecretLock(index->secret_id_hmac));
    ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(*storage, key));
    if (!entry) return Response();
    return Response::WithData(ToResponseData(*entry));
  }
  std::unique_lock secret_lock(store.SecretLock(index->secret_id_hmac));
  ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(*storage, key));
  if (!entry) return InvalidArgument("invalid secret id accessor");
  RETURN_IF_ERROR(DeleteSecretId(store, *storage, key, accessor));
  return Response();
}

const logical::Field kRoleNameField{"role_name", FieldType::kString, "Name of the role. Must be less than 4096 bytes."};

std::vector<logical::Field> SecretIdFields() {
  return {
      kRoleNameField,
      {"metadata", FieldType::kRaw,
       "Metadata to be tied to the SecretID. This should be a JSON formatted string containing the metadata in "
       "key value pairs."},
      {"cidr_list", FieldType::kStringSlice,
       "Comma separated string or list of CIDR blocks enforcing secret IDs to be used from specific set of IP "
       "addresses. If 'secret_id_bound_cidrs' is set on the role, then the list of CIDR blocks listed here "
       "should be a subset of the CIDR blocks listed on the role."},
      {"token_bound_cidrs", FieldType::kStringSlice,
       "Comma separated string or list of CIDR blocks. If set, specifies the blocks of IP addresses which can "
       "use the returned token. Should be a subset of the token CIDR blocks listed on the role, if any."},
      {"num_uses", FieldType::kInt,
       "Number of times this SecretID can be used, after which the SecretID expires. Overrides "
       "secret_id_num_uses role option when supplied. May not be higher than role's secret_id_num_uses."},
      {"ttl", FieldType::kDuration,
       "Duration in seconds after which this SecretID expires. Overrides secret_id_ttl role option when "
       "supplied. May not be longer than role's secret_id_ttl."},
  };
}

using StoreHandler = StatusOr<Response> (*)(Store&, Request&, const FieldData&, bool);

logical::Handler Bind(const std::shared_ptr<Store>& store, StoreHandler fn, bool destroy) {
  return [store, fn, destroy](Request& req, const FieldData& f) { return fn(*store, req, f, destroy); };
}

}  // namespace

std::vector<logical::Path> SecretIdPaths(std::shared_ptr<Store> store) {
  std::vector<logical::Path> paths;
  auto generate = [store](Request& req, const FieldData& f) { return HandleGenerate(*store, req, f); };
  paths.push_back(logical::Path{
      .pattern = "role/{role_name}/secret-id/?",
      .fields = SecretIdFields(),
      .operations = {{Operation::kUpdate, generate},
                     {Operation::kCreate, generate},
                     {Operation::kList,
                      [store](Request& req, const FieldData& f) { return HandleList(*store, req, f); }}},
      .help_synopsis = "Generate a SecretID against this role.",
      .help_description =
          "The SecretID generated using this endpoint will be scoped to access just this role and none else. The "
          "properties of this SecretID will be based on the options set on the role. It will expire after a "
          "period defined by the 'ttl' field or 'secret_id_ttl' option on the role, and/or the backend mount's "
          "maximum TTL value. LIST returns the accessors of the role's secret IDs.",
  });
  std::vector<logical::Field> custom_fields = SecretIdFields();
  custom_fields.push_back({"secret_id", FieldType::kString, "SecretID to be attached to the role."});
  auto custom = [store](Request& req, const FieldData& f) { return HandleCustom(*store, req, f); };
  paths.push_back(logical::Path{
      .pattern = "role/{role_name}/custom-secret-id",
      .fields = std::move(custom_fields),
      .operations = {{Operation::kUpdate, custom}, {Operation::kCreate, custom}},
      .help_synopsis = "Assign a SecretID of choice against the role.",
      .help_description = "This option is not recommended unless there is a specific need to do so. This will "
                          "assign a client supplied SecretID to be used to access the role.",
  });

  const logical::Field secret_id_field{"secret_id", FieldType::kString, "SecretID attached to the role."};
  const logical::Field accessor_field{"secret_id_accessor", FieldType::kString, "Accessor of the SecretID"};
  struct Spec {
    const char* pattern;
    const logical::Field* field;
    StoreHandler fn;
    bool destroy;
    const char* synopsis;
  };
  const Spec specs[] = {
      {"role/{role_name}/secret-id/lookup/?", &secret_id_field, HandleById, false,
       "Read the properties of an issued secret_id"},
      {"role/{role_name}/secret-id/destroy/?", &secret_id_field, HandleById, true, "Invalidate an issued secret_id"},
      {"role/{role_name}/secret-id-accessor/lookup/?", &accessor_field, HandleByAccessor, false,
       "Read an issued secret_id, using its accessor"},
      {"role/{role_name}/secret-id-accessor/destroy/?", &accessor_field, HandleByAccessor, true,
       "Delete an issued secret_id, using its accessor"},
  };
  for (const Spec& s : specs) {
    logical::Handler h = Bind(store, s.fn, s.destroy);
    logical::Path p{
        .pattern = s.pattern,
        .fields = {kRoleNameField, *s.field},
        .operations = {{Operation::kUpdate, h}, {Operation::kCreate, h}},
        .help_synopsis = s.synopsis,
    };
    if (s.destroy) p.operations[Operation::kDelete] = h;
    paths.push_back(std::move(p));
  }
  return paths;
}

}  // namespace coffer::approle
