// The Azure Key Vault key provider (`-p azure`): a service principal signs in to Microsoft Entra
// ID with OAuth2 client credentials (AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, as
// the Azure SDKs' EnvironmentCredential reads them), then reads and writes secrets through Key
// Vault's REST API (api-version 7.4). This header is the testable seam: the environment and the
// HTTP transport are parameters; MakeAzureProvider (providers.h) passes getenv and net::Perform.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "keysync/providers.h"
#include "keysync/sync.h"
#include "net/http_call.h"

namespace coffer::keysync {

// Looks up an environment variable: nullptr when unset (getenv's contract).
using EnvLookup = std::function<const char*(const char*)>;
using HttpTransport = std::function<StatusOr<net::HttpReply>(const net::HttpCall&)>;

// Checks settings.vault_url and the AZURE_* variables; kInvalidArgument naming the setting or
// variable(s) at fault. No network call happens here: the first Fetch/Store signs in, and the
// token (or the sign-in failure) is reused by every later call of the returned provider. Fetch
// of an absent secret is kNotFound; 401/403 are kPermissionDenied naming Key Vault's error code;
// other failures kUnavailable with the status and code. Not thread-safe (one sync at a time).
StatusOr<std::unique_ptr<KeyProvider>> NewAzureProvider(const ProviderSettings& settings, const EnvLookup& env,
                                                        HttpTransport http);

// The OAuth2 scope for a vault host: the vault's parent domain + "/.default" (the resource Key
// Vault names in its challenge: myvault.vault.azure.net → https://vault.azure.net/.default,
// myvault.vault.azure.cn → https://vault.azure.cn/.default); loopback hosts, IP literals and
// names of fewer than three labels get the public cloud's https://vault.azure.net/.default.
std::string AzureTokenScope(std::string_view host);

// Key Vault secret names: 1–127 characters of [0-9a-zA-Z-]. kInvalidArgument otherwise.
Status CheckAzureSecretName(std::string_view name);

}  // namespace coffer::keysync
