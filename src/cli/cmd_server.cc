// `server`: starts the Vault-compatible server (the same under `coffer` and `vault`).
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"
#include "server/server_command.h"

namespace coffer::cli {
namespace {

class ServerCommand : public Command {
 public:
  std::string Synopsis() const override { return "Start a Coffer server (Vault-compatible API)"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} server [options]

  Start a Coffer server that speaks Vault's HTTP API. Without -dev, at least one
  -config file is required and the server starts sealed: initialize it with
  `{{prog}} operator init` (or sys/init), then unseal it with the key shares.

      $ {{prog}} server -config=/etc/coffer/coffer.hcl

  With -dev, it starts initialized and unsealed with a single unseal key, in
  memory, listening on 127.0.0.1:8200, with KV version 2 mounted at secret/.

      $ {{prog}} server -dev -dev-root-token-id=root)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.StringList("config", &flags_.config_files,
                 "Path to a configuration file (HCL or JSON). Repeat to merge several files.");
    f.String("log-level", &flags_.log_level, "Log verbosity: trace, debug, info, warn or error.");
    f.Section("Dev Options");
    f.Bool("dev", &flags_.dev, "Enable development mode: in memory, unsealed, root token printed.");
    f.String("dev-root-token-id", &flags_.dev_root_token_id, "Use this root token in dev mode.");
    f.String("dev-listen-address", &flags_.dev_listen_address, "Address to bind in dev mode.");
    f.String("dev-storage", &flags_.dev_storage, "Keep dev-mode data in this SQLite file instead of memory.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    static constexpr std::string_view kLevels[] = {"", "trace", "debug", "info", "warn", "warning", "err", "error"};
    bool valid = false;
    for (auto l : kLevels) valid = valid || flags_.log_level == l;
    if (!valid) {
      return ctx.UsageError("Invalid -log-level \"" + flags_.log_level + "\": use trace, debug, info, warn or error");
    }
    ctx.out().flush();
    return server::RunServer(flags_);
  }

 private:
  server::ServerFlags flags_;
};

}  // namespace

void RegisterServerCommands(Registry& r) { r.Add<ServerCommand>("server"); }

}  // namespace coffer::cli
