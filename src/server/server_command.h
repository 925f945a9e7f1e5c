// `coffer server`: starts the Vault-compatible server from -config files or in -dev mode.
#pragma once

#include <string>
#include <vector>

namespace coffer::server {

struct ServerFlags {
  std::vector<std::string> config_files;
  bool dev = false;
  std::string dev_root_token_id;
  std::string dev_listen_address = "127.0.0.1:8200";
  std::string dev_storage;  // sqlite path; empty = in memory
  std::string log_level;    // overrides the config's log_level when set
};

// Runs until SIGINT/SIGTERM; returns the process exit code (0 clean, 1 runtime error,
// 2 invalid configuration or flags). Prints Vault-style startup information to stdout.
int RunServer(const ServerFlags& flags);

}  // namespace coffer::server
