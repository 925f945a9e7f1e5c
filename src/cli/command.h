// The pieces every CLI command uses: the Command interface, the per-invocation Context (streams,
// global options, the API client, output and error helpers) and the exit codes.
//
// A command is a small class:
//
//   class KvGetCommand : public Command {
//    public:
//     std::string Synopsis() const override { return "Retrieves data from the KV store"; }
//     std::string Help() const override { return "Usage: {{prog}} kv get [options] KEY\n\n  ..."; }
//     unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
//     void AddFlags(FlagSet& f) override { f.Section("Common Options"); f.Int("version", &version_, "..."); }
//     int Run(Context& ctx, const std::vector<std::string>& args) override { ... }
//    private:
//     int64_t version_ = 0;
//   };
//
// The dispatcher builds the FlagSet (global groups first, then AddFlags), parses, handles -h,
// and calls Run with the positional arguments. See registry.h for how commands are registered.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::client {
class VaultClient;
struct Response;
}  // namespace coffer::client

namespace coffer::cli {

class FlagSet;
class Registry;

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the server refused, or a local failure (I/O, network)
inline constexpr int kExitUsage = 2;  // bad flags, wrong arguments, invalid input

// Flag groups a command accepts besides its own (Vault's FlagSetHTTP / OutputField / OutputFormat).
enum FlagGroup : unsigned {
  kNoGlobalFlags = 0,
  kHttpFlags = 1u << 0,   // -address, -namespace, -ca-cert, -tls-skip-verify, -output-curl-string, ...
  kFieldFlag = 1u << 1,   // -field
  kFormatFlag = 1u << 2,  // -format (and VAULT_FORMAT)
  kOutputFlags = kFieldFlag | kFormatFlag,
};

// Options shared by every command; filled from flags (and VAULT_* through the client's Config).
struct GlobalOptions {
  std::string address;  // empty = VAULT_ADDR / default
  std::string agent_address;
  std::string ca_cert;
  std::string ca_path;
  std::string client_cert;
  std::string client_key;
  std::string namespace_;
  std::string tls_server_name;
  bool tls_skip_verify = false;
  bool output_curl_string = false;
  bool non_interactive = false;
  bool detailed = false;
  std::string format = "table";  // table | json | yaml (VAULT_FORMAT)
  std::string field;
  std::string wrap_ttl;
};

class Context;

class Command {
 public:
  virtual ~Command() = default;
  // One line for the command list.
  virtual std::string Synopsis() const = 0;
  // The text above the flag sections. "{{prog}}" is replaced by "vault" or "coffer".
  virtual std::string Help() const = 0;
  // Global flag groups this command takes.
  virtual unsigned Flags() const { return kHttpFlags | kFormatFlag; }
  // The command's own flags (bind them to members).
  virtual void AddFlags(FlagSet& flags) {}
  // True for commands with their own flag conventions (dotenvx-style `get KEY --format shell`):
  // they parse flags that follow positional arguments themselves, so the dispatcher neither
  // warns about trailing flags nor checks -format against Vault's table/json/yaml.
  virtual bool OwnsFlagConventions() const { return false; }
  // Runs with the positional arguments left after the flags; returns the exit code.
  virtual int Run(Context& ctx, const std::vector<std::string>& args) = 0;
};

// Everything one invocation needs. Owned by the dispatcher; commands borrow it.
class Context {
 public:
  Context(std::istream& in, std::ostream& out, std::ostream& err, bool vault_mode);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  std::istream& in() { return *in_; }
  std::ostream& out() { return *out_; }
  std::ostream& err() { return *err_; }
  // Swaps the error stream (the dispatcher silences it under -output-curl-string).
  void set_err(std::ostream* err) { err_ = err; }

  bool vault_mode() const { return vault_mode_; }
  // "vault" or "coffer": for messages and help.
  std::string program() const { return vault_mode_ ? "vault" : "coffer"; }
  // The registry the command was found in (for help listings and completion).
  const Registry* registry() const { return registry_; }
  void set_registry(const Registry* r) { registry_ = r; }
  GlobalOptions& options() { return options_; }
  const GlobalOptions& options() const { return options_; }
  bool stdout_is_terminal() const { return stdout_tty_; }
  void set_stdout_is_terminal(bool tty) { stdout_tty_ = tty; }
  bool stdin_is_terminal() const;

  // The API client, configured like Vault's CLI: VAULT_* variables and ~/.vault-token, then the
  // HTTP flags. Retries are off unless VAULT_MAX_RETRIES is set (as in Vault's CLI). On a
  // configuration problem prints one line and returns nullptr (exit with kExitUsage).
  client::VaultClient* Client();

  // Sends a request through Client(), honouring -output-curl-string (prints the equivalent curl
  // command instead, and marks the invocation done). `method` is GET, LIST, PUT, POST, PATCH or
  // DELETE; LIST is sent as Vault's CLI sends it.
  client::Response Send(std::string_view method, std::string_view path, const nlohmann::json* body = nullptr,
                        const std::map<std::string, std::string>& query = {});
  // True once Send printed a curl string; the dispatcher then exits 0.
  bool curl_printed() const { return curl_printed_; }

  // ---- errors (each prints one message to stderr and returns the exit code) ----
  // Usage problems: bad or missing arguments, invalid input. Returns kExitUsage.
  int UsageError(std::string_view message);
  // Local failures (I/O, ...). Returns kExitError.
  int Error(std::string_view message);
  // "<prefix>: <the client's ErrorText()>". Returns kExitUsage when no client could be made,
  // else kExitError.
  int ApiError(std::string_view prefix, const client::Response& response);
  // A plain warning line on stderr.
  void Warn(std::string_view message);

  // ---- output (honour -format and -field; return the exit code) ----
  // A whole API response (envelope): table = Key/Value of lease/auth/data; json = the envelope in
  // Vault's field order; yaml likewise.
  int OutputSecret(const nlohmann::json& response);
  // Some data (an object or list) without an envelope.
  int OutputData(const nlohmann::json& data);
  // A LIST response: table = "Keys" column; json/yaml = the keys array.
  int OutputList(const nlohmann::json& response);
  // -field=NAME: the raw value (no newline when stdout is not a terminal); json/yaml encode it.
  // "Field NAME not present in secret" (exit 1) when value is null.
  int OutputField(const nlohmann::json& value, std::string_view name);
  // Writes text plus a newline to stdout (the table-format informational lines).
  void Info(std::string_view text);

 private:
  std::istream* in_;
  std::ostream* out_;
  std::ostream* err_;
  bool vault_mode_;
  bool stdout_tty_ = false;
  bool curl_printed_ = false;
  bool client_failed_ = false;
  const Registry* registry_ = nullptr;
  GlobalOptions options_;
  std::unique_ptr<client::VaultClient> client_;
};

// ---- helpers shared by command files ----

// "Not enough arguments (expected N, got M)" / "Too many arguments (...)" as usage errors;
// returns 0 when the count is within [min, max] (max < 0: unbounded).
int CheckArgCount(Context& ctx, const std::vector<std::string>& args, int min, int max);

// Vault's sanitizePath: trims spaces and leading/trailing slashes.
std::string SanitizePath(std::string_view path);

// Reads a whole regular file; on failure *reason says why (strerror or "is a directory").
bool ReadFile(const std::string& path, std::string* out, std::string* reason);

// Parses Vault's data arguments into a JSON object: `k=v`; `k=@file` (the file's contents);
// `k=-` (all of stdin); a lone `-` or `@file.json` merges a JSON object from stdin or the file;
// a repeated key collects its values into a list. On error returns nullopt with *error set to
// one line naming the argument, key or file (never a value).
std::optional<nlohmann::json> ParseKeyValues(const std::vector<std::string>& args, std::istream& in,
                                             std::string* error);

}  // namespace coffer::cli
