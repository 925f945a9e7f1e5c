#include "engines/auth/approle/backend.h"

#include "engines/auth/approle/approle.h"

namespace coffer::approle {
namespace {

constexpr char kBackendHelp[] =
    "Any registered Role can authenticate itself with Vault. The credentials depends on the "
    "constraints that are set on the Role. One common required credential is the 'role_id' which "
    "is a unique identifier of the Role. It can be retrieved from the 'role/<appname>/role-id' "
    "endpoint.\n\nThe default constraint configuration is 'bind_secret_id', which requires the "
    "credential 'secret_id' to be presented during login. Refer to the documentation for other "
    "types of constraints.";

}  // namespace

StatusOr<std::unique_ptr<logical::Backend>> NewAppRoleBackendWithClock(const logical::BackendConfig& config,
                                                                       Clock clock) {
  auto store = std::make_shared<Store>(std::move(clock), config.max_lease_ttl_seconds);
  std::vector<logical::Path> paths;
  paths.push_back(LoginPath(store));
  for (auto& p : RolePaths(store)) paths.push_back(std::move(p));
  for (auto& p : RoleFieldPaths(store)) paths.push_back(std::move(p));
  for (auto& p : SecretIdPaths(store)) paths.push_back(std::move(p));
  paths.push_back(TidyPath(store));
  auto backend = std::make_unique<logical::FrameworkBackend>(std::move(paths), kBackendHelp);
  backend->SetUnauthenticatedPaths({"login"});
  return std::unique_ptr<logical::Backend>(std::move(backend));
}

StatusOr<std::unique_ptr<logical::Backend>> NewAppRoleBackend(const logical::BackendConfig& config) {
  return NewAppRoleBackendWithClock(config, nullptr);
}

}  // namespace coffer::approle
