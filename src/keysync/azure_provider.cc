#include "keysync/providers.h"

namespace coffer::keysync {

StatusOr<std::unique_ptr<KeyProvider>> MakeAzureProvider(const ProviderSettings&) {
  return InvalidArgument("-p azure: not implemented yet in coffer (only hashicorp)");
}

}  // namespace coffer::keysync
