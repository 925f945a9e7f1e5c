#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "core/core.h"
#include "server/server_command.h"

namespace coffer::cli {
namespace {

void AddServerCommand(CLI::App& app, server::ServerFlags& flags, bool& selected) {
  CLI::App* cmd = app.add_subcommand("server", "Start a Coffer server (Vault-compatible API)");
  cmd->description(
      "Start a Coffer server. Without -dev, at least one -config file is required and the server\n"
      "starts sealed: initialize it with `sys/init`, then unseal it with the key shares.\n"
      "With -dev, it starts initialized and unsealed with a single unseal key, in memory,\n"
      "listening on 127.0.0.1:8200, with KV mounted at secret/.");
  cmd->add_option("--config", flags.config_files,
                  "Path to a configuration file (HCL or JSON); repeat to merge several files");
  cmd->add_flag("--dev", flags.dev, "Enable development mode: in memory, unsealed, root token printed");
  cmd->add_option("--dev-root-token-id", flags.dev_root_token_id, "Use this root token in dev mode");
  cmd->add_option("--dev-listen-address", flags.dev_listen_address, "Address to bind in dev mode")
      ->default_str("127.0.0.1:8200");
  cmd->add_option("--dev-storage", flags.dev_storage,
                  "Keep dev-mode data in this SQLite file instead of memory");
  cmd->add_option("--log-level", flags.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "err", "error"}));
  cmd->callback([&selected] { selected = true; });
}

}  // namespace

std::vector<std::string> NormalizeFlags(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool passthrough = false;
  for (const auto& a : args) {
    if (passthrough) {
      out.push_back(a);
      continue;
    }
    if (a == "--") {
      passthrough = true;
      out.push_back(a);
      continue;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
      out.push_back("-" + a);
    } else {
      out.push_back(a);
    }
  }
  return out;
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  args = NormalizeFlags(args);

  CLI::App app("Coffer: a Vault-compatible secrets server and toolkit", "coffer");
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and exit");

  server::ServerFlags server_flags;
  bool run_server = false;
  AddServerCommand(app, server_flags, run_server);
  bool run_version = false;
  app.add_subcommand("version", "Print the Coffer version")->callback([&run_version] { run_version = true; });

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "Error: " << e.what() << "\n";
    std::cerr << "Run with -help for usage.\n";
    return 2;
  }

  if (show_version || run_version) {
    std::cout << "Coffer v" << core::kCofferVersion << " (Vault API " << core::kVaultApiVersion << ")\n";
    return 0;
  }
  if (run_server) return server::RunServer(server_flags);
  std::cout << app.help();
  return app.get_subcommands().empty() && args.empty() ? 0 : 2;
}

}  // namespace coffer::cli
