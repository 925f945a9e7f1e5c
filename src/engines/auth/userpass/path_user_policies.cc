// users/:username/policies: replaces a user's token policies.
#include "engines/auth/userpass/paths.h"
#include "engines/auth/userpass/user_entry.h"

namespace coffer::userpass {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

StatusOr<Response> HandleUpdate(State& state, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, NormalizeUsername(fields.GetString("username")));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::lock_guard lock(state.write_mu);
  ASSIGN_OR_RETURN(std::optional<UserEntry> user, LoadUser(*storage, name));
  if (!user) return InvalidArgument("username does not exist");
  // As Vault: token_policies wins; the deprecated alias is kept only while the client sends it.
  if (fields.Has("token_policies")) {
    user->token.policies = logical::NormalizePolicyNames(fields.GetStringSlice("token_policies"));
    user->policies = fields.Has("policies") ? user->token.policies : std::vector<std::string>{};
  } else if (fields.Has("policies")) {
    user->policies = logical::NormalizePolicyNames(fields.GetStringSlice("policies"));
    user->token.policies = user->policies;
  }
  RETURN_IF_ERROR(SaveUser(*storage, name, *user));
  return Response();
}

}  // namespace

logical::Path UserPoliciesPath(std::shared_ptr<State> state) {
  auto update = [state](Request& req, const FieldData& fields) { return HandleUpdate(*state, req, fields); };
  return logical::Path{
      .pattern = "users/{username}/policies",
      .fields = {{.name = "username", .type = FieldType::kString, .description = "Name of the user."},
                 {.name = "token_policies",
                  .type = FieldType::kStringSlice,
                  .description = "Policies of the tokens the user's logins get."},
                 {.name = "policies",
                  .type = FieldType::kStringSlice,
                  .description = "Deprecated: use \"token_policies\" instead. If both are given, only "
                                 "\"token_policies\" is used."}},
      .operations = {{Operation::kCreate, update}, {Operation::kUpdate, update}},
      .help_synopsis = "Update the policies of a user.",
      .help_description = "Replaces the token_policies of an existing user. Tokens issued earlier keep theirs.",
  };
}

}  // namespace coffer::userpass
