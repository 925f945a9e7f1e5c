// How the vault source gets and keeps a token without a human: machine login from the
// environment (AppRole, Kubernetes) when there is no VAULT_TOKEN / ~/.vault-token, and Sindri's
// renewal rule (renew when under an hour is left). Shared by the CLI and SecretsManager.
#pragma once

#include <string>

#include "resolver/config.h"

namespace coffer::client { class VaultClient; }

namespace coffer::resolver {

// The service-account token file inside a Kubernetes pod.
inline constexpr char kDefaultK8sTokenPath[] = "/var/run/secrets/kubernetes.io/serviceaccount/token";

struct VaultLogin {
  bool attempted = false;  // VAULT_ROLE_ID or VAULT_K8S_ROLE was set
  std::string method;      // "AppRole (VAULT_ROLE_ID)" or "Kubernetes (VAULT_K8S_ROLE)"
  std::string error;       // "" when the login succeeded; never contains a credential
  bool unreachable = false;  // no HTTP answer: the vault source is unavailable (fallbacks apply)
};

// With VAULT_ROLE_ID set: POST auth/<VAULT_APPROLE_MOUNT or "approle">/login {role_id,
// secret_id: VAULT_SECRET_ID (may be unset when the role does not bind secret IDs)}. Else with
// VAULT_K8S_ROLE set: POST auth/<VAULT_K8S_MOUNT or "kubernetes">/login {role, jwt: the content
// of VAULT_K8S_TOKEN_PATH or kDefaultK8sTokenPath}. On success the client uses the new token.
// Neither variable set: nothing happens (attempted = false).
VaultLogin LoginFromEnvironment(client::VaultClient* client, const EnvLookup& env);

// Looks the client's token up and renews it (renew-self) when it is renewable and has less than
// an hour left. Returns "" when nothing was needed or the renewal worked, else a warning line
// (with the HTTP status, never the token).
std::string RenewTokenIfExpiring(client::VaultClient* client);

}  // namespace coffer::resolver
