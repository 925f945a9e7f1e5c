// `login`: authenticates and stores the token in ~/.vault-token (Vault's token helper file).
// The token method is the only one so far: `login TOKEN`, `login -` (stdin), `login` (prompt).
#include <coffer/client.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/prompt.h"
#include "cli/registry.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

// Writes the token to $HOME/.vault-token atomically with mode 0600. Returns "" or one line
// describing the failure (never the token).
std::string StoreToken(std::string_view token) {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "cannot find the home directory ($HOME is not set)";
  std::string path = std::string(home) + "/.vault-token";
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + tmp + ": " + std::strerror(errno);
  fchmod(fd, 0600);
  size_t off = 0;
  while (off < token.size()) {
    ssize_t n = write(fd, token.data() + off, token.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string e = "cannot write " + tmp + ": " + std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return e;
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = "cannot replace " + path + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return e;
  }
  return "";
}

json StringArray(const json& v) {
  json out = json::array();
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(e);
  }
  return out;
}

class LoginCommand : public Command {
 public:
  std::string Synopsis() const override { return "Authenticate locally"; }
  std::string Help() const override {
    return "Usage: {{prog}} login [options] [AUTH K=V...]\n\n"
           "  Authenticates users or machines to the server using the provided arguments.\n"
           "  A successful authentication results in a token - conceptually similar to\n"
           "  a session token on a website. By default, this token is cached on the local\n"
           "  machine (in ~/.vault-token, mode 0600) for future requests.\n\n"
           "  The default auth method is \"token\". If not supplied via the CLI, the\n"
           "  token is read from a prompt (without echo) or, when stdin is not a\n"
           "  terminal, from the first line of stdin. The token is verified with\n"
           "  auth/token/lookup-self before it is stored.\n\n"
           "  Authenticate using a token:\n\n"
           "      $ {{prog}} login 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n"
           "  Read the token from stdin:\n\n"
           "      $ echo $TOKEN | {{prog}} login -\n\n"
           "  Do not store the token:\n\n"
           "      $ {{prog}} login -no-store TOKEN";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.String("method", &method_,
             "Type of authentication to use such as \"userpass\" or \"ldap\". Only \"token\" is "
             "supported so far. The default is token.",
             "", "string");
    f.String("path", &path_, "Remote path in the server where the auth method is enabled.", "", "string");
    f.Bool("no-store", &no_store_,
           "Do not persist the token to the token helper (usually the local filesystem) after "
           "authentication for use in future requests. The token will only be displayed in the "
           "command output.");
    f.Bool("no-print", &no_print_,
           "Do not display the token. The token will be still be stored to the configured token "
           "helper.");
    f.Bool("token-only", &token_only_,
           "Output only the token with no verification. This flag is a shortcut for \"-field=token "
           "-no-store\". Setting those flags to other values will have no effect.");
  }

  int Run(Context& ctx, const std::vector<std::string>& args_in) override {
    if (method_.empty()) method_ = "token";
    if (method_ != "token") {
      return ctx.UsageError("Unknown auth method: " + method_ +
                            ". Only the \"token\" method is available in this version.");
    }
    if (token_only_) {
      no_store_ = true;
      ctx.options().field = "token";
    }
    if (no_store_ && no_print_) return ctx.UsageError("-no-store and -no-print cannot be used together");

    // `login TOKEN` is shorthand for `login token=TOKEN` (and `login -` for token=-).
    std::vector<std::string> args = args_in;
    if (!args.empty() && args[0].find('=') == std::string::npos) args[0] = "token=" + args[0];
    std::string parse_error;
    auto config = ParseKeyValues(args, ctx.in(), &parse_error);
    if (!config) return ctx.UsageError("Error parsing configuration: " + parse_error);

    bool lookup = true;
    if (auto it = config->find("lookup"); it != config->end()) {
      std::string v = it->is_string() ? it->get<std::string>() : it->dump();
      if (!ParseGoBool(v, &lookup)) return ctx.UsageError("Failed to parse \"lookup\" as boolean: " + v);
    }

    SecretString token;
    if (auto it = config->find("token"); it != config->end() && it->is_string()) {
      const std::string& t = it->get_ref<const std::string&>();
      size_t b = t.find_first_not_of(" \t\r\n");
      size_t e = t.find_last_not_of(" \t\r\n");
      if (b != std::string::npos)
        token.assign(t.begin() + static_cast<std::ptrdiff_t>(b), t.begin() + static_cast<std::ptrdiff_t>(e + 1));
      SecureWipe(it->get_ptr<std::string*>()->data(), t.size());
    } else {
      auto read = ReadSecretLine(ctx, "Token (will be hidden): ", ctx.err());
      if (read) token = std::move(*read);
    }
    if (token.empty()) {
      return ctx.UsageError("a token must be passed to auth, please view the help for more information");
    }

    client::VaultClient* client = ctx.Client();
    if (!client) return kExitUsage;
    client->set_token(std::string(token.data(), token.size()));

    json auth = {{"client_token", std::string(token.data(), token.size())},
                 {"accessor", ""},
                 {"policies", json::array()},
                 {"token_policies", json::array()},
                 {"identity_policies", json::array()},
                 {"metadata", nullptr},
                 {"orphan", false},
                 {"entity_id", ""},
                 {"lease_duration", 0},
                 {"renewable", false},
                 {"mfa_requirement", nullptr}};
    if (lookup && !token_only_) {
      client::Response r = ctx.Send("GET", "auth/token/lookup-self");
      if (ctx.curl_printed()) return kExitOk;
      if (!r.ok()) return ctx.ApiError("Error authenticating: error looking up token", r);
      const json& d = r.body.contains("data") ? r.body["data"] : json::object();
      if (d.is_object()) {
        auth["accessor"] = d.value("accessor", std::string());
        auth["policies"] = StringArray(d.value("policies", json::array()));
        auth["token_policies"] = auth["policies"];
        auth["identity_policies"] = StringArray(d.value("identity_policies", json::array()));
        if (d.contains("meta") && d["meta"].is_object()) auth["metadata"] = d["meta"];
        auth["orphan"] = d.value("orphan", false);
        auth["entity_id"] = d.value("entity_id", std::string());
        auth["lease_duration"] = d.contains("ttl") && d["ttl"].is_number() ? d["ttl"].get<int64_t>() : 0;
        auth["renewable"] = d.value("renewable", false);
      }
    }

    if (!no_store_) {
      if (std::string e = StoreToken(AsView(token)); !e.empty()) {
        ctx.err() << "Error storing token: " << e << "\n";
        ctx.err() << WrapWithPadding(
                         "Authentication was successful, but the token was not persisted. The resulting "
                         "token is shown below for your records.",
                         0)
                  << "\n\n";
        Output(ctx, auth);
        return kExitError;
      }
      WarnAboutEnvToken(ctx);
    } else if (!token_only_) {
      ctx.err() << WrapWithPadding(
                       "The token was not stored in token helper. Set the VAULT_TOKEN environment "
                       "variable or pass the token below with each request to " +
                           std::string(ctx.vault_mode() ? "Vault" : "Coffer") + ".",
                       0)
                << "\n\n";
    }
    if (no_print_) return kExitOk;
    if (!ctx.options().field.empty()) {
      json response = {{"auth", auth}};
      return ctx.OutputField(SecretField(response, ctx.options().field), ctx.options().field);
    }
    if (ctx.options().format == "table") {
      ctx.Info(WrapWithPadding("Success! You are now authenticated. The token information displayed below is "
                               "already stored in the token helper. You do NOT need to run \"" +
                                   ctx.program() + " login\" again. Future " + (ctx.vault_mode() ? "Vault" : "Coffer") +
                                   " requests will automatically use this token.",
                               0) +
               "\n");
    }
    return Output(ctx, auth);
  }

 private:
  static std::string_view AsView(const SecretString& s) { return std::string_view(s.data(), s.size()); }

  static int Output(Context& ctx, const json& auth) {
    json response = {{"request_id", ""}, {"lease_id", ""},      {"lease_duration", 0}, {"renewable", false},
                     {"data", nullptr},  {"warnings", nullptr}, {"auth", auth}};
    return ctx.OutputSecret(response);
  }

  static void WarnAboutEnvToken(Context& ctx) {
    const char* env = std::getenv("VAULT_TOKEN");
    if (env && *env) {
      ctx.err() << WrapWithPadding(
                       "WARNING! The VAULT_TOKEN environment variable is set! The value of this "
                       "variable will take precedence; if this is unwanted please unset VAULT_TOKEN or "
                       "update its value accordingly.",
                       0)
                << "\n\n";
    }
  }

  std::string method_ = "token";
  std::string path_;
  bool no_store_ = false;
  bool no_print_ = false;
  bool token_only_ = false;
};

}  // namespace

void RegisterLoginCommands(Registry& r) { r.Add<LoginCommand>("login"); }

}  // namespace coffer::cli
