#include "keysync/providers.h"

namespace coffer::keysync {

StatusOr<std::unique_ptr<KeyProvider>> MakeCloudProvider(const ProviderSettings& settings) {
  if (settings.provider == "aws") return MakeAwsProvider(settings);
  if (settings.provider == "azure") return MakeAzureProvider(settings);
  return InvalidArgument("-p " + settings.provider + ": expected hashicorp, aws or azure");
}

}  // namespace coffer::keysync
