// users/:username/password: replaces a user's password (its hash and salt).
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
  const std::string password = fields.GetString("password");
  if (password.empty()) return InvalidArgument("missing password");
  // Check first, so a typo in the name costs no hash; check again under the lock below.
  ASSIGN_OR_RETURN(std::optional<UserEntry> user, LoadUser(*storage, name));
  if (!user) return InvalidArgument("username does not exist");
  ASSIGN_OR_RETURN(PasswordHash hash, HashPassword(password, state.params));

  std::lock_guard lock(state.write_mu);
  ASSIGN_OR_RETURN(user, LoadUser(*storage, name));
  if (!user) return InvalidArgument("username does not exist");
  user->password = std::move(hash);
  RETURN_IF_ERROR(SaveUser(*storage, name, *user));
  return Response();
}

}  // namespace

logical::Path UserPasswordPath(std::shared_ptr<State> state) {
  auto update = [state](Request& req, const FieldData& fields) { return HandleUpdate(*state, req, fields); };
  return logical::Path{
      .pattern = "users/{username}/password",
      .fields = {{.name = "username", .type = FieldType::kString, .description = "Name of the user."},
                 {.name = "password", .type = FieldType::kString, .description = "The new password."}},
      .operations = {{Operation::kCreate, update}, {Operation::kUpdate, update}},
      .help_synopsis = "Reset a user's password.",
      .help_description = "Replaces the password of an existing user. Tokens issued earlier stay valid.",
  };
}

}  // namespace coffer::userpass
