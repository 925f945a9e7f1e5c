// `auth enable|disable|list|tune|help`: managing auth method mounts (sys/auth), with Vault's
// flags, messages and output. Logging in is `login` (cmd_login.cc).
#include <coffer/client.h>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/mount_flags.h"
#include "cli/output.h"
#include "cli/registry.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

// Only the mount entries (objects keyed by "path/") of a sys/auth listing.
json MountEntries(const json& data) {
  json out = json::object();
  if (!data.is_object()) return out;
  for (auto it = data.begin(); it != data.end(); ++it) {
    if (it->is_object() && !it.key().empty() && it.key().back() == '/') out[it.key()] = *it;
  }
  return out;
}

std::string Str(const json& o, const char* k) {
  if (!o.is_object() || !o.contains(k) || o[k].is_null()) return "";
  return o[k].is_string() ? o[k].get<std::string>() : GoValue(o[k]);
}

// The CLI login handlers Coffer has (Vault's `login -method=TYPE`), with their usage text, for
// `auth help TYPE`. Other methods log in with `write auth/<path>/login ...`.
const char* HandlerHelp(std::string_view type) {
  if (type == "token") {
    return R"(Usage: {{prog}} login TOKEN [CONFIG K=V...]

  The token auth method logs in directly with an existing token, for example
  one made by "{{prog}} token create" or through the API. The token is looked up
  (auth/token/lookup-self) before it is stored, unless lookup=false.

  Authenticate using a token:

      $ {{prog}} login 96ddf4bc-d217-f3ba-f9bd-017055595017

  Authenticate without looking the token up first:

      $ {{prog}} login token=96ddf4bc-d217-f3ba-f9bd-017055595017 lookup=false

Configuration:

  lookup=<bool>
      Whether to look the token up before storing it. The default is true.

  token=<string>
      The token to use. Without it the token is read from a prompt (without
      echo), or from stdin when stdin is not a terminal.)";
  }
  if (type == "userpass") {
    return R"(Usage: {{prog}} login -method=userpass [CONFIG K=V...]

  The userpass auth method authenticates users with a username and password
  kept in the server's own user database (auth/<path>/users/<name>).

  Authenticate as "sally" (the password is prompted for, without echo):

      $ {{prog}} login -method=userpass username=sally
      Password (will be hidden):

  Authenticate as "bob" with the password on the command line:

      $ {{prog}} login -method=userpass username=bob password=password

  Authenticate against a userpass method enabled at "people/":

      $ {{prog}} login -method=userpass -path=people username=sally

Configuration:

  password=<string>
      Password to use for authentication. If not provided, the CLI prompts
      for it on stdin.

  username=<string>
      Username to use for authentication.)";
  }
  return nullptr;
}

std::string Substitute(std::string text, const std::string& prog) {
  const std::string key = "{{prog}}";
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + prog.size())) {
    text.replace(pos, key.size(), prog);
  }
  return text;
}

class AuthEnableCommand : public Command {
 public:
  std::string Synopsis() const override { return "Enables a new auth method"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} auth enable [options] TYPE

  Enables a new auth method. An auth method is responsible for authenticating
  users or machines and assigning them policies with which they can access the
  server. By default the method is enabled at the path named after its TYPE;
  -path picks another one. Available types: approle, userpass, jwt (and oidc
  for JWT validation), kubernetes.

  Enable the userpass auth method at userpass/:

      $ {{prog}} auth enable userpass

  Enable the AppRole auth method at ci/ with a description and lease TTLs:

      $ {{prog}} auth enable -path=ci -description="CI jobs" \
          -default-lease-ttl=20m -max-lease-ttl=1h approle)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.String("path", &path_,
             "Place where the auth method will be accessible. This must be unique across all auth methods. "
             "This defaults to the \"type\" of the auth method. The auth method will be accessible at "
             "\"/auth/<path>\".");
    mount_.Add(f, "auth method", /*tune=*/false, /*with_version=*/false);
    f.Bool("local", &local_,
           "Mark the auth method as local-only. Local auth methods are not replicated nor removed by "
           "replication.");
    f.Bool("seal-wrap", &seal_wrap_, "Enable seal wrapping of critical values in the auth method.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    if (std::string e = mount_.Unsupported(); !e.empty()) return ctx.UsageError(e);
    std::string type = SanitizePath(args[0]);
    if (type.empty()) return ctx.UsageError("Invalid auth method type: must not be empty");
    std::string path = WithTrailingSlash(path_.empty() ? type : path_);
    if (path.empty()) return ctx.UsageError("Invalid -path: must not be empty");
    json body = {{"type", type},
                 {"description", mount_.description},
                 {"local", local_},
                 {"seal_wrap", seal_wrap_},
                 {"config", mount_.Ttls()}};
    json options = mount_.Options();
    if (!options.empty()) body["options"] = options;
    client::Response r = ctx.Send("POST", "sys/auth/" + path, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error enabling " + type + " auth", r);
    ctx.Info("Success! Enabled " + type + " auth method at: " + path);
    return kExitOk;
  }

 private:
  std::string path_;
  MountFlags mount_;
  bool local_ = false;
  bool seal_wrap_ = false;
};

class AuthDisableCommand : public Command {
 public:
  std::string Synopsis() const override { return "Disables an auth method"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} auth disable [options] PATH

  Disables an existing auth method at the given PATH. The argument corresponds
  to the PATH of the mount, not the TYPE! Once the auth method is disabled its
  path can no longer be used to authenticate.

  Every token issued through the disabled auth method is revoked immediately,
  and the method's configuration (roles, users, ...) is deleted.

  Disable the auth method at userpass/:

      $ {{prog}} auth disable userpass/)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    return DisableMount(ctx, args, "sys/auth/", "auth method");
  }
};

class AuthListCommand : public Command {
 public:
  std::string Synopsis() const override { return "Lists enabled auth methods"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} auth list [options]

  Lists the enabled auth methods on the server. This command also outputs
  information about the method including configuration and human-friendly
  descriptions. A TTL of "system" indicates that the system default is in use.

  List all enabled auth methods:

      $ {{prog}} auth list

  List all enabled auth methods with detailed output:

      $ {{prog}} auth list -detailed)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("detailed", &detailed_,
           "Print detailed information such as configuration and replication status about each auth "
           "method. This option is only applicable to table-formatted output.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("GET", "sys/auth");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error listing enabled authentications", r);
    json auths = MountEntries(SysData(r.body));
    if (ctx.options().format != "table") return ctx.OutputData(auths);
    ctx.Info(detailed_ ? Detailed(auths) : Simple(auths));
    return kExitOk;
  }

 private:
  // nlohmann's object iterates in sorted key order, as Vault sorts the paths.
  static std::string Simple(const json& auths) {
    std::vector<std::vector<std::string>> rows = {{"Path", "Type", "Accessor", "Description", "Version"}};
    for (auto it = auths.begin(); it != auths.end(); ++it) {
      rows.push_back(
          {it.key(), Str(*it, "type"), Str(*it, "accessor"), Str(*it, "description"), Str(*it, "plugin_version")});
    }
    return Table(rows);
  }
  static std::string Detailed(const json& auths) {
    std::vector<std::vector<std::string>> rows = {
        {"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Token Type", "Replication", "Seal Wrap",
         "External Entropy Access", "Options", "Description", "UUID", "Version", "Running Version", "Running SHA256",
         "Deprecation Status"}};
    for (auto it = auths.begin(); it != auths.end(); ++it) {
      const json& m = *it;
      json config = m.contains("config") && m["config"].is_object() ? m["config"] : json::object();
      auto ttl = [&](const char* k) {
        if (!config.contains(k) || !config[k].is_number() || config[k].get<int64_t>() == 0)
          return std::string("system");
        return std::to_string(config[k].get<int64_t>());
      };
      auto flag = [](const json& o, const char* k) {
        return std::string(o.contains(k) && o[k].is_boolean() && o[k].get<bool>() ? "true" : "false");
      };
      std::string plugin = Str(m, "type");
      if (plugin == "plugin") plugin = Str(config, "plugin_name");
      json options = m.contains("options") && m["options"].is_object() ? m["options"] : json::object();
      rows.push_back({it.key(), plugin, Str(m, "accessor"), ttl("default_lease_ttl"), ttl("max_lease_ttl"),
                      Str(config, "token_type"), flag(m, "local") == "true" ? "local" : "replicated",
                      flag(m, "seal_wrap"), flag(m, "external_entropy_access"), GoValue(options),
                      Str(m, "description"), Str(m, "uuid"), Str(m, "plugin_version"),
                      Str(m, "running_plugin_version"), Str(m, "running_sha256"), Str(m, "deprecation_status")});
    }
    return Table(rows);
  }

  bool detailed_ = false;
};

class AuthTuneCommand : public Command {
 public:
  std::string Synopsis() const override { return "Tunes an auth method configuration"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} auth tune [options] PATH

  Tunes the configuration options for the auth method at the given PATH. The
  argument corresponds to the PATH where the auth method is enabled, not the
  TYPE!

  Tune the default lease for the approle auth method:

      $ {{prog}} auth tune -default-lease-ttl=72h approle/)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    mount_.Add(f, "auth method", /*tune=*/true, /*with_version=*/false);
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    return TuneMount(ctx, args, mount_, "sys/auth/", "auth method");
  }

 private:
  MountFlags mount_;
};

class AuthHelpCommand : public Command {
 public:
  std::string Synopsis() const override { return "Prints usage for an auth method"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} auth help [options] TYPE | PATH

  Prints usage and help for an auth method.

    - If given a TYPE with a CLI login handler (token, userpass), this
      command prints how to log in with "{{prog}} login -method=TYPE".

    - If given a PATH, this command prints the help of the auth method
      enabled at that path (its API paths, from the server). This path must
      already exist.

  Get usage instructions for the userpass auth method:

      $ {{prog}} auth help userpass

  Print the help of the auth method enabled at my-method/:

      $ {{prog}} auth help my-method/)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    std::string type = SanitizePath(args[0]);
    if (type.empty()) return ctx.UsageError("Invalid TYPE or PATH: must not be empty");
    if (const char* help = HandlerHelp(type)) {
      ctx.Info(Substitute(help, ctx.program()));
      return kExitOk;
    }
    // Not a type with a handler: look for an auth method enabled at that path.
    client::Response r = ctx.Send("GET", "sys/auth");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error listing auth methods", r);
    std::string path = type + "/";
    json auths = MountEntries(SysData(r.body));
    if (!auths.contains(path)) return ctx.Error("No auth method available on the server at \"" + path + "\"");
    if (const char* help = HandlerHelp(Str(auths[path], "type"))) {
      ctx.Info(Substitute(help, ctx.program()));
      return kExitOk;
    }
    client::Response h = ctx.Send("GET", "auth/" + path, nullptr, {{"help", "1"}});
    if (!h.ok()) return ctx.ApiError("Error reading the help of the auth method at " + path, h);
    std::string text = h.body.is_object() ? Str(SysData(h.body), "help") : "";
    if (text.empty()) return ctx.Error("The auth method at " + path + " returned no help");
    ctx.Info(text);
    return kExitOk;
  }
};

constexpr char kAuthHelp[] = R"(Usage: {{prog}} auth <subcommand> [options] [args]

  This command groups subcommands for interacting with the server's auth
  methods. Users can list, enable, disable, tune, and get help for different
  auth methods.

  To authenticate to the server as a user or machine, use the "{{prog}} login"
  command instead. This command is for interacting with the auth methods
  themselves, not authenticating.

  List all enabled auth methods:

      $ {{prog}} auth list

  Enable a new auth method "userpass":

      $ {{prog}} auth enable userpass

  Get detailed help information about how to authenticate to a particular auth
  method:

      $ {{prog}} auth help userpass

  Please see the individual subcommand help for detailed usage information.)";

}  // namespace

void RegisterAuthCommands(Registry& r) {
  r.AddGroup("auth", "Interact with auth methods", kAuthHelp);
  r.Add<AuthEnableCommand>("auth enable");
  r.Add<AuthDisableCommand>("auth disable");
  r.Add<AuthListCommand>("auth list");
  r.Add<AuthTuneCommand>("auth tune");
  r.Add<AuthHelpCommand>("auth help");
}

}  // namespace coffer::cli
