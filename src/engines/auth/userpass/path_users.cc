// users/ (LIST) and users/:username (create, read, update, delete).
#include <nlohmann/json.hpp>

#include "base/cidr.h"
#include "engines/auth/userpass/paths.h"
#include "engines/auth/userpass/user_entry.h"

namespace coffer::userpass {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

StatusOr<Response> HandleList(Request& req, const FieldData&) {
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage->List(kUserPrefix));
  if (keys.empty()) return NotFound();
  return Response::WithData(json{{"keys", std::move(keys)}});
}

StatusOr<Response> HandleRead(Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, NormalizeUsername(fields.GetString("username")));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<UserEntry> user, LoadUser(*storage, name));
  if (!user) return NotFound();
  json data = json::object();
  user->token.AddToResponse(&data);
  // Vault shows a deprecated alias only when it was set (and then with the current value).
  if (user->ttl > 0) data["ttl"] = user->ttl;
  if (user->max_ttl > 0) data["max_ttl"] = user->max_ttl;
  if (!user->policies.empty()) data["policies"] = data["token_policies"];
  if (!user->bound_cidrs.empty()) data["bound_cidrs"] = user->bound_cidrs;
  return Response::WithData(std::move(data));
}

StatusOr<Response> HandleDelete(Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, NormalizeUsername(fields.GetString("username")));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  RETURN_IF_ERROR(storage->Delete(kUserPrefix + name));
  return Response();
}

// Vault's tokenutil.UpgradeValue for one deprecated alias: the token_* field wins; the alias
// keeps a value only while the client keeps sending it, so a read stops showing it once the
// client moved to the new name.
template <typename T, typename Get>
void UpgradeAlias(const FieldData& fields, const char* old_key, const char* new_key, T* old_value, T* new_value,
                  Get get_old) {
  if (fields.Has(new_key)) {
    *old_value = fields.Has(old_key) ? *new_value : T{};
  } else if (fields.Has(old_key)) {
    *old_value = get_old();
    *new_value = *old_value;
  }
}

// Applies the token_* fields and the deprecated aliases to `user`; on error `user` is unchanged.
Status ApplySettings(const FieldData& fields, UserEntry* user) {
  UserEntry next = *user;
  RETURN_IF_ERROR(next.token.Update(fields));

  std::vector<std::string> alias_cidrs;
  if (fields.Has("bound_cidrs") && !fields.Has("token_bound_cidrs")) {
    for (const std::string& c : fields.GetStringSlice("bound_cidrs")) {
      auto n = NormalizeCidr(c);
      if (!n.ok()) return InvalidArgument("field \"bound_cidrs\": " + n.status().message());
      alias_cidrs.push_back(*n);
    }
  }
  UpgradeAlias(fields, "policies", "token_policies", &next.policies, &next.token.policies,
               [&] { return logical::NormalizePolicyNames(fields.GetStringSlice("policies")); });
  UpgradeAlias(fields, "ttl", "token_ttl", &next.ttl, &next.token.ttl,
               [&] { return fields.GetDurationSeconds("ttl"); });
  UpgradeAlias(fields, "max_ttl", "token_max_ttl", &next.max_ttl, &next.token.max_ttl,
               [&] { return fields.GetDurationSeconds("max_ttl"); });
  UpgradeAlias(fields, "bound_cidrs", "token_bound_cidrs", &next.bound_cidrs, &next.token.bound_cidrs,
               [&] { return alias_cidrs; });

  // The aliases bypass TokenFields::Update's checks; repeat them for what they set.
  if (next.token.ttl < 0) return InvalidArgument("'ttl' cannot be negative");
  if (next.token.max_ttl < 0) return InvalidArgument("'max_ttl' cannot be negative");
  if (next.token.ttl > 0 && next.token.max_ttl > 0 && next.token.ttl > next.token.max_ttl) {
    return InvalidArgument("'token_ttl' cannot be greater than 'token_max_ttl'");
  }
  *user = std::move(next);
  return OkStatus();
}

StatusOr<Response> HandleWrite(State& state, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, NormalizeUsername(fields.GetString("username")));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  // Hash outside the lock: it is the slow part, and needs nothing from the stored record.
  std::optional<PasswordHash> new_hash;
  if (fields.Has("password")) {
    const std::string password = fields.GetString("password");
    if (password.empty()) return InvalidArgument("missing password");
    ASSIGN_OR_RETURN(new_hash, HashPassword(password, state.params));
  }

  std::lock_guard lock(state.write_mu);
  ASSIGN_OR_RETURN(std::optional<UserEntry> existing, LoadUser(*storage, name));
  // Creating a user needs a password, whichever operation the core chose.
  if (!existing && !new_hash) return InvalidArgument("missing password");
  UserEntry user = existing ? std::move(*existing) : UserEntry{};
  RETURN_IF_ERROR(ApplySettings(fields, &user));
  if (new_hash) user.password = std::move(new_hash);
  RETURN_IF_ERROR(SaveUser(*storage, name, user));
  return Response();
}

StatusOr<bool> UserExists(Request& req, const FieldData& fields) {
  auto name = NormalizeUsername(fields.GetString("username"));
  if (!name.ok()) return false;  // the handler reports the bad name
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<std::string> stored, storage->Get(kUserPrefix + *name));
  return stored.has_value();
}

constexpr char kSynopsis[] = "Manage the users allowed to log in.";
constexpr char kDescription[] =
    "Create, read, update and delete users. A new user needs a password; it is stored only as a "
    "salted scrypt hash and never returned. The token_* fields set what the tokens of the user's "
    "logins get (policies, TTLs, period, uses, CIDR binding, type). policies, ttl, max_ttl and "
    "bound_cidrs are deprecated aliases of token_policies, token_ttl, token_max_ttl and "
    "token_bound_cidrs; when both are given the token_* field is used.\n\n"
    "Deleting a user does not revoke the tokens its earlier logins issued.";

std::string DeprecatedText(const char* replacement) {
  return std::string("Deprecated: use \"") + replacement + "\" instead. If both are given, only \"" + replacement +
         "\" is used.";
}

}  // namespace

logical::Path UsersListPath() {
  return logical::Path{
      .pattern = "users/?",
      .operations = {{Operation::kList, HandleList}},
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  };
}

logical::Path UsersPath(std::shared_ptr<State> state) {
  auto write = [state](Request& req, const FieldData& fields) { return HandleWrite(*state, req, fields); };
  std::vector<logical::Field> schema = {
      {.name = "username", .type = FieldType::kString, .description = "Name of the user (stored lower-cased)."},
      {.name = "password", .type = FieldType::kString, .description = "Password of the user; write-only."},
      {.name = "policies", .type = FieldType::kStringSlice, .description = DeprecatedText("token_policies")},
      {.name = "ttl", .type = FieldType::kDuration, .description = DeprecatedText("token_ttl")},
      {.name = "max_ttl", .type = FieldType::kDuration, .description = DeprecatedText("token_max_ttl")},
      {.name = "bound_cidrs", .type = FieldType::kStringSlice, .description = DeprecatedText("token_bound_cidrs")},
  };
  logical::TokenFields::AddFieldsTo(&schema);
  return logical::Path{
      .pattern = "users/{username}",
      .fields = std::move(schema),
      .operations = {{Operation::kRead, HandleRead},
                     {Operation::kCreate, write},
                     {Operation::kUpdate, write},
                     {Operation::kDelete, HandleDelete}},
      .existence_check = UserExists,
      .help_synopsis = kSynopsis,
      .help_description = kDescription,
  };
}

}  // namespace coffer::userpass
