// libFuzzer target: config::ParseConfig in HCL and JSON mode on arbitrary bytes. Errors must be
// InvalidArgument naming the file; errors and warnings must be valid UTF-8 (they reach JSON
// responses and logs); a parsed config must satisfy the invariants the server relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/server_config.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

void Check(const coffer::StatusOr<coffer::config::ServerConfig>& config, std::string_view filename) {
  if (!config.ok()) {
    Require(config.status().code() == coffer::StatusCode::kInvalidArgument);
    Require(config.status().message().rfind(filename, 0) == 0);
    (void)nlohmann::json(config.status().message()).dump();
    return;
  }
  for (const std::string& warning : config->warnings) (void)nlohmann::json(warning).dump();
  for (const coffer::config::ListenerConfig& listener : config->listeners) {
    Require(listener.type == "tcp");
    Require(listener.tls_disable || (!listener.tls_cert_file.empty() && !listener.tls_key_file.empty()));
  }
  if (config->storage) {
    Require(config->storage->type == "sqlite" || config->storage->type == "inmem");
    Require(config->storage->type == "inmem" || !config->storage->options.at("path").empty());
  }
  Require(config->default_lease_ttl > 0 && config->max_lease_ttl > 0);
  coffer::config::ServerConfig merged = coffer::config::MergeConfigs(*config, *config);
  Require(merged.listeners.size() == 2 * config->listeners.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(coffer::config::ParseConfig(text, "fuzz.hcl", /*json=*/false), "fuzz.hcl");
  Check(coffer::config::ParseConfig(text, "fuzz.json", /*json=*/true), "fuzz.json");
  return 0;
}
