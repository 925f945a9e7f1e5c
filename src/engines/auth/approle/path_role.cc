// AppRole `role/` (LIST), `role/:role_name` (create, update, read, delete) and
// `role/:role_name/role-id` (read, update).
#include <mutex>
#include <shared_mutex>

#include "base/duration.h"
#include "crypto/random.h"
#include "engines/auth/approle/approle.h"

namespace coffer::approle {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

Status SaveRole(Store& store, logical::Storage& storage, const Role& role, const std::string& previous_role_id) {
  if (!HasConstraint(role)) return InvalidArgument("at least one constraint should be enabled on the role");
  std::lock_guard role_ids(store.RoleIdMutex());
  ASSIGN_OR_RETURN(std::optional<std::string> holder, LookupRoleId(store, storage, role.role_id));
  if (holder && *holder != role.name) return InvalidArgument("role_id already in use");
  std::vector<logical::TxnOp> ops;
  if (!previous_role_id.empty() && previous_role_id != role.role_id) {
    ASSIGN_OR_RETURN(std::string old_hmac, store.Hmac(storage, previous_role_id));
    ops.push_back({logical::TxnOp::Kind::kDelete, kRoleIdPrefix + old_hmac, ""});
  }
  ops.push_back({logical::TxnOp::Kind::kPut, RoleKey(role.name), EncodeRole(role)});
  if (!holder) {
    ASSIGN_OR_RETURN(std::string new_hmac, store.Hmac(storage, role.role_id));
    ops.push_back({logical::TxnOp::Kind::kPut, kRoleIdPrefix + new_hmac, json{{"name", role.name}}.dump()});
  }
  return storage.Transaction(ops);
}

namespace {

StatusOr<Response> HandleRoleWrite(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::unique_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> existing, LoadRole(*storage, name));
  const bool create = !existing;
  if (create && req.operation != Operation::kCreate) {
    return InvalidArgument("role name \"" + name + "\" doesn't exist");
  }
  Role role = existing ? std::move(*existing) : Role{};
  role.name = name;
  std::vector<std::string> warnings;

  // Vault's backwards-compatible spelling; TokenFields reads it as "default".
  const bool default_service = fields.Has("token_type") && fields.GetString("token_type") == "default-service";
  RETURN_IF_ERROR(role.token.Update(fields));
  if (default_service) {
    role.token.type = "service";
    warnings.push_back("default-service has no useful meaning; adjusting to service");
  }

  if (fields.Has("local_secret_ids")) {
    if (!create) return InvalidArgument("local_secret_ids can only be modified during role creation");
    role.local_secret_ids = fields.GetBool("local_secret_ids");
  }

  const std::string previous_role_id = role.role_id;
  if (fields.Has("role_id")) {
    role.role_id = fields.GetString("role_id");
  } else if (create) {
    role.role_id = crypto::GenerateUuid();
  }
  if (role.role_id.empty()) return InvalidArgument("invalid role_id supplied, or failed to generate a role_id");

  if (fields.Has("bind_secret_id") || create) role.bind_secret_id = fields.GetBool("bind_secret_id");

  // secret_id_bound_cidrs wins over its deprecated name bound_cidr_list.
  for (const char* field : {"secret_id_bound_cidrs", "bound_cidr_list"}) {
    if (!fields.Has(field)) continue;
    ASSIGN_OR_RETURN(role.secret_id_bound_cidrs,
                     ParseCidrs(fields.GetStringSlice(field), field, "invalid CIDR blocks"));
    break;
  }

  if (fields.Has("secret_id_num_uses")) role.secret_id_num_uses = fields.GetInt("secret_id_num_uses");
  if (role.secret_id_num_uses < 0) return InvalidArgument("secret_id_num_uses cannot be negative");
  if (fields.Has("secret_id_ttl")) role.secret_id_ttl = fields.GetDurationSeconds("secret_id_ttl");
  if (role.secret_id_ttl < 0) return InvalidArgument("secret_id_ttl cannot be negative");

  // The deprecated policies/period, as Vault's tokenutil.UpgradeValue maps them: the old name
  // alone sets both; the new name clears the old one unless both were given.
  if (!fields.Has("token_policies")) {
    if (fields.Has("policies")) {
      role.policies = logical::NormalizePolicyNames(fields.GetStringSlice("policies"));
      role.token.policies = role.policies;
    }
  } else {
    role.policies = fields.Has("policies") ? role.token.policies : std::vector<std::string>{};
  }
  if (!fields.Has("token_period")) {
    if (fields.Has("period")) {
      role.period = fields.GetDurationSeconds("period");
      if (role.period < 0) return InvalidArgument("'period' cannot be negative");
      role.token.period = role.period;
    }
  } else {
    role.period = fields.Has("period") ? role.token.period : 0;
  }

  if (role.period > store.max_lease_ttl()) {
    return InvalidArgument("period of \"" + FormatDuration(role.period) +
                           "\" is greater than the backend's maximum lease TTL of \"" +
                           FormatDuration(store.max_lease_ttl()) + "\"");
  }
  if (role.token.max_ttl > store.max_lease_ttl()) {
    warnings.push_back(
        "token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be "
        "truncated");
  }

  RETURN_IF_ERROR(SaveRole(store, *storage, role, previous_role_id));
  Response resp;
  resp.warnings = std::move(warnings);
  return resp;
}

StatusOr<Response> HandleRoleRead(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  if (!role) return NotFound();
  json data = {{"bind_secret_id", role->bind_secret_id},
               {"secret_id_bound_cidrs",
                role->secret_id_bound_cidrs.empty() ? json(nullptr) : json(role->secret_id_bound_cidrs)},
               {"secret_id_num_uses", role->secret_id_num_uses},
               {"secret_id_ttl", role->secret_id_ttl},
               {"local_secret_ids", role->local_secret_ids}};
  role->token.AddToResponse(&data);
  if (!role->policies.empty()) data["policies"] = role->policies;
  if (role->period != 0) data["period"] = role->period;
  Response resp = Response::WithData(std::move(data));
  if (!HasConstraint(*role)) {
    resp.warnings.push_back(
        "Role does not have any constraints set on it. Updates to this role will require a constraint to be set");
  }
  return resp;
}

StatusOr<Response> HandleRoleDelete(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::unique_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  if (!role) return Response();

  // Its secret IDs (and their accessor indexes) go first, so none outlives the role.
  ASSIGN_OR_RETURN(std::string role_hmac, store.Hmac(*storage, name));
  const std::string prefix = std::string(kSecretIdPrefix) + role_hmac + "/";
  ASSIGN_OR_RETURN(std::vector<std::string> secret_hmacs, storage->List(prefix));
  for (const std::string& secret_hmac : secret_hmacs) {
    std::unique_lock secret_lock(store.SecretLock(secret_hmac));
    const std::string key = prefix + secret_hmac;
    auto entry = LoadSecretId(*storage, key);
    std::string accessor = entry.ok() && *entry ? (*entry)->accessor : "";
    RETURN_IF_ERROR(DeleteSecretId(store, *storage, key, accessor));
  }

  std::lock_guard role_ids(store.RoleIdMutex());
  ASSIGN_OR_RETURN(std::string role_id_hmac, store.Hmac(*storage, role->role_id));
  RETURN_IF_ERROR(storage->Transaction({{logical::TxnOp::Kind::kDelete, kRoleIdPrefix + role_id_hmac, ""},
                                        {logical::TxnOp::Kind::kDelete, RoleKey(name), ""}}));
  return Response();
}

StatusOr<Response> HandleRoleList(Request& req, const FieldData&) {
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage->List(kRolePrefix));
  if (keys.empty()) return NotFound();
  return Response::WithData(json{{"keys", keys}});
}

StatusOr<bool> RoleExists(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  return role.has_value();
}

StatusOr<Response> HandleRoleIdRead(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  if (!role) return NotFound();
  return Response::WithData(json{{"role_id", role->role_id}});
}

StatusOr<Response> HandleRoleIdUpdate(Store& store, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::unique_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  if (!role) return NotFound("unsupported path");
  const std::string previous = role->role_id;
  role->role_id = fields.GetString("role_id");
  if (role->role_id.empty()) return InvalidArgument("missing role_id");
  RETURN_IF_ERROR(SaveRole(store, *storage, *role, previous));
  return Response();
}

const logical::Field kRoleNameField{"role_name", FieldType::kString, "Name of the role. Must be less than 4096 bytes."};

constexpr char kRoleSynopsis[] = "Register an role with the backend.";
constexpr char kRoleDescription[] =
    "A role can represent a service, a machine or anything that can be IDed. The set of policies on "
    "the role defines access to the role, meaning, any Vault token with a policy set that is a "
    "superset of the policies on the role registered here will have access to the role. If a "
    "SecretID is desired to be generated against only this specific role, it can be done via "
    "'role/<role_name>/secret-id' and 'role/<role_name>/custom-secret-id' endpoints. The properties "
    "of the SecretID created against the role and the properties of the token issued with the "
    "SecretID generated against the role, can be configured using the fields of this endpoint.";

}  // namespace

std::vector<logical::Path> RolePaths(std::shared_ptr<Store> store) {
  std::vector<logical::Field> role_fields = {
      kRoleNameField,
      {"bind_secret_id", FieldType::kBool,
       "Impose secret_id to be presented when logging in using this role. Defaults to 'true'.", true},
      {"bound_cidr_list", FieldType::kStringSlice, "Use \"secret_id_bound_cidrs\" instead."},
      {"secret_id_bound_cidrs", FieldType::kStringSlice,
       "Comma separated string or list of CIDR blocks. If set, specifies the blocks of IP addresses which can "
       "perform the login operation."},
      {"policies", FieldType::kStringSlice,
       "Use \"token_policies\" instead. If this and \"token_policies\" are both specified, only "
       "\"token_policies\" will be used."},
      {"secret_id_num_uses", FieldType::kInt,
       "Number of times a SecretID can access the role, after which the SecretID will expire. Defaults to 0 "
       "meaning that the the secret_id is of unlimited use."},
      {"secret_id_ttl", FieldType::kDuration,
       "Duration in seconds after which the issued SecretID should expire. Defaults to 0, meaning no "
       "expiration."},
      {"period", FieldType::kDuration,
       "Use \"token_period\" instead. If this and \"token_period\" are both specified, only \"token_period\" "
       "will be used."},
      {"role_id", FieldType::kString, "Identifier of the role. Defaults to a UUID."},
      {"local_secret_ids", FieldType::kBool,
       "If set, the secret IDs generated using this role will be cluster local. This can only be set during "
       "role creation and once set, it can't be reset later."},
  };
  logical::TokenFields::AddFieldsTo(&role_fields);

  auto write = [store](Request& req, const FieldData& f) { return HandleRoleWrite(*store, req, f); };
  std::vector<logical::Path> paths;
  paths.push_back(logical::Path{
      .pattern = "role/?",
      .operations = {{Operation::kList, HandleRoleList}},
      .help_synopsis = "Lists all the roles registered with the backend.",
      .help_description = "The list will contain the names of the roles.",
  });
  paths.push_back(logical::Path{
      .pattern = "role/{role_name}",
      .fields = std::move(role_fields),
      .operations = {{Operation::kCreate, write},
                     {Operation::kUpdate, write},
                     {Operation::kRead,
                      [store](Request& req, const FieldData& f) { return HandleRoleRead(*store, req, f); }},
                     {Operation::kDelete,
                      [store](Request& req, const FieldData& f) { return HandleRoleDelete(*store, req, f); }}},
      .existence_check = [store](Request& req, const FieldData& f) { return RoleExists(*store, req, f); },
      .help_synopsis = kRoleSynopsis,
      .help_description = kRoleDescription,
  });
  auto role_id_update = [store](Request& req, const FieldData& f) { return HandleRoleIdUpdate(*store, req, f); };
  paths.push_back(logical::Path{
      .pattern = "role/{role_name}/role-id",
      .fields = {kRoleNameField, {"role_id", FieldType::kString, "Identifier of the role. Defaults to a UUID."}},
      .operations = {{Operation::kRead,
                      [store](Request& req, const FieldData& f) { return HandleRoleIdRead(*store, req, f); }},
                     {Operation::kUpdate, role_id_update},
                     {Operation::kCreate, role_id_update}},
      .help_synopsis = "Returns the 'role_id' of the role.",
      .help_description = "If login is performed from an role, then its 'role_id' should be presented as a "
                          "credential during the login. This 'role_id' can be retrieved using this endpoint.",
  });
  return paths;
}

}  // namespace coffer::approle
