// `token create|lookup|renew|revoke|capabilities`, with Vault's flags and output.
#include <coffer/client.h>

#include <algorithm>

#include "base/duration.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/registry.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

constexpr const char* kTokenHelp =
    "Usage: {{prog}} token <subcommand> [options] [args]\n\n"
    "  This command groups subcommands for interacting with tokens. Users can\n"
    "  create, lookup, renew, and revoke tokens.\n\n"
    "  Create a new token:\n\n"
    "      $ {{prog}} token create\n\n"
    "  Revoke a token:\n\n"
    "      $ {{prog}} token revoke 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n"
    "  Renew a token:\n\n"
    "      $ {{prog}} token renew 96ddf4bc-d217-f3ba-f9bd-017055595017";

std::string TrimSpace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Prints a response as Vault's OutputSecret does, or one field of it with -field.
int OutputSecretOrField(Context& ctx, const client::Response& r) {
  if (!ctx.options().field.empty()) {
    return ctx.OutputField(SecretField(r.body, ctx.options().field), ctx.options().field);
  }
  return ctx.OutputSecret(r.body);
}

// ---- create ------------------------------------------------------------------------------------

class TokenCreateCommand : public Command {
 public:
  std::string Synopsis() const override { return "Create a new token"; }
  std::string Help() const override {
    return "Usage: {{prog}} token create [options]\n\n"
           "  Creates a new token that can be used for authentication. This token will be\n"
           "  created as a child of the currently authenticated token. The generated token\n"
           "  will inherit all policies and permissions of the currently authenticated\n"
           "  token unless you explicitly define a subset list policies to assign to the\n"
           "  token.\n\n"
           "  A ttl can also be associated with the token. If a ttl is not associated\n"
           "  with the token, then it cannot be renewed. If a ttl is associated with the\n"
           "  token, it will expire after that amount of time unless it is renewed.\n\n"
           "  Metadata associated with the token (specified with \"-metadata\") is written\n"
           "  to the audit log when the token is used.\n\n"
           "  Create a token attached to specific policies:\n\n"
           "      $ {{prog}} token create -policy=admin -policy=security\n\n"
           "  Create a periodic token:\n\n"
           "      $ {{prog}} token create -period=30m";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.String("id", &id_,
             "Value for the token. By default, this is an auto-generated string. Specifying this "
             "value requires sudo permissions.");
    f.String("display-name", &display_name_,
             "Name to associate with this token. This is a non-sensitive value that can be used "
             "to help identify created secrets (e.g. prefixes).");
    f.Duration("ttl", &ttl_,
               "Initial TTL to associate with the token. Token renewals may be able to extend "
               "beyond this value, depending on the configured maximum TTLs. This is specified as a "
               "numeric string with suffix like \"30s\" or \"5m\".");
    f.Duration("explicit-max-ttl", &explicit_max_ttl_,
               "Explicit maximum lifetime for the token. Unlike normal TTLs, the maximum TTL is a "
               "hard limit and cannot be exceeded. This is specified as a numeric string with suffix "
               "like \"30s\" or \"5m\".");
    f.Duration("period", &period_,
               "If specified, every renewal will use the given period. Periodic tokens do not "
               "expire (unless -explicit-max-ttl is also provided). Setting this value requires sudo "
               "permissions. This is specified as a numeric string with suffix like \"30s\" or "
               "\"5m\".");
    f.Bool("renewable", &renewable_, "Allow the token to be renewed up to its maximum TTL. The default is true.");
    f.Bool("orphan", &orphan_,
           "Create the token with no parent. This prevents the token from being revoked when the "
           "token which created it expires. Setting this value requires root or sudo permissions.");
    f.Bool("no-default-policy", &no_default_policy_,
           "Detach the \"default\" policy from the policy set for this token.");
    f.Int("use-limit", &use_limit_,
          "Number of times this token can be used. After the last use, the token is automatically "
          "revoked. By default, tokens can be used an unlimited number of times until their "
          "expiration.");
    f.String("role", &role_,
             "Name of the role to create the token against. Specifying -role may override other "
             "arguments. The locally authenticated token must have permission for "
             "\"auth/token/create/<role>\".");
    f.String("type", &type_, "The type of token to create. Can be \"service\" or \"batch\". The default is service.");
    f.StringMap("metadata", &metadata_,
                "Arbitrary key=value metadata to associate with the token. This metadata will show "
                "in the audit log when the token is used. This can be specified multiple times to "
                "add multiple pieces of metadata.");
    f.StringList("policy", &policies_,
                 "Name of a policy to associate with this token. This can be specified multiple "
                 "times to attach multiple policies.");
    f.String("entity-alias", &entity_alias_,
             "Name of the entity alias to associate with during token creation. Only works in "
             "combination with -role.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (type_ != "service" && type_ != "batch") {
      return ctx.UsageError("invalid value \"" + type_ + "\" for flag -type: must be \"service\" or \"batch\"");
    }
    if (use_limit_ < 0) return ctx.UsageError("invalid value for flag -use-limit: must not be negative");
    if (type_ == "batch") renewable_ = false;
    json body = json::object();
    if (!id_.empty()) body["id"] = id_;
    if (!policies_.empty()) body["policies"] = policies_;
    if (!metadata_.empty()) body["meta"] = metadata_;
    if (!ttl_.empty()) body["ttl"] = ttl_;
    if (!explicit_max_ttl_.empty()) body["explicit_max_ttl"] = explicit_max_ttl_;
    if (!period_.empty()) body["period"] = period_;
    if (orphan_) body["no_parent"] = true;
    if (no_default_policy_) body["no_default_policy"] = true;
    if (!display_name_.empty()) body["display_name"] = display_name_;
    if (use_limit_ > 0) body["num_uses"] = use_limit_;
    body["renewable"] = renewable_;
    body["type"] = type_;
    if (!entity_alias_.empty()) body["entity_alias"] = entity_alias_;
    std::string path = role_.empty() ? "auth/token/create" : "auth/token/create/" + role_;
    client::Response r = ctx.Send("POST", path, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error creating token", r);
    return OutputSecretOrField(ctx, r);
  }

 private:
  std::string id_, display_name_, ttl_, explicit_max_ttl_, period_, role_, entity_alias_;
  std::string type_ = "service";
  bool renewable_ = true;
  bool orphan_ = false;
  bool no_default_policy_ = false;
  int64_t use_limit_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> policies_;
};

// ---- lookup ------------------------------------------------------------------------------------

class TokenLookupCommand : public Command {
 public:
  std::string Synopsis() const override { return "Display information about a token"; }
  std::string Help() const override {
    return "Usage: {{prog}} token lookup [options] [TOKEN | ACCESSOR]\n\n"
           "  Displays information about a token or accessor. If a TOKEN is not provided,\n"
           "  the locally authenticated token is used.\n\n"
           "  Get information about the locally authenticated token:\n\n"
           "      $ {{prog}} token lookup\n\n"
           "  Get information about a token via its accessor:\n\n"
           "      $ {{prog}} token lookup -accessor 9793c9b3-e04a-46f3-e7b8-748d7da248da";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("accessor", &accessor_,
           "Treat the argument as an accessor instead of a token. When this option is selected, "
           "the output will NOT include the token.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (accessor_ && args.size() != 1) {
      return ctx.UsageError(std::string(args.empty() ? "Not enough" : "Too many") +
                            " arguments with -accessor (expected 1, got " + std::to_string(args.size()) + ")");
    }
    if (args.size() > 1) {
      return ctx.UsageError("Too many arguments (expected 0-1, got " + std::to_string(args.size()) + ")");
    }
    std::string token = args.empty() ? "" : TrimSpace(args[0]);
    client::Response r;
    if (token.empty()) {
      r = ctx.Send("GET", "auth/token/lookup-self");
    } else if (accessor_) {
      json body = {{"accessor", token}};
      r = ctx.Send("POST", "auth/token/lookup-accessor", &body);
    } else {
      json body = {{"token", token}};
      r = ctx.Send("POST", "auth/token/lookup", &body);
    }
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error looking up token", r);
    return OutputSecretOrField(ctx, r);
  }

 private:
  bool accessor_ = false;
};

// ---- renew -------------------------------------------------------------------------------------

class TokenRenewCommand : public Command {
 public:
  std::string Synopsis() const override { return "Renew a token lease"; }
  std::string Help() const override {
    return "Usage: {{prog}} token renew [options] [TOKEN]\n\n"
           "  Renews a token's lease, extending the amount of time it can be used. If a\n"
           "  TOKEN is not provided, the locally authenticated token is used. Lease renewal\n"
           "  will fail if the token is not renewable, the token has already been revoked,\n"
           "  or if the token has already reached its maximum TTL.\n\n"
           "  Renew a token (this uses the /auth/token/renew endpoint and permission):\n\n"
           "      $ {{prog}} token renew 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n"
           "  Renew the currently authenticated token (this uses the /auth/token/renew-self\n"
           "  endpoint and permission):\n\n"
           "      $ {{prog}} token renew\n\n"
           "  Renew a token requesting a specific increment value:\n\n"
           "      $ {{prog}} token renew -increment=30m 96ddf4bc-d217-f3ba-f9bd-017055595017";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("accessor", &accessor_,
           "Treat the argument as an accessor instead of a token. When this option is selected, "
           "the output will NOT include the token.");
    f.Duration("increment", &increment_,
               "Request a specific increment for renewal. This increment may not be honored, for "
               "instance in the case of periodic tokens. If not supplied, the default TTL is used. "
               "This is specified as a numeric string with suffix like \"30s\" or \"5m\".");
    f.Duration("i", &increment_alias_, "Alias for -increment.");
    f.Hide("i");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.size() > 1)
      return ctx.UsageError("Too many arguments (expected 1, got " + std::to_string(args.size()) + ")");
    if (accessor_ && args.empty()) return ctx.UsageError("Not enough arguments with -accessor (expected 1, got 0)");
    std::string inc_text = !increment_alias_.empty() ? increment_alias_ : increment_;
    int64_t increment = 0;
    if (!inc_text.empty()) {
      auto secs = ParseDurationSeconds(inc_text);
      if (!secs.ok())
        return ctx.UsageError("invalid value \"" + inc_text + "\" for flag -increment: " + secs.status().message());
      increment = *secs;
    }
    std::string token = args.empty() ? "" : TrimSpace(args[0]);
    client::Response r;
    if (token.empty()) {
      json body = {{"increment", increment}};
      r = ctx.Send("PUT", "auth/token/renew-self", &body);
    } else if (accessor_) {
      json body = {{"accessor", token}, {"increment", increment}};
      r = ctx.Send("PUT", "auth/token/renew-accessor", &body);
    } else {
      json body = {{"token", token}, {"increment", increment}};
      r = ctx.Send("PUT", "auth/token/renew", &body);
    }
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error renewing token", r);
    return OutputSecretOrField(ctx, r);
  }

 private:
  bool accessor_ = false;
  std::string increment_;
  std::string increment_alias_;
};

// ---- revoke ------------------------------------------------------------------------------------

class TokenRevokeCommand : public Command {
 public:
  std::string Synopsis() const override { return "Revoke a token and its children"; }
  std::string Help() const override {
    return "Usage: {{prog}} token revoke [options] [TOKEN | ACCESSOR]\n\n"
           "  Revokes authentication tokens and their children. If a TOKEN is not provided,\n"
           "  the -self flag must be specified to revoke the locally authenticated token.\n\n"
           "  The -mode flag can be used to control the behavior of the revocation:\n"
           "  \"orphan\" revokes only the token and leaves its children as orphans; \"path\"\n"
           "  revokes every token created under the given authentication path prefix.\n\n"
           "  Revoke a token and all the token's children:\n\n"
           "      $ {{prog}} token revoke 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n"
           "  Revoke a token leaving the token's children:\n\n"
           "      $ {{prog}} token revoke -mode=orphan 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n"
           "  Revoke a token by accessor:\n\n"
           "      $ {{prog}} token revoke -accessor 9793c9b3-e04a-46f3-e7b8-748d7da248da";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("accessor", &accessor_, "Treat the argument as an accessor instead of a token.");
    f.Bool("self", &self_, "Perform the revocation on the currently authenticated token.");
    f.String("mode", &mode_,
             "Type of revocation to perform. If unspecified, the token and all of the token's "
             "children are revoked. If \"orphan\", only the token is revoked, leaving the children as "
             "orphans. If \"path\", tokens created from the given authentication path prefix are "
             "deleted along with their children.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (mode_ != "" && mode_ != "orphan" && mode_ != "path") {
      return ctx.UsageError("Invalid mode: " + mode_ + " (expected \"orphan\" or \"path\")");
    }
    const std::string n = std::to_string(args.size());
    if (self_ && !args.empty()) return ctx.UsageError("Too many arguments with -self (expected 0, got " + n + ")");
    if (!self_ && args.size() > 1) return ctx.UsageError("Too many arguments (expected 1 or -self, got " + n + ")");
    if (!self_ && args.empty()) return ctx.UsageError("Not enough arguments (expected 1 or -self, got 0)");
    if (self_ && accessor_) return ctx.UsageError("Cannot use -self with -accessor!");
    if (self_ && !mode_.empty()) return ctx.UsageError("Cannot use -self with -mode!");
    if (accessor_ && !mode_.empty()) return ctx.UsageError("Cannot use -accessor with -mode=" + mode_ + "!");

    std::string token = args.empty() ? "" : TrimSpace(args[0]);
    client::Response r;
    if (self_) {
      r = ctx.Send("PUT", "auth/token/revoke-self");
    } else if (accessor_) {
      json body = {{"accessor", token}};
      r = ctx.Send("PUT", "auth/token/revoke-accessor", &body);
    } else if (mode_ == "orphan") {
      json body = {{"token", token}};
      r = ctx.Send("PUT", "auth/token/revoke-orphan", &body);
    } else if (mode_ == "path") {
      r = ctx.Send("PUT", "sys/leases/revoke-prefix/" + token);
    } else {
      json body = {{"token", token}};
      r = ctx.Send("PUT", "auth/token/revoke", &body);
    }
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error revoking token", r);
    ctx.Info("Success! Revoked token (if it existed)");
    return kExitOk;
  }

 private:
  bool accessor_ = false;
  bool self_ = false;
  std::string mode_;
};

// ---- capabilities ------------------------------------------------------------------------------

class TokenCapabilitiesCommand : public Command {
 public:
  std::string Synopsis() const override { return "Print capabilities of a token on a path"; }
  std::string Help() const override {
    return "Usage: {{prog}} token capabilities [options] [TOKEN | ACCESSOR] PATH\n\n"
           "  Fetches the capabilities of a token or accessor for a given path. If a TOKEN\n"
           "  is provided as an argument, the \"/sys/capabilities\" endpoint and permission\n"
           "  is used. If an ACCESSOR is provided, the \"/sys/capabilities-accessor\" endpoint\n"
           "  and permission is used with the -accessor flag. If no TOKEN is provided, the\n"
           "  \"/sys/capabilities-self\" endpoint and permission is used with the locally\n"
           "  authenticated token.\n\n"
           "  List capabilities for the local token on the \"secret/foo\" path:\n\n"
           "      $ {{prog}} token capabilities secret/foo\n\n"
           "  List capabilities for a token on the \"cubbyhole/foo\" path:\n\n"
           "      $ {{prog}} token capabilities 96ddf4bc-d217-f3ba-f9bd-017055595017 cubbyhole/foo";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("accessor", &accessor_, "Treat the argument as an accessor instead of a token.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.empty()) return ctx.UsageError("Not enough arguments (expected 1-2, got 0)");
    if (args.size() > 2)
      return ctx.UsageError("Too many arguments (expected 1-2, got " + std::to_string(args.size()) + ")");
    if (accessor_ && args.size() != 2) return ctx.UsageError("Not enough arguments with -accessor (expected 2, got 1)");
    std::string path = args.size() == 1 ? args[0] : args[1];
    std::string token = args.size() == 2 ? TrimSpace(args[0]) : "";
    client::Response r;
    if (token.empty()) {
      json body = {{"paths", {path}}};
      r = ctx.Send("POST", "sys/capabilities-self", &body);
    } else if (accessor_) {
      json body = {{"accessor", token}, {"paths", {path}}};
      r = ctx.Send("POST", "sys/capabilities-accessor", &body);
    } else {
      json body = {{"token", token}, {"paths", {path}}};
      r = ctx.Send("POST", "sys/capabilities", &body);
    }
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error listing capabilities", r);
    // The list is under data[path] (and, for one path, data.capabilities); sys/ responses also
    // repeat data at the top level.
    const json& data = r.body.contains("data") && r.body["data"].is_object() ? r.body["data"] : r.body;
    const json* caps = nullptr;
    if (data.contains(path) && data[path].is_array())
      caps = &data[path];
    else if (data.contains("capabilities") && data["capabilities"].is_array())
      caps = &data["capabilities"];
    if (!caps) return ctx.Error("No capabilities found");
    std::vector<std::string> list;
    for (const auto& c : *caps) {
      if (c.is_string()) list.push_back(c.get<std::string>());
    }
    if (ctx.options().format == "table") {
      std::sort(list.begin(), list.end());
      std::string line;
      for (size_t i = 0; i < list.size(); ++i) line += (i ? ", " : "") + list[i];
      ctx.Info(line);
      return kExitOk;
    }
    return ctx.OutputData(json(list));
  }

 private:
  bool accessor_ = false;
};

}  // namespace

void RegisterTokenCommands(Registry& r) {
  r.AddGroup("token", "Interact with tokens", kTokenHelp);
  r.Add<TokenCreateCommand>("token create");
  r.Add<TokenLookupCommand>("token lookup");
  r.Add<TokenRenewCommand>("token renew");
  r.Add<TokenRevokeCommand>("token revoke");
  r.Add<TokenCapabilitiesCommand>("token capabilities");
}

}  // namespace coffer::cli
