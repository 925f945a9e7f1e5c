// `secrets enable|disable|list|tune|move`: managing secrets engine mounts (sys/mounts).
#include <coffer/client.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/mount_flags.h"
#include "cli/output.h"
#include "cli/registry.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

class SecretsEnableCommand : public Command {
 public:
  std::string Synopsis() const override { return "Enable a secrets engine"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets enable [options] TYPE

  Enables a secrets engine. By default, secrets engines are enabled at the path
  corresponding to their TYPE, but users can customize the path using the
  -path option.

  Once enabled, the server will route all requests which begin with the path to
  the secrets engine.

  Enable the KV version 2 secrets engine at kv/:

      $ {{prog}} secrets enable -version=2 kv

  Enable a KV version 1 engine at a custom path with a description:

      $ {{prog}} secrets enable -path=team-a -description="Team A" kv)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.String("path", &path_,
             "Place where the secrets engine will be accessible. This must be unique cross all secrets "
             "engines. This defaults to the \"type\" of the secrets engine.");
    mount_.Add(f, "secrets engine", /*tune=*/false, /*with_version=*/true);
    f.Bool("local", &local_, "Mark the secrets engine as local-only. Local engines are not replicated.");
    f.Bool("seal-wrap", &seal_wrap_, "Enable seal wrapping of critical values in the secrets engine.");
    f.Bool("force-no-cache", &force_no_cache_,
           "Force the secrets engine to disable caching. If unspecified, this defaults to the server's "
           "globally configured cache settings.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    if (std::string e = mount_.Unsupported(); !e.empty()) return ctx.UsageError(e);
    std::string type = SanitizePath(args[0]);
    if (type.empty()) return ctx.UsageError("Invalid secrets engine type: must not be empty");
    json options = mount_.Options();
    if (type == "kv-v2") {
      type = "kv";
      if (!options.contains("version")) options["version"] = "2";
    }
    std::string path = WithTrailingSlash(path_.empty() ? args[0] : path_);
    if (path.empty()) return ctx.UsageError("Invalid -path: must not be empty");
    json body = {{"type", type}, {"description", mount_.description}, {"local", local_}, {"seal_wrap", seal_wrap_}};
    json config = mount_.Ttls();
    if (force_no_cache_) config["force_no_cache"] = true;
    body["config"] = config;
    if (!options.empty()) body["options"] = options;
    client::Response r = ctx.Send("POST", "sys/mounts/" + path, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error enabling", r);
    ctx.Info("Success! Enabled the " + type + " secrets engine at: " + path);
    return kExitOk;
  }

 private:
  std::string path_;
  MountFlags mount_;
  bool local_ = false;
  bool seal_wrap_ = false;
  bool force_no_cache_ = false;
};

class SecretsDisableCommand : public Command {
 public:
  std::string Synopsis() const override { return "Disable a secrets engine"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets disable [options] PATH

  Disables a secrets engine at the given PATH. The argument corresponds to the
  enabled PATH of the engine, not the TYPE! All secrets created by this engine
  are revoked and its data is deleted.

  Disable the secrets engine enabled at aws/:

      $ {{prog}} secrets disable aws/)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    return DisableMount(ctx, args, "sys/mounts/", "secrets engine");
  }
};

class SecretsListCommand : public Command {
 public:
  std::string Synopsis() const override { return "List enabled secrets engines"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets list [options]

  Lists the enabled secret engines on the server. This command also outputs
  information about the enabled path including configured TTLs and
  human-friendly descriptions. A TTL of "system" indicates that the system
  default is in use.

  List all enabled secrets engines:

      $ {{prog}} secrets list

  List all enabled secrets engines with detailed output:

      $ {{prog}} secrets list -detailed)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("detailed", &detailed_,
           "Print detailed information such as TTLs and replication status about each secrets engine.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("GET", "sys/mounts");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error listing secrets engines", r);
    json mounts = SysData(r.body);
    // Keep only mount entries (objects keyed by "path/").
    json clean = json::object();
    for (auto it = mounts.begin(); it != mounts.end(); ++it) {
      if (it->is_object() && !it.key().empty() && it.key().back() == '/') clean[it.key()] = *it;
    }
    if (ctx.options().format != "table") return ctx.OutputData(clean);
    ctx.Info(detailed_ ? Detailed(clean) : Simple(clean));
    return kExitOk;
  }

 private:
  static std::string Str(const json& o, const char* k) {
    if (!o.is_object() || !o.contains(k) || o[k].is_null()) return "";
    return o[k].is_string() ? o[k].get<std::string>() : GoValue(o[k]);
  }
  static std::string PluginName(const json& m) {
    std::string t = Str(m, "type");
    if (t == "plugin" && m.contains("config")) return Str(m["config"], "plugin_name");
    return t;
  }
  static std::string Simple(const json& mounts) {
    std::vector<std::vector<std::string>> rows = {{"Path", "Type", "Accessor", "Description"}};
    for (auto it = mounts.begin(); it != mounts.end(); ++it) {
      rows.push_back({it.key(), PluginName(*it), Str(*it, "accessor"), Str(*it, "description")});
    }
    return Table(rows);
  }
  static std::string Detailed(const json& mounts) {
    std::vector<std::vector<std::string>> rows = {
        {"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache", "Replication", "Seal Wrap",
         "External Entropy Access", "Options", "Description", "UUID", "Version", "Running Version", "Running SHA256",
         "Deprecation Status"}};
    for (auto it = mounts.begin(); it != mounts.end(); ++it) {
      const json& m = *it;
      json config = m.contains("config") && m["config"].is_object() ? m["config"] : json::object();
      auto ttl = [&](const char* k) {
        if (!config.contains(k) || !config[k].is_number() || config[k].get<int64_t>() == 0)
          return std::string("system");
        return std::to_string(config[k].get<int64_t>());
      };
      auto flag = [&](const json& o, const char* k) {
        return o.contains(k) && o[k].is_boolean() && o[k].get<bool>() ? "true" : "false";
      };
      json options = m.contains("options") && m["options"].is_object() ? m["options"] : json::object();
      rows.push_back({it.key(), PluginName(m), Str(m, "accessor"), ttl("default_lease_ttl"), ttl("max_lease_ttl"),
                      flag(config, "force_no_cache"), flag(m, "local") == std::string("true") ? "local" : "replicated",
                      flag(m, "seal_wrap"), flag(m, "external_entropy_access"), GoValue(options), Str(m, "description"),
                      Str(m, "uuid"), Str(m, "plugin_version"), Str(m, "running_plugin_version"),
                      Str(m, "running_sha256"), Str(m, "deprecation_status")});
    }
    return Table(rows);
  }

  bool detailed_ = false;
};

class SecretsTuneCommand : public Command {
 public:
  std::string Synopsis() const override { return "Tune a secrets engine configuration"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets tune [options] PATH

  Tunes the configuration options for the secrets engine at the given PATH.
  The argument corresponds to the PATH where the secrets engine is enabled,
  not the TYPE!

  Tune the default lease for the PKI secrets engine:

      $ {{prog}} secrets tune -default-lease-ttl=72h pki/

  Upgrade a KV version 1 mount to version 2:

      $ {{prog}} secrets tune -options=version=2 secret/)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    mount_.Add(f, "secrets engine", /*tune=*/true, /*with_version=*/true);
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    return TuneMount(ctx, args, mount_, "sys/mounts/", "secrets engine");
  }

 private:
  MountFlags mount_;
};

class SecretsMoveCommand : public Command {
 public:
  std::string Synopsis() const override { return "Move a secrets engine to a new path"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets move [options] SOURCE DESTINATION

  Moves an existing secrets engine to a new path. Any leases from the old
  secrets engine are revoked, but all configuration associated with the engine
  is preserved.

  Move the existing secrets engine at secret/ to generic/:

      $ {{prog}} secrets move secret/ generic/)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 2, 2)) return rc;
    std::string from = WithTrailingSlash(args[0]);
    std::string to = WithTrailingSlash(args[1]);
    if (from.empty() || to.empty()) return ctx.UsageError("Invalid path: SOURCE and DESTINATION must not be empty");
    json body = {{"from", from}, {"to", to}};
    client::Response r = ctx.Send("POST", "sys/remount", &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error moving secrets engine " + from + " to " + to, r);
    json data = SysData(r.body);
    std::string id = data.is_object() && data.contains("migration_id") && data["migration_id"].is_string()
                         ? data["migration_id"].get<std::string>()
                         : "";
    if (id.empty()) {
      ctx.Info("Success! Finished moving secrets engine " + from + " to " + to);
      return kExitOk;
    }
    ctx.Info("Started moving secrets engine " + from + " to " + to + ", with migration ID " + id);
    for (int attempt = 0; attempt < 600; ++attempt) {
      client::Response s = ctx.Send("GET", "sys/remount/status/" + id);
      if (!s.ok()) return ctx.ApiError("Error checking migration status of " + id, s);
      json data = SysData(s.body);
      json info = data.is_object() && data.contains("migration_info") ? data["migration_info"] : json();
      std::string status = info.is_object() && info.contains("status") && info["status"].is_string()
                               ? info["status"].get<std::string>()
                               : "";
      if (status == "success") {
        ctx.Info("Success! Finished moving secrets engine " + from + " to " + to + ", with migration ID " + id);
        return kExitOk;
      }
      if (status == "failure")
        return ctx.Error("Failure! Error encountered moving secrets engine " + from + " to " + to +
                         ", with migration ID " + id);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return ctx.Error("Timed out waiting for migration " + id);
  }
};

constexpr char kSecretsHelp[] = R"(Usage: {{prog}} secrets <subcommand> [options] [args]

  This command groups subcommands for interacting with secrets engines. Each
  secrets engine behaves differently. Please see the documentation for more
  information.

  List all enabled secrets engines:

      $ {{prog}} secrets list

  Enable a new secrets engine:

      $ {{prog}} secrets enable -version=2 kv

  Please see the individual subcommand help for detailed usage information.)";

}  // namespace

std::unique_ptr<Command> NewVaultSecretsListCommand() { return std::make_unique<SecretsListCommand>(); }

void RegisterSecretsCommands(Registry& r) {
  r.AddGroup("secrets", "Interact with secrets engines", kSecretsHelp);
  r.Add<SecretsEnableCommand>("secrets enable");
  r.Add<SecretsDisableCommand>("secrets disable");
  // `coffer secrets list` is cmd_project.cc's (project secrets or, failing that, this command).
  r.Add<SecretsListCommand>("secrets list", Personality::kVaultOnly);
  r.Add<SecretsTuneCommand>("secrets tune");
  r.Add<SecretsMoveCommand>("secrets move");
}

}  // namespace coffer::cli
