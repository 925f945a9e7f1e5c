// Renders resolved secrets for deployment targets (`coffer export --format ...`).
// Pure functions; the output holds secret values (except devcontainer), so callers write it only
// where the user asked (stdout, or a 0600 file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "resolver/resolver.h"

namespace coffer::resolver {

// dotenv | json | shell | k8s | compose | fly | devcontainer
const std::vector<std::string>& ExportFormats();

struct ExportOptions {
  std::string format;
  std::string name = "coffer";            // k8s Secret name prefix / compose service name
  std::string env_file = ".env.secrets";  // compose: the env_file it references
  std::string config_dir;                 // file secrets' local paths are made absolute against it
};

// Only found secrets are exported. kInvalidArgument for an unknown format or a value a format
// cannot hold (e.g. a dotenv value no quoting can represent).
StatusOr<std::string> Export(const Resolution& resolution, const ExportOptions& options);

// The env_file a compose fragment references: dotenv lines of the env secrets only.
StatusOr<std::string> ExportEnvFileForCompose(const Resolution& resolution);

// One dotenv line body `NAME=<quoted value>` that dotenvx reads back as the value.
StatusOr<std::string> DotenvLine(std::string_view name, std::string_view value);

}  // namespace coffer::resolver
