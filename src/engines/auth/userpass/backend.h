// The userpass auth method (Vault's "userpass"): users with a password and token settings,
// managed under users/, and an unauthenticated login/<username> that answers a logical::Auth
// for the core to turn into a token. Passwords are kept only as salted scrypt hashes.
#pragma once

#include <memory>

#include "base/status.h"
#include "engines/auth/userpass/password_hash.h"
#include "logical/backend.h"

namespace coffer::userpass {

// The factory the server registers: core->RegisterAuthMethod("userpass", NewUserpassBackend).
StatusOr<std::unique_ptr<logical::Backend>> NewUserpassBackend(const logical::BackendConfig& config);

// As NewUserpassBackend, hashing new passwords with `params` (tests use a cheap cost).
StatusOr<std::unique_ptr<logical::Backend>> NewUserpassBackendWithParams(const logical::BackendConfig& config,
                                                                         const ScryptParams& params);

}  // namespace coffer::userpass
