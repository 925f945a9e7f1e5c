// `login`: authenticates and stores the token in ~/.vault-token (Vault's token helper file).
// Methods with a CLI handler, as in Vault: token (`login TOKEN`, `login -` for stdin, `login` to
// prompt) and userpass (`login -method=userpass username=NAME [password=...]`, prompting for the
// password). Other methods log in with `write auth/<path>/login ...`.
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

// Takes the string value of `key` out of parsed K=V configuration (the last one when repeated);
// "" when absent.
std::string ConfigString(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return "";
  const json& v = it->is_array() && !it->empty() ? it->back() : *it;
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Wipes every string value of the parsed configuration (it may hold a password or token).
void WipeConfig(json* config) {
  for (auto& v : *config) {
    if (v.is_string()) {
      auto* s = v.get_ptr<std::string*>();
      SecureWipe(s->data(), s->size());
    } else if (v.is_array()) {
      for (auto& e : v) {
        if (!e.is_string()) continue;
        auto* s = e.get_ptr<std::string*>();
        SecureWipe(s->data(), s->size());
      }
    }
  }
}

std::string_view AsView(const SecretString& s) { return std::string_view(s.data(), s.size()); }

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
           "  The -method flag selects another auth method; \"userpass\" is the other\n"
           "  one with a CLI handler. Its password is prompted for (without echo) when\n"
           "  not given:\n\n"
           "      $ {{prog}} login -method=userpass username=my-username\n\n"
           "  If an auth method is enabled at a non-standard path, -method still names\n"
           "  its TYPE and -path names the enabled path:\n\n"
           "      $ {{prog}} login -method=userpass -path=people username=sally\n\n"
           "  Other methods (approle, jwt, kubernetes) log in through the API:\n\n"
           "      $ {{prog}} write auth/approle/login role_id=... secret_id=...\n\n"
           "  Use \"{{prog}} auth help TYPE\" for a method's configuration parameters.\n\n"
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
             "Type of authentication to use such as \"userpass\" or \"token\". Note this corresponds to "
             "the TYPE, not the enabled path. Use -path to specify the path where the authentication is "
             "enabled. The default is token.",
             "", "string");
    f.String("path", &path_,
             "Remote path in the server where the auth method is enabled. This defaults to the TYPE of "
             "method (e.g. userpass -> userpass/).",
             "", "string");
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
    if (token_only_) {
      no_store_ = true;
      ctx.options().field = "token";
    }
    if (no_store_ && no_print_) return ctx.UsageError("-no-store and -no-print cannot be used together");

    std::string method = SanitizePath(method_);
    if (method.empty()) method = "token";
    if (method != "token" && method != "userpass") {
      return ctx.UsageError("Unknown auth method: " + method + ". Use \"" + ctx.program() +
                            " auth list\" to see the complete list of auth methods. Additionally, some auth "
                            "methods are only available via the HTTP API.");
    }

    // `login TOKEN` is shorthand for `login token=TOKEN` (and `login -` for token=-).
    std::vector<std::string> args = args_in;
    if (method == "token" && !args.empty() && args[0].find('=') == std::string::npos) args[0] = "token=" + args[0];
    std::string parse_error;
    auto config = ParseKeyValues(args, ctx.in(), &parse_error);
    if (!config) return ctx.UsageError("Error parsing configuration: " + parse_error);

    json response;
    SecretString token;
    int rc = method == "token" ? TokenLogin(ctx, &*config, &response, &token)
                               : UserpassLogin(ctx, &*config, &response, &token);
    WipeConfig(&*config);
    if (rc != kExitOk || ctx.curl_printed()) return rc;
    return Finish(ctx, response, token);
  }

 private:
  // The token method: the token from the arguments, stdin or a prompt, looked up unless
  // lookup=false or -token-only. Fills a response envelope with Vault's auth block.
  int TokenLogin(Context& ctx, json* config, json* response, SecretString* token) {
    bool lookup = true;
    if (auto it = config->find("lookup"); it != config->end()) {
      std::string v = it->is_string() ? it->get<std::string>() : it->dump();
      if (!ParseGoBool(v, &lookup)) return ctx.UsageError("Failed to parse \"lookup\" as boolean: " + v);
    }
    if (auto it = config->find("token"); it != config->end() && it->is_string()) {
      const std::string& t = it->get_ref<const std::string&>();
      size_t b = t.find_first_not_of(" \t\r\n");
      size_t e = t.find_last_not_of(" \t\r\n");
      if (b != std::string::npos)
        token->assign(t.begin() + static_cast<std::ptrdiff_t>(b), t.begin() + static_cast<std::ptrdiff_t>(e + 1));
    } else {
      auto read = ReadSecretLine(ctx, "Token (will be hidden): ", ctx.err());
      if (read) *token = std::move(*read);
    }
    if (token->empty()) {
      return ctx.UsageError("a token must be passed to auth, please view the help for more information");
    }

    client::VaultClient* client = ctx.Client();
    if (!client) return kExitUsage;
    client->set_token(std::string(AsView(*token)));

    json auth = {{"client_token", std::string(AsView(*token))},
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
    *response = {{"request_id", ""}, {"lease_id", ""},      {"lease_duration", 0}, {"renewable", false},
                 {"data", nullptr},  {"warnings", nullptr}, {"auth", auth}};
    return kExitOk;
  }

  // The userpass method (Vault's userpass CLI handler): POST auth/<path>/login/<username>
  // {password}, without any stored token. The password comes from the arguments or a prompt.
  int UserpassLogin(Context& ctx, json* config, json* response, SecretString* token) {
    std::string username = ConfigString(*config, "username");
    if (username.empty()) return ctx.UsageError("Error authenticating: 'username' must be specified");
    if (username.find('/') != std::string::npos) {
      return ctx.UsageError("Error authenticating: 'username' must not contain \"/\"");
    }
    std::string mount = ConfigString(*config, "mount");
    if (mount.empty()) mount = path_.empty() ? "userpass" : path_;
    mount = SanitizePath(mount);
    if (mount.empty()) return ctx.UsageError("Invalid -path: must not be empty");

    SecretString password;
    if (auto it = config->find("password"); it != config->end()) {
      const json& v = it->is_array() && !it->empty() ? it->back() : *it;
      if (v.is_string()) password.assign(v.get_ref<const std::string&>().begin(), v.get_ref<const std::string&>().end());
    }
    if (password.empty()) {
      if (ctx.options().non_interactive) {
        return ctx.UsageError(
            "Error authenticating: 'password' must be specified and refusing to pull from stdin");
      }
      auto read = ReadSecretLine(ctx, "Password (will be hidden): ", ctx.err());
      if (read) password = std::move(*read);
      if (password.empty()) return ctx.UsageError("Error authenticating: no password was entered");
    }

    client::VaultClient* client = ctx.Client();
    if (!client) return kExitUsage;
    client->set_token("");  // a login never sends a stored token (as Vault's CLI)
    json body = {{"password", std::string(AsView(password))}};
    client::Response r = ctx.Send("POST", "auth/" + mount + "/login/" + username, &body);
    SecureWipe(body["password"].get_ptr<std::string*>()->data(), password.size());
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error authenticating", r);
    const json* auth = r.body.is_object() && r.body.contains("auth") && r.body["auth"].is_object()
                           ? &r.body["auth"]
                           : nullptr;
    if (auth == nullptr || !auth->contains("client_token") || !(*auth)["client_token"].is_string()) {
      return ctx.Error(
          "Error authenticating: the server returned a response without authentication information");
    }
    const std::string& t = (*auth)["client_token"].get_ref<const std::string&>();
    token->assign(t.begin(), t.end());
    *response = r.body;
    return kExitOk;
  }

  // Stores the token (unless -no-store) and prints the response as Vault's login does.
  int Finish(Context& ctx, const json& response, const SecretString& token) {
    if (!no_store_) {
      if (std::string e = StoreToken(AsView(token)); !e.empty()) {
        ctx.err() << "Error storing token: " << e << "\n";
        ctx.err() << WrapWithPadding(
                         "Authentication was successful, but the token was not persisted. The resulting "
                         "token is shown below for your records.",
                         0)
                  << "\n\n";
        ctx.OutputSecret(response);
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
