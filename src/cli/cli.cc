#include "cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"
#include "cli/suggest.h"

namespace coffer::cli {
namespace {

// Vault's main.go setupEnv: -format, -output-curl-string and -detailed are honoured anywhere
// before "--", even after positional arguments.
void ScanGlobalFlags(const std::vector<std::string>& args, GlobalOptions& o) {
  std::string format;
  bool next_is_format = false;
  for (const auto& a : args) {
    if (next_is_format) {
      next_is_format = false;
      format = a;
      continue;
    }
    if (a == "--") break;
    if (a == "-output-curl-string" || a == "--output-curl-string") o.output_curl_string = true;
    if (a.rfind("-format=", 0) == 0 || a.rfind("--format=", 0) == 0) format = a.substr(a.find('=') + 1);
    if (a == "-format" || a == "--format") next_is_format = true;
    if (a == "-detailed" || a == "--detailed") o.detailed = true;
    if (a.rfind("-detailed=", 0) == 0 || a.rfind("--detailed=", 0) == 0) {
      bool b = false;
      o.detailed = ParseGoBool(a.substr(a.find('=') + 1), &b) && b;
    }
  }
  if (format.empty()) {
    if (const char* env = std::getenv("VAULT_FORMAT"); env != nullptr) format = env;
  }
  std::transform(format.begin(), format.end(), format.begin(), [](unsigned char c) { return std::tolower(c); });
  o.format = format.empty() ? "table" : format;
}

void AddGlobalFlags(FlagSet& f, unsigned groups, GlobalOptions& o) {
  if (groups & kHttpFlags) {
    f.Section("HTTP Options");
    f.String("address", &o.address, "Address of the Vault server. The default is https://127.0.0.1:8200.",
             "VAULT_ADDR");
    f.String("agent-address", &o.agent_address, "Address of the Agent.", "VAULT_AGENT_ADDR");
    f.String("ca-cert", &o.ca_cert,
             "Path on the local disk to a single PEM-encoded CA certificate to verify the Vault server's "
             "SSL certificate. This takes precedence over -ca-path.",
             "VAULT_CACERT");
    f.String("ca-path", &o.ca_path,
             "Path on the local disk to a directory of PEM-encoded CA certificates to verify the Vault "
             "server's SSL certificate.",
             "VAULT_CAPATH");
    f.String("client-cert", &o.client_cert,
             "Path on the local disk to a single PEM-encoded CA certificate to use for TLS authentication "
             "to the Vault server. If this flag is specified, -client-key is also required.",
             "VAULT_CLIENT_CERT");
    f.String("client-key", &o.client_key,
             "Path on the local disk to a single PEM-encoded private key matching the client certificate "
             "from -client-cert.",
             "VAULT_CLIENT_KEY");
    f.String("namespace", &o.namespace_,
             "The namespace to use for the command. Setting this is not necessary but allows using "
             "relative paths. -ns can be used as shortcut.",
             "VAULT_NAMESPACE");
    f.String("ns", &o.namespace_, "Alias for -namespace.");
    f.Hide("ns");
    f.String("tls-server-name", &o.tls_server_name,
             "Name to use as the SNI host when connecting to the Vault server via TLS.", "VAULT_TLS_SERVER_NAME");
    f.Hide("tls-server-name");  // parsed so that using it gives a clear "not supported" error
    f.Bool("tls-skip-verify", &o.tls_skip_verify,
           "Disable verification of TLS certificates. Using this option is highly discouraged as it "
           "decreases the security of data transmissions to and from the Vault server.",
           "VAULT_SKIP_VERIFY");
    f.Duration("wrap-ttl", &o.wrap_ttl,
               "Wraps the response in a cubbyhole token with the requested TTL. The TTL is specified as a "
               "numeric string with suffix like \"30s\" or \"5m\".",
               "VAULT_WRAP_TTL");
    f.Hide("wrap-ttl");  // parsed so that using it gives a clear "not supported" error
    f.Bool("output-curl-string", &o.output_curl_string,
           "Instead of executing the request, print an equivalent cURL command string and exit.");
    f.Bool("non-interactive", &o.non_interactive,
           "When set true, prevents asking the user for input via the terminal.");
  }
  if (groups & (kFieldFlag | kFormatFlag)) {
    f.Section("Output Options");
    if (groups & kFieldFlag) {
      f.String("field", &o.field,
               "Print only the field with the given name. Specifying this option will take precedence over "
               "other formatting directives. The result will not have a trailing newline making it ideal "
               "for piping to other processes.");
    }
    if (groups & kFormatFlag) {
      f.String("format", &o.format,
               "Print the output in the given format. Valid formats are \"table\", \"json\", or \"yaml\". "
               "This can also be specified via the VAULT_FORMAT environment variable.");
      f.DefaultText("format", "table");
    }
  }
}

std::string Substitute(std::string text, const std::string& prog) {
  const std::string token = "{{prog}}";
  for (size_t pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
    text.replace(pos, token.size(), prog);
    pos += prog.size();
  }
  return text;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

std::string SynopsisOf(const Registry::Entry& e) {
  if (e.factory) return e.factory()->Synopsis();
  return e.synopsis;
}

// One "    name<pad>synopsis" line per name; the top level pads by 6 past the longest name
// (Vault's tabwriter), subcommand lists by 4.
std::string ListCommands(const Registry& r, const std::string& prefix, const std::vector<std::string>& names,
                         bool vault_mode) {
  const size_t gap = prefix.empty() ? 6 : 4;
  size_t width = 0;
  for (const auto& n : names) width = std::max(width, n.size());
  std::string out;
  for (const auto& n : names) {
    const Registry::Entry* e = r.Find(prefix.empty() ? n : prefix + " " + n, vault_mode);
    if (e == nullptr) continue;
    out += "    " + n + std::string(width - n.size() + gap, ' ') + SynopsisOf(*e) + "\n";
  }
  return out;
}

std::string TopLevelHelp(const Registry& r, bool vault_mode) {
  const std::string prog = vault_mode ? "vault" : "coffer";
  static const std::vector<std::string> kCommon = {"read",  "write",  "delete", "list",  "login",
                                                   "agent", "server", "status", "unwrap"};
  std::vector<std::string> all = r.Children("", vault_mode);
  std::vector<std::string> common, other;
  for (const auto& c : kCommon) {
    if (std::find(all.begin(), all.end(), c) != all.end()) common.push_back(c);
  }
  for (const auto& c : all) {
    if (std::find(common.begin(), common.end(), c) == common.end()) other.push_back(c);
  }
  std::string out = "Usage: " + prog + " <command> [args]\n\nCommon commands:\n";
  out += ListCommands(r, "", common, vault_mode);
  out += "\nOther commands:\n";
  out += ListCommands(r, "", other, vault_mode);
  return Trim(out);
}

std::string GroupHelp(const Registry& r, const Registry::Entry& group, bool vault_mode) {
  const std::string prog = vault_mode ? "vault" : "coffer";
  std::string out = group.help.empty() ? "Usage: " + prog + " " + group.name + " <subcommand> [options] [args]"
                                       : Substitute(group.help, prog);
  out = Trim(out) + "\n\nSubcommands:\n" + ListCommands(r, group.name, r.Children(group.name, vault_mode), vault_mode);
  return Trim(out);
}

std::string CommandHelp(Command& cmd, FlagSet& flags, bool vault_mode) {
  std::string text = Trim(Substitute(cmd.Help(), vault_mode ? "vault" : "coffer"));
  std::string f = flags.Help();
  if (!f.empty()) text += "\n\n" + f;
  return text;
}

bool IsHelpArg(const std::string& a) { return a == "-h" || a == "-help" || a == "--help"; }

}  // namespace

bool IsVaultName(const std::string& argv0) {
  std::string base = argv0.substr(argv0.find_last_of('/') == std::string::npos ? 0 : argv0.find_last_of('/') + 1);
  return base == "vault" || base == "vault.exe";
}

int RunArgs(const std::vector<std::string>& input, bool vault_mode, std::istream& in, std::ostream& out,
            std::ostream& err, bool stdout_is_terminal) {
  Registry registry;
  RegisterAllCommands(registry);

  std::vector<std::string> args = input;
  if (args.size() == 1 && (args[0] == "-v" || args[0] == "-version" || args[0] == "--version")) {
    args = {"version"};
  }

  Context ctx(in, out, err, vault_mode);
  ctx.set_registry(&registry);
  ctx.set_stdout_is_terminal(stdout_is_terminal);
  ScanGlobalFlags(args, ctx.options());
  const std::string prog = ctx.program();

  if (args.empty()) {
    out << TopLevelHelp(registry, vault_mode) << "\n";
    return kExitOk;
  }
  if (IsHelpArg(args[0])) {
    out << TopLevelHelp(registry, vault_mode) << "\n";
    return kExitOk;
  }

  // The longest run of leading words that names a registered command or group.
  const Registry::Entry* entry = nullptr;
  size_t used = 0;
  std::string name;
  for (size_t i = 0; i < args.size() && !args[i].empty() && args[i][0] != '-'; ++i) {
    std::string candidate = name.empty() ? args[i] : name + " " + args[i];
    const Registry::Entry* e = registry.Find(candidate, vault_mode);
    if (e == nullptr) break;
    entry = e;
    used = i + 1;
    name = candidate;
    if (e->factory) break;  // a command: the rest are its flags and arguments
  }

  if (entry == nullptr) {
    std::string typed = args[0];
    std::string msg = "Unknown command \"" + typed + "\".";
    auto near = Suggest(typed, registry.Children("", vault_mode));
    if (!near.empty()) msg += " Did you mean \"" + near.front() + "\"?";
    err << msg << " Run \"" << prog << " -h\" for the list of commands.\n";
    return kExitUsage;
  }

  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(used), args.end());
  if (!entry->factory) {
    // A group: help, or an unknown subcommand.
    if (rest.empty() || IsHelpArg(rest[0])) {
      if (rest.empty()) {
        err << GroupHelp(registry, *entry, vault_mode) << "\n";
        return kExitUsage;
      }
      out << GroupHelp(registry, *entry, vault_mode) << "\n";
      return kExitOk;
    }
    std::string typed = rest[0];
    std::string msg = "Unknown command \"" + entry->name + " " + typed + "\".";
    auto near = Suggest(typed, registry.Children(entry->name, vault_mode));
    if (!near.empty()) msg += " Did you mean \"" + entry->name + " " + near.front() + "\"?";
    err << msg << " Run \"" << prog << " " << entry->name << " -h\" for its subcommands.\n";
    return kExitUsage;
  }

  std::unique_ptr<Command> cmd = entry->factory();
  FlagSet flags;
  const std::string preset_format = ctx.options().format;
  AddGlobalFlags(flags, cmd->Flags(), ctx.options());
  cmd->AddFlags(flags);
  switch (flags.Parse(rest)) {
    case FlagSet::ParseResult::kHelp:
      out << CommandHelp(*cmd, flags, vault_mode) << "\n";
      return kExitOk;
    case FlagSet::ParseResult::kError: {
      std::string hint;
      const std::string unknown = "flag provided but not defined: -";
      if (flags.error().rfind(unknown, 0) == 0) {
        auto near = Suggest(flags.error().substr(unknown.size()), flags.Names());
        if (!near.empty()) hint = " Did you mean -" + near.front() + "?";
      }
      err << flags.error() << "." << hint << " Run \"" << prog << " " << entry->name << " -h\" for usage.\n";
      return kExitUsage;
    }
    case FlagSet::ParseResult::kOk:
      break;
  }
  // A -format given after the positional arguments still counts (Vault's global scan).
  if (!flags.IsSet("format")) ctx.options().format = preset_format;
  if (!cmd->OwnsFlagConventions()) {
    std::string f = ctx.options().format;
    std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
    ctx.options().format = f;
    if (f != "table" && f != "json" && f != "yaml" && f != "yml") {
      err << "Invalid output format: " << f << " (use table, json or yaml)\n";
      return kExitUsage;
    }
  }
  if (ctx.options().format == "table" && !cmd->OwnsFlagConventions()) {
    std::string warning = TrailingFlagWarning(flags.args());
    if (!warning.empty()) err << warning << "\n";
  }

  std::ostringstream swallowed;
  if (ctx.options().output_curl_string) ctx.set_err(&swallowed);
  int rc;
  try {
    rc = cmd->Run(ctx, flags.args());
  } catch (const std::exception& e) {
    // A response of an unexpected shape must not crash the CLI. (json type errors name types,
    // never values.)
    ctx.err() << "Error: unexpected response or internal error: " << e.what() << "\n";
    rc = kExitError;
  }
  if (ctx.options().output_curl_string) {
    ctx.set_err(&err);
    if (ctx.curl_printed()) return kExitOk;
    err << swallowed.str();
    if (rc == kExitOk) {
      err << "Could not generate cURL command\n";
      return kExitError;
    }
    err << "Unable to generate cURL string from command\n";
  }
  return rc;
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool vault_mode = argc > 0 && IsVaultName(argv[0]);
  std::ios::sync_with_stdio(true);
  return RunArgs(args, vault_mode, std::cin, std::cout, std::cerr, ::isatty(1) == 1);
}

}  // namespace coffer::cli
