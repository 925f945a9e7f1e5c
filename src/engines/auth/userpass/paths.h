// Internal to the userpass backend: its shared state and one Path per endpoint group.
#pragma once

#include <memory>
#include <mutex>

#include "base/status.h"
#include "engines/auth/userpass/password_hash.h"
#include "logical/framework.h"
#include "logical/request.h"
#include "logical/storage.h"

namespace coffer::userpass {

struct State {
  ScryptParams params{};  // for new password hashes
  PasswordHash dummy{};   // what logins of unknown users are checked against
  // Serializes the read-modify-write of user records (logins only read, without it).
  std::mutex write_mu{};
};

// The mount's storage view of a request; InternalError when the router left it unset.
StatusOr<logical::Storage*> StorageOf(const logical::Request& req);

logical::Path UsersListPath();                                 // LIST users/
logical::Path UsersPath(std::shared_ptr<State> state);         // users/:username
logical::Path UserPasswordPath(std::shared_ptr<State> state);  // users/:username/password
logical::Path UserPoliciesPath(std::shared_ptr<State> state);  // users/:username/policies
logical::Path LoginPath(std::shared_ptr<State> state);         // login/:username

}  // namespace coffer::userpass
