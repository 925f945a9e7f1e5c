// The cloud key providers for `coffer sync` and `dotenv decrypt --verify-vault`: AWS Secrets
// Manager and Azure Key Vault. (The hashicorp provider lives in the CLI, over the Vault client.)
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "keysync/sync.h"

namespace coffer::keysync {

// What the command line and the config say; the environment fills the rest.
struct ProviderSettings {
  std::string provider;   // "aws" or "azure"
  std::string vault_url;  // azure: https://<name>.vault.azure.net (flag, else [vault.azure] vault_url)
  std::string region;     // aws: flag, else [vault.aws] region, else the AWS environment, else us-east-1
};

// kInvalidArgument (CLI exit 2) for a setting that is missing or malformed, naming it.
StatusOr<std::unique_ptr<KeyProvider>> MakeAwsProvider(const ProviderSettings& settings);
StatusOr<std::unique_ptr<KeyProvider>> MakeAzureProvider(const ProviderSettings& settings);

// Dispatches on settings.provider ("aws" or "azure").
StatusOr<std::unique_ptr<KeyProvider>> MakeCloudProvider(const ProviderSettings& settings);

}  // namespace coffer::keysync
