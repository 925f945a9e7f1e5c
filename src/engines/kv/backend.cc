#include "engines/kv/backend.h"

#include <string>

namespace coffer::kv {

StatusOr<std::unique_ptr<logical::Backend>> NewKvBackend(const logical::BackendConfig& config) {
  auto it = config.options.find("version");
  const std::string version = it == config.options.end() ? "" : it->second;
  if (version.empty() || version == "1") return NewKvV1Backend(config);
  if (version == "2") return NewKvV2Backend(config);
  std::string shown = version.size() > 16 ? version.substr(0, 16) + "..." : version;
  return InvalidArgument("invalid kv version \"" + shown + "\": allowed values are \"1\" and \"2\"");
}

}  // namespace coffer::kv
