#include "keysync/providers.h"

namespace coffer::keysync {

StatusOr<std::unique_ptr<KeyProvider>> MakeAwsProvider(const ProviderSettings&) {
  return InvalidArgument("-p aws: not implemented yet in coffer (only hashicorp)");
}

}  // namespace coffer::keysync
