#include "engines/auth/userpass/backend.h"

#include "engines/auth/userpass/paths.h"

namespace coffer::userpass {
namespace {

constexpr char kBackendHelp[] =
    "The userpass auth method lets users authenticate with a user name and a password.\n\n"
    "Operators manage users under users/ (password, token_* settings); users log in with "
    "login/<username> and receive a token carrying their policies. Passwords are stored only as "
    "salted scrypt hashes.";

}  // namespace

StatusOr<logical::Storage*> StorageOf(const logical::Request& req) {
  if (req.storage == nullptr) return InternalError("userpass: request has no storage view");
  return req.storage;
}

StatusOr<std::unique_ptr<logical::Backend>> NewUserpassBackendWithParams(const logical::BackendConfig& config,
                                                                         const ScryptParams& params) {
  (void)config;  // everything lives in the request's storage view; no mount options
  auto state = std::make_shared<State>();
  state->params = params;
  state->dummy = DummyPasswordHash(params);
  auto backend = std::make_unique<logical::FrameworkBackend>(
      std::vector<logical::Path>{LoginPath(state), UsersListPath(), UserPasswordPath(state), UserPoliciesPath(state),
                                 UsersPath(state)},
      kBackendHelp);
  backend->SetUnauthenticatedPaths({"login/*"});
  return std::unique_ptr<logical::Backend>(std::move(backend));
}

StatusOr<std::unique_ptr<logical::Backend>> NewUserpassBackend(const logical::BackendConfig& config) {
  return NewUserpassBackendWithParams(config, kDefaultScryptParams);
}

}  // namespace coffer::userpass
