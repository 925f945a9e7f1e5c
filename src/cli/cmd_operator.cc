// `operator init|unseal|seal|rotate|key-status`: the seal lifecycle, with Vault's output.
#include <coffer/client.h>

#include <ctime>
#include <ostream>

#include "base/secret_bytes.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/prompt.h"
#include "cli/registry.h"
#include "cli/seal_status.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

constexpr const char* kOperatorHelp =
    "Usage: {{prog}} operator <subcommand> [options] [args]\n\n"
    "  This command groups subcommands for operators interacting with the server.\n"
    "  Most users will not need to interact with these commands.\n\n"
    "  Initialize a new server:\n\n"
    "      $ {{prog}} operator init\n\n"
    "  Unseal the server:\n\n"
    "      $ {{prog}} operator unseal\n\n"
    "  Force the server to seal:\n\n"
    "      $ {{prog}} operator seal\n\n"
    "  Rotate the server's encryption key:\n\n"
    "      $ {{prog}} operator rotate";

// ---- init --------------------------------------------------------------------------------------

class OperatorInitCommand : public Command {
 public:
  std::string Synopsis() const override { return "Initializes a server"; }
  std::string Help() const override {
    return "Usage: {{prog}} operator init [options]\n\n"
           "  Initializes a server. Initialization is the process by which the storage\n"
           "  is prepared to receive data: the root key is generated and split into\n"
           "  unseal key shares with Shamir's secret sharing, and an initial root token\n"
           "  is created. This only happens once per storage backend.\n\n"
           "  The unseal key shares and the root token are printed once; the server does\n"
           "  not keep them. Distribute them securely.\n\n"
           "  Start initialization with the default options (5 shares, threshold 3):\n\n"
           "      $ {{prog}} operator init\n\n"
           "  Initialize, but split the root key into 3 shares with a threshold of 2:\n\n"
           "      $ {{prog}} operator init -key-shares=3 -key-threshold=2\n\n"
           "  Check whether the server is initialized (exit 0 yes, 2 no, 1 error):\n\n"
           "      $ {{prog}} operator init -status";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    f.Section("Common Options");
    f.Int("key-shares", &shares_,
          "Number of key shares to split the generated root key into. This is the number of "
          "\"unseal keys\" to generate.",
          "int");
    f.Int("n", &shares_alias_, "Alias for -key-shares.", "int");
    f.Hide("n");
    f.Int("key-threshold", &threshold_,
          "Number of key shares required to reconstruct the root key. This must be less than or "
          "equal to -key-shares.",
          "int");
    f.Int("t", &threshold_alias_, "Alias for -key-threshold.", "int");
    f.Hide("t");
    f.Bool("status", &status_,
           "Print the current initialization status. An exit code of 0 means the server is "
           "already initialized. An exit code of 1 means an error occurred. An exit code of 2 "
           "means the server is not initialized.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (shares_alias_ >= 0) shares_ = shares_alias_;
    if (threshold_alias_ >= 0) threshold_ = threshold_alias_;
    if (status_) return Status(ctx);
    if (shares_ < 1 || shares_ > 255) return ctx.UsageError("-key-shares must be between 1 and 255");
    if (threshold_ < 1) return ctx.UsageError("-key-threshold must be at least 1");
    if (threshold_ > shares_) {
      return ctx.UsageError("-key-threshold (" + std::to_string(threshold_) + ") must not exceed -key-shares (" +
                            std::to_string(shares_) + ")");
    }
    if (shares_ > 1 && threshold_ == 1) {
      return ctx.UsageError("-key-threshold must be greater than one for multiple shares");
    }
    json body = {{"secret_shares", shares_}, {"secret_threshold", threshold_}};
    client::Response r = ctx.Send("PUT", "sys/init", &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error initializing", r);

    const json keys = r.body.value("keys", json::array());
    const json keys_b64 = r.body.value("keys_base64", json::array());
    const std::string root = r.body.value("root_token", std::string());

    if (ctx.options().format != "table") {
      // Vault's machine-readable form (what scripts feed to jq).
      json out = {{"unseal_keys_b64", keys_b64},
                  {"unseal_keys_hex", keys},
                  {"unseal_shares", keys.empty() ? 1 : shares_},
                  {"unseal_threshold", keys.empty() ? 1 : threshold_},
                  {"recovery_keys_b64", json::array()},
                  {"recovery_keys_hex", json::array()},
                  {"recovery_keys_shares", 0},
                  {"recovery_keys_threshold", 0},
                  {"root_token", root}};
      return ctx.OutputData(out);
    }
    const bool use_b64 = keys_b64.is_array() && keys_b64.size() == keys.size();
    std::string text;
    for (size_t i = 0; i < keys.size(); ++i) {
      const json& k = use_b64 ? keys_b64[i] : keys[i];
      text += "Unseal Key " + std::to_string(i + 1) + ": " + (k.is_string() ? k.get<std::string>() : "") + "\n";
    }
    text += "\nInitial Root Token: " + root + "\n";
    const std::string product = ctx.vault_mode() ? "Vault" : "Coffer";
    if (!keys.empty()) {
      text +=
          "\n" +
          WrapWithPadding(
              product + " initialized with " + std::to_string(shares_) + " key shares and a key threshold of " +
                  std::to_string(threshold_) + ". Please securely distribute the key shares printed above. When the " +
                  product + " is re-sealed, restarted, or stopped, you must supply at least " +
                  std::to_string(threshold_) + " of these keys to unseal it before it can start servicing requests.",
              0) +
          "\n\n" +
          WrapWithPadding(product + " does not store the generated root key. Without at least " +
                              std::to_string(threshold_) + " keys to reconstruct the root key, " + product +
                              " will remain permanently sealed!",
                          0) +
          "\n\n" +
          WrapWithPadding(
              "It is possible to generate new unseal keys, provided you have a quorum of "
              "existing unseal keys shares. See \"" +
                  ctx.program() + " operator rekey\" for more information.",
              0);
    } else {
      text += "\nSuccess! " + product + " is initialized";
    }
    ctx.Info(text);
    SecureWipe(text.data(), text.size());
    return kExitOk;
  }

 private:
  int Status(Context& ctx) {
    client::Response r = ctx.Send("GET", "sys/init");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) {
      ctx.ApiError("Error checking init status", r);
      return kExitError;  // 2 means "not initialized" here
    }
    const bool inited = r.body.value("initialized", false);
    if (ctx.options().format == "table") {
      ctx.Info(std::string(ctx.vault_mode() ? "Vault" : "Coffer") +
               (inited ? " is initialized" : " is not initialized"));
    } else {
      ctx.OutputData(json{{"initialized", inited}});
    }
    return inited ? kExitOk : 2;
  }

  int64_t shares_ = 5;
  int64_t threshold_ = 3;
  int64_t shares_alias_ = -1;
  int64_t threshold_alias_ = -1;
  bool status_ = false;
};

// ---- unseal ------------------------------------------------------------------------------------

class OperatorUnsealCommand : public Command {
 public:
  std::string Synopsis() const override { return "Unseals the server"; }
  std::string Help() const override {
    return "Usage: {{prog}} operator unseal [options] [KEY]\n\n"
           "  Provide a portion of the root key to unseal the server. The server starts\n"
           "  in a sealed state and cannot serve requests until it is unsealed with\n"
           "  enough unseal key shares (the threshold).\n\n"
           "  The unseal key can be supplied as an argument; better, omit it and it is\n"
           "  read from a prompt without echo (or from the first line of stdin when stdin\n"
           "  is not a terminal), so it does not end up in your shell history.\n\n"
           "      $ {{prog}} operator unseal\n"
           "      Unseal Key (will be hidden):\n\n"
           "  Discard the key shares entered so far:\n\n"
           "      $ {{prog}} operator unseal -reset";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("reset", &reset_, "Discard any previously entered keys to the unseal process.");
    f.Bool("migrate", &migrate_,
           "Indicate that this share is provided with the intent that it is part of a seal "
           "migration process.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 1)) return rc;
    if (reset_) {
      json body = {{"reset", true}};
      client::Response r = ctx.Send("PUT", "sys/unseal", &body);
      if (ctx.curl_printed()) return kExitOk;
      if (!r.ok()) return ctx.ApiError("Error resetting unseal process", r);
      return OutputSealStatus(ctx, r.body);
    }
    SecretString key;
    if (!args.empty()) {
      const std::string& a = args[0];
      size_t b = a.find_first_not_of(" \t\r\n"), e = a.find_last_not_of(" \t\r\n");
      if (b != std::string::npos)
        key.assign(a.begin() + static_cast<std::ptrdiff_t>(b), a.begin() + static_cast<std::ptrdiff_t>(e + 1));
    } else {
      auto read = ReadSecretLine(ctx, "Unseal Key (will be hidden): ", ctx.out());
      if (!read)
        return ctx.UsageError(
            "no unseal key given: pass it as an argument, type it at the prompt, or pipe it on stdin");
      key = std::move(*read);
    }
    if (key.empty()) return ctx.UsageError("the unseal key is empty");
    json body = {{"key", std::string(key.data(), key.size())}};
    if (migrate_) body["migrate"] = true;
    client::Response r = ctx.Send("PUT", "sys/unseal", &body);
    auto& sent = body["key"].get_ref<std::string&>();
    SecureWipe(sent.data(), sent.size());
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error unsealing", r);
    return OutputSealStatus(ctx, r.body);
  }

 private:
  bool reset_ = false;
  bool migrate_ = false;
};

// ---- seal --------------------------------------------------------------------------------------

class OperatorSealCommand : public Command {
 public:
  std::string Synopsis() const override { return "Seals the server"; }
  std::string Help() const override {
    return "Usage: {{prog}} operator seal [options]\n\n"
           "  Seals the server. Sealing tells the server to stop responding to any\n"
           "  operations until it is unsealed again. A sealed server throws away its root\n"
           "  key; unsealing requires the threshold of unseal key shares.\n\n"
           "  Seal the server:\n\n"
           "      $ {{prog}} operator seal";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("PUT", "sys/seal");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error sealing", r);
    ctx.Info(std::string("Success! ") + (ctx.vault_mode() ? "Vault" : "Coffer") + " is sealed.");
    return kExitOk;
  }
};

// ---- key-status / rotate -----------------------------------------------------------------------

// Vault prints the install time in Go's RFC822 layout: "02 Jan 06 15:04 UTC".
std::string Rfc822(const std::string& rfc3339) {
  std::tm tm{};
  if (rfc3339.size() < 19 || !strptime(rfc3339.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return rfc3339;
  // Fold a numeric offset into UTC.
  time_t t = timegm(&tm);
  std::string rest = rfc3339.substr(19);
  size_t sign = rest.find_first_of("+-");
  if (sign != std::string::npos && rest.size() >= sign + 6) {
    int h = std::atoi(rest.substr(sign + 1, 2).c_str()), m = std::atoi(rest.substr(sign + 4, 2).c_str());
    t += (rest[sign] == '+' ? -1 : 1) * (h * 3600 + m * 60);
  }
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  strftime(buf, sizeof buf, "%d %b %y %H:%M UTC", &utc);
  return buf;
}

int PrintKeyStatus(Context& ctx, const client::Response& r, bool rotated) {
  json data = r.body.contains("data") && r.body["data"].is_object() ? r.body["data"] : r.body;
  if (ctx.options().format != "table") {
    json out = json::object();
    for (const char* k : {"term", "install_time", "encryptions"}) {
      if (data.contains(k)) out[k] = data[k];
    }
    return ctx.OutputData(out);
  }
  std::string term = data.contains("term") ? GoValue(data["term"]) : "";
  std::string install = data.value("install_time", std::string());
  std::vector<std::vector<std::string>> rows = {{"Key Term", term}, {"Install Time", Rfc822(install)}};
  if (data.contains("encryptions")) rows.push_back({"Encryption Count", GoValue(data["encryptions"])});
  // Table() underlines its first row; Vault prints these rows without a header.
  std::string table = Table(rows);
  size_t first_nl = table.find('\n');
  size_t second_nl = first_nl == std::string::npos ? std::string::npos : table.find('\n', first_nl + 1);
  if (second_nl != std::string::npos) table.erase(first_nl, second_nl - first_nl);
  if (rotated) ctx.Info("Success! Rotated key\n");
  ctx.Info(table);
  return kExitOk;
}

class OperatorKeyStatusCommand : public Command {
 public:
  std::string Synopsis() const override { return "Provides information about the active encryption key"; }
  std::string Help() const override {
    return "Usage: {{prog}} operator key-status [options]\n\n"
           "  Provides information about the active encryption key: its term and the time\n"
           "  it was installed.\n\n"
           "      $ {{prog}} operator key-status";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("GET", "sys/key-status");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error reading key status", r);
    return PrintKeyStatus(ctx, r, false);
  }
};

class OperatorRotateCommand : public Command {
 public:
  std::string Synopsis() const override { return "Rotates the underlying encryption key"; }
  std::string Help() const override {
    return "Usage: {{prog}} operator rotate [options]\n\n"
           "  Rotates the underlying encryption key which is used to secure data written to\n"
           "  the storage backend. This installs a new key in the keyring; old keys stay\n"
           "  to decrypt older data. This is an online operation and does not cause\n"
           "  downtime. It requires sudo on sys/rotate.\n\n"
           "      $ {{prog}} operator rotate";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("PUT", "sys/rotate");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error rotating key", r);
    client::Response s = ctx.Send("GET", "sys/key-status");
    if (!s.ok()) return ctx.ApiError("Error reading key status", s);
    return PrintKeyStatus(ctx, s, true);
  }
};

}  // namespace

void RegisterOperatorCommands(Registry& r) {
  r.AddGroup("operator", "Perform operator-specific tasks", kOperatorHelp);
  r.Add<OperatorInitCommand>("operator init");
  r.Add<OperatorUnsealCommand>("operator unseal");
  r.Add<OperatorSealCommand>("operator seal");
  r.Add<OperatorKeyStatusCommand>("operator key-status");
  r.Add<OperatorRotateCommand>("operator rotate");
}

}  // namespace coffer::cli
