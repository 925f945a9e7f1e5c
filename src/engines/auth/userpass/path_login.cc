// login/:username (unauthenticated): checks the password and answers who logged in.
#include "base/cidr.h"
#include "engines/auth/userpass/paths.h"
#include "engines/auth/userpass/user_entry.h"

namespace coffer::userpass {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

// Vault's text for both a wrong password and an unknown user: the two must be indistinguishable.
constexpr char kInvalidCredentials[] = "invalid username or password";

// The IP of a remote address as the HTTP layer reports it ("10.0.0.1:5000", "[::1]:5000"); a
// bare address is returned unchanged.
std::string_view HostOf(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    size_t close = remote.find(']');
    return close == std::string_view::npos ? remote : remote.substr(1, close - 1);
  }
  size_t colon = remote.find(':');
  if (colon != std::string_view::npos && remote.find(':', colon + 1) == std::string_view::npos) {
    return remote.substr(0, colon);
  }
  return remote;
}

StatusOr<Response> HandleLogin(const State& state, Request& req, const FieldData& fields) {
  const std::string password = fields.GetString("password");
  if (password.empty()) return InvalidArgument("missing password");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));

  // A name that cannot exist is an unknown user, not a different error.
  auto name = NormalizeUsername(fields.GetString("username"));
  std::optional<UserEntry> user;
  if (name.ok()) {
    ASSIGN_OR_RETURN(user, LoadUser(*storage, *name));
  }
  // Unknown users (and users without a password) are checked against the dummy record, so a
  // failure costs one scrypt hash whether or not the user exists.
  const bool known = user.has_value() && user->password.has_value();
  const PasswordHash& stored = known ? *user->password : state.dummy;
  ASSIGN_OR_RETURN(bool match, VerifyPassword(password, stored));
  if (!match || !known) return InvalidArgument(kInvalidCredentials);

  // As Vault's userpass: with token_bound_cidrs set, a login from elsewhere is refused outright
  // (after the password check, so the answer reveals nothing about unknown users).
  if (!user->token.bound_cidrs.empty() && !AddressAllowed(user->token.bound_cidrs, HostOf(req.remote_address))) {
    return PermissionDenied();
  }

  logical::Auth auth;
  user->token.PopulateAuth(&auth);
  auth.metadata = {{"username", *name}};
  auth.display_name = *name;
  auth.alias.name = *name;
  Response resp;
  resp.login = std::move(auth);
  return resp;
}

}  // namespace

logical::Path LoginPath(std::shared_ptr<State> state) {
  auto login = [state](Request& req, const FieldData& fields) { return HandleLogin(*state, req, fields); };
  return logical::Path{
      .pattern = "login/{username}",
      .fields = {{.name = "username", .type = FieldType::kString, .description = "Name of the user."},
                 {.name = "password", .type = FieldType::kString, .description = "Password of the user."}},
      .operations = {{Operation::kCreate, login}, {Operation::kUpdate, login}},
      .help_synopsis = "Log in with a user name and password.",
      .help_description =
          "Checks the password of the user and, on success, issues a token with the user's token_* "
          "settings. A wrong password and an unknown user get the same error.",
  };
}

}  // namespace coffer::userpass
