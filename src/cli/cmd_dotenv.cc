// `coffer dotenv ...`: dotenvx-compatible encrypted env files (formats/dotenv), interchangeable
// with `dotenvx`:
//   dotenv encrypt [-f FILE]... [-fk KEYS] [-k GLOB]... [-ek GLOB]... [--stdout]
//   dotenv decrypt (same flags)
//   dotenv get [KEY] [-f FILE]... [--format json|shell|eval] [--all]
//   dotenv set KEY VALUE [-f FILE]... [--plain]
//   dotenv keypair [KEY] [-f FILE] [--format json|shell]
//   dotenv rotate [-f FILE]...
//   dotenv run [-f FILE]... -- CMD [ARGS...]
// Flags may come before or after positional arguments, with one or two dashes, as dotenvx
// accepts them. Files are replaced atomically (temporary file + rename); .env.keys gets mode
// 0600. Exit codes: 2 for bad flags, arguments, keys or encrypted data (one line naming the
// flag, argument, file or key); 1 for a missing or wrong private key and I/O errors.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"
#include "formats/dotenv/dotenvx.h"
#include "formats/dotenv/envfile.h"
#include "base/encoding.h"
#include "base/file_io.h"
#include "formats/dotenv/parser.h"
#include "keysync/config.h"
#include "keysync/providers.h"
#include "keysync/sync.h"
#include <coffer/client.h>

extern char** environ;

namespace coffer::cli {
namespace {

using dotenv::Environment;

constexpr char kDotenvHelp[] =
    "Usage: {{prog}} dotenv <subcommand> [options] [args]\n\n"
    "  dotenvx-compatible encrypted .env files. Values are encrypted with secp256k1 ECIES exactly\n"
    "  as dotenvx does; the public key sits at the top of the env file and the private key in\n"
    "  .env.keys (or DOTENV_PRIVATE_KEY_<ENV> in the environment). Files written by either tool\n"
    "  are read by the other.\n\n"
    "      $ {{prog}} dotenv encrypt -f .env.production\n"
    "      $ {{prog}} dotenv get DATABASE_URL -f .env.production\n"
    "      $ {{prog}} dotenv run -f .env.production -- ./server\n";

int StatusExit(Context& ctx, const Status& s) {
  ctx.err() << s.message() << "\n";
  return ExitCodeFor(s.code());
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Shared file and key-file flags.
struct FileFlags {
  std::vector<std::string> files;
  std::string keys_file;

  void Add(FlagSet& f) {
    f.Section("File Options");
    f.StringList("f", &files, "Path to an env file; repeat for several. The default is .env.", false, "FILE");
    f.StringList("file", &files, "Same as -f.", false, "FILE");
    f.String("fk", &keys_file, "Path to the .env.keys file. The default is .env.keys beside the env file.", "",
             "FILE");
    f.String("env-keys-file", &keys_file, "Same as -fk.", "", "FILE");
    f.Hide("file");
    f.Hide("env-keys-file");
  }
  std::vector<std::string> Files() const { return files.empty() ? std::vector<std::string>{".env"} : files; }
  std::string KeysFileFor(const std::string& env_file) const {
    if (!keys_file.empty()) return keys_file;
    return env_file.find('/') == std::string::npos ? ".env.keys" : DirOf(env_file) + "/.env.keys";
  }
};

// The base of every dotenv command: flags may follow positional arguments (dotenvx-style).
class DotenvCommand : public Command {
 public:
  unsigned Flags() const override { return kNoGlobalFlags; }
  bool OwnsFlagConventions() const override { return true; }

 protected:
  // Separates positional arguments from flags that follow them. False (with *rc set) on a bad
  // flag. Everything after "--" is positional.
  bool SplitArgs(Context& ctx, const std::vector<std::string>& args, std::vector<std::string>* positional, int* rc) {
    std::vector<std::string> rest = args;
    while (!rest.empty()) {
      const std::string& a = rest.front();
      if (a == "--") {
        positional->insert(positional->end(), rest.begin() + 1, rest.end());
        return true;
      }
      if (a.size() > 1 && a[0] == '-') {
        FlagSet fs;
        AddFlags(fs);
        FlagSet::ParseResult r = fs.Parse(rest);
        if (r == FlagSet::ParseResult::kError) {
          *rc = ctx.UsageError(fs.error());
          return false;
        }
        if (r == FlagSet::ParseResult::kHelp) {
          *rc = ctx.UsageError("-h must come before the positional arguments (\"" + ctx.program() + " dotenv " +
                               "<command> -h\")");
          return false;
        }
        size_t consumed = rest.size() - fs.args().size();
        bool dashdash = consumed > 0 && rest[consumed - 1] == "--";
        rest = fs.args();
        if (dashdash) {
          positional->insert(positional->end(), rest.begin(), rest.end());
          return true;
        }
        continue;
      }
      positional->push_back(a);
      rest.erase(rest.begin());
    }
    return true;
  }

  // Reads the keys file for env_file (nullopt when absent), warning when others may read it.
  StatusOr<std::optional<std::string>> ReadKeys(Context& ctx, const std::string& keys_path) {
    auto keys = coffer::ReadFileIfExists(keys_path);
    if (keys.ok() && keys->has_value() && coffer::IsGroupOrWorldReadable(keys_path)) {
      ctx.Warn("warning: " + keys_path + " is readable by group or others; run: chmod 600 " + keys_path);
    }
    return keys;
  }

  // Reads an env file that must exist; the error names the -f argument.
  StatusOr<std::string> ReadEnv(const std::string& path) {
    ASSIGN_OR_RETURN(std::optional<std::string> text, coffer::ReadFileIfExists(path));
    if (!text) return InvalidArgument("-f " + path + ": file not found");
    return *text;
  }

  Environment ProcessEnv() const { return dotenv::EnvironmentFrom(environ); }
};

// ---- encrypt / decrypt ----

class CryptCommand : public DotenvCommand {
 public:
  explicit CryptCommand(bool encrypt) : encrypt_(encrypt) {}
  std::string Synopsis() const override {
    return encrypt_ ? "Encrypt the values of .env files (dotenvx encrypt)"
                    : "Decrypt the values of .env files in place (dotenvx decrypt)";
  }
  std::string Help() const override {
    std::string verb = encrypt_ ? "encrypt" : "decrypt";
    return "Usage: {{prog}} dotenv " + verb +
           " [-f FILE]... [-fk KEYS_FILE] [-k KEY]... [-ek KEY]... [--stdout]\n\n" +
           (encrypt_ ? "  Encrypts every plaintext value (not DOTENV_PUBLIC_KEY* or *_PLAIN keys). A file\n"
                       "  without a public key gets a new keypair: the public key at its top, the private\n"
                       "  key appended to .env.keys (mode 0600).\n"
                     : "  Decrypts every encrypted value, keeping quoting, comments and order. Nothing is\n"
                       "  written when any value cannot be decrypted.\n");
  }
  void AddFlags(FlagSet& f) override {
    files_.Add(f);
    f.Section("Command Options");
    f.StringList("k", &filter_.include, "Only these keys (glob, e.g. 'API_*'); repeatable.", false, "KEY");
    f.StringList("key", &filter_.include, "Same as -k.", false, "KEY");
    f.StringList("ek", &filter_.exclude, "Skip these keys (glob); repeatable.", false, "KEY");
    f.StringList("exclude-key", &filter_.exclude, "Same as -ek.", false, "KEY");
    f.Bool("stdout", &stdout_, "Print the resulting env file instead of rewriting it.");
    f.Hide("key");
    f.Hide("exclude-key");
    if (!encrypt_) {
      f.Section("Vault Check Options");
      f.Bool("verify-vault", &verify_vault_,
             "Change nothing: exit 0 when the vault's key (--secret) decrypts FILE, else 1 with repair steps.");
      f.String("p", &provider_, "Provider for --verify-vault: hashicorp, aws or azure.", "", "NAME");
      f.String("provider", &provider_, "Same as -p.", "", "NAME");
      f.String("vault-url", &vault_url_, "Vault address: hashicorp (overrides VAULT_ADDR) or azure.", "", "URL");
      f.String("region", &region_, "AWS region (aws provider).", "", "REGION");
      f.String("secret", &secret_, "Name of the vault secret holding the private key.", "", "NAME");
      f.Bool("ci", &ci_, "Never prompt (the default behaviour here).");
      f.Hide("provider");
    }
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    std::vector<std::string> positional;
    int rc = 0;
    if (!SplitArgs(ctx, args, &positional, &rc)) return rc;
    // dotenvx's -f takes several paths; extra positional arguments are more files.
    files_.files.insert(files_.files.end(), positional.begin(), positional.end());
    if (verify_vault_) return VerifyVault(ctx);
    Environment env = ProcessEnv();
    for (const std::string& file : files_.Files()) {
      StatusOr<std::string> text = ReadEnv(file);
      if (!text.ok()) return StatusExit(ctx, text.status());
      std::string keys_path = files_.KeysFileFor(file);
      auto keys = ReadKeys(ctx, keys_path);
      if (!keys.ok()) return StatusExit(ctx, keys.status());
      auto result = encrypt_ ? dotenv::EncryptEnvFile(file, *text, *keys, env, filter_)
                             : dotenv::DecryptEnvFile(file, *text, *keys, env, filter_);
      if (!result.ok()) return StatusExit(ctx, result.status());
      // The private key is saved before anything is encrypted to it.
      if (result->keys_text) {
        Status s = WriteFileAtomic(keys_path, *result->keys_text, 0600);
        if (!s.ok()) return StatusExit(ctx, s);
      }
      if (stdout_) {
        ctx.out() << result->env_text;
        continue;
      }
      if (result->env_text != *text) {
        Status s = WriteFileAtomic(file, result->env_text, 0644, {.keep_existing_mode = true});
        if (!s.ok()) return StatusExit(ctx, s);
        ctx.err() << (encrypt_ ? "encrypted " : "decrypted ") << file << " (" << result->changed_keys.size()
                  << (result->changed_keys.size() == 1 ? " key)" : " keys)");
        if (result->keys_text) ctx.err() << "; private key saved in " << keys_path;
        ctx.err() << "\n";
      } else {
        ctx.err() << "no changes (" << file << ")\n";
      }
    }
    return kExitOk;
  }

 private:
  // decrypt --verify-vault: does the vault's key decrypt each file? Writes nothing.
  int VerifyVault(Context& ctx);

  bool encrypt_;
  bool verify_vault_ = false;
  bool ci_ = false;
  std::string provider_, vault_url_, region_, secret_;
  FileFlags files_;
  dotenv::KeyFilter filter_;
  bool stdout_ = false;
};

class EncryptCommand : public CryptCommand {
 public:
  EncryptCommand() : CryptCommand(true) {}
};
class DecryptCommand : public CryptCommand {
 public:
  DecryptCommand() : CryptCommand(false) {}
};

// Resolves files in order as dotenvx does: earlier files and the process environment win.
struct Loaded {
  std::vector<std::pair<std::string, std::string>> values;  // file keys, first appearance order
  Environment merged;                                       // process env + file values
  std::vector<Status> errors;
};

// ---- get ----

class GetCommand : public DotenvCommand {
 public:
  std::string Synopsis() const override { return "Print one value or all values of .env files (dotenvx get)"; }
  std::string Help() const override {
    return "Usage: {{prog}} dotenv get [KEY] [-f FILE]... [--format json|shell|eval] [--all]\n\n"
           "  With KEY, prints its decrypted value. Without, prints every value: as one JSON\n"
           "  object (json, the default), KEY=value pairs on one line (shell), or KEY='value' lines\n"
           "  for eval (eval). The process environment wins over file values unless --overload.\n";
  }
  void AddFlags(FlagSet& f) override {
    files_.Add(f);
    f.Section("Command Options");
    f.String("format", &format_, "Output format: json, shell or eval.", "", "FORMAT");
    f.Bool("all", &all_, "Include the whole process environment, not only the files' keys.");
    f.Bool("a", &all_, "Same as --all.");
    f.Bool("overload", &overload_, "File values win over the process environment.");
    f.Bool("o", &overload_, "Same as --overload.");
    f.Hide("a");
    f.Hide("o");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    std::vector<std::string> positional;
    int rc = 0;
    if (!SplitArgs(ctx, args, &positional, &rc)) return rc;
    if (positional.size() > 1) return ctx.UsageError("too many arguments: expected at most one KEY");
    if (format_.empty()) format_ = "json";
    if (format_ != "json" && format_ != "shell" && format_ != "eval") {
      return ctx.UsageError("--format " + format_ + ": expected json, shell or eval");
    }
    Environment env = ProcessEnv();
    Loaded loaded;
    Status s = Load(ctx, files_, env, overload_, &loaded);
    if (!s.ok()) return StatusExit(ctx, s);
    for (const Status& e : loaded.errors) ctx.err() << e.message() << "\n";
    if (!positional.empty()) {
      const std::string& key = positional[0];
      for (const auto& [k, v] : loaded.values) {
        if (k == key) {
          if (!loaded.errors.empty()) return kExitError;
          ctx.out() << v << "\n";
          return kExitOk;
        }
      }
      if (all_) {
        if (auto it = env.find(key); it != env.end()) {
          ctx.out() << it->second << "\n";
          return kExitOk;
        }
      }
      ctx.err() << "[MISSING_KEY] missing key (" << key << ")\n";
      return kExitError;
    }
    if (!loaded.errors.empty()) return kExitError;
    std::vector<std::pair<std::string, std::string>> out;
    if (all_) {
      for (const auto& [k, v] : env) {
        bool in_files = false;
        for (const auto& kv : loaded.values) in_files = in_files || kv.first == k;
        if (!in_files) out.emplace_back(k, v);
      }
    }
    out.insert(out.end(), loaded.values.begin(), loaded.values.end());
    if (format_ == "json") {
      nlohmann::ordered_json j = nlohmann::ordered_json::object();
      for (const auto& [k, v] : out) j[k] = v;
      ctx.out() << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (format_ == "shell") {
      bool first = true;
      for (const auto& [k, v] : out) {
        ctx.out() << (first ? "" : " ") << k << "=" << v;
        first = false;
      }
      ctx.out() << "\n";
    } else {
      for (const auto& [k, v] : out) ctx.out() << k << "=" << ShellQuote(v) << "\n";
    }
    return kExitOk;
  }

  // Shared with run: resolves every file in order into *loaded.
  static Status Load(Context& ctx, const FileFlags& files, const Environment& process, bool overload,
                     Loaded* loaded) {
    loaded->merged = process;
    for (const std::string& file : files.Files()) {
      ASSIGN_OR_RETURN(std::optional<std::string> text, coffer::ReadFileIfExists(file));
      if (!text) return InvalidArgument("-f " + file + ": file not found");
      std::string keys_path = files.KeysFileFor(file);
      ASSIGN_OR_RETURN(std::optional<std::string> keys, coffer::ReadFileIfExists(keys_path));
      if (keys && coffer::IsGroupOrWorldReadable(keys_path)) {
        ctx.Warn("warning: " + keys_path + " is readable by group or others; run: chmod 600 " + keys_path);
      }
      dotenv::Resolved r = dotenv::ResolveEnvFile(file, *text, keys, loaded->merged, overload);
      for (auto& e : r.errors) loaded->errors.push_back(e.WithContext(file));
      for (auto& [k, v] : r.values) {
        bool seen = false;
        for (auto& kv : loaded->values) {
          if (kv.first == k) {
            seen = true;
            if (overload) kv.second = v;
          }
        }
        if (!seen) loaded->values.emplace_back(k, v);
        if (overload || loaded->merged.find(k) == loaded->merged.end()) loaded->merged[k] = v;
      }
    }
    return OkStatus();
  }

 private:
  FileFlags files_;
  std::string format_;
  bool all_ = false;
  bool overload_ = false;
};

// ---- set ----

class SetCommand : public DotenvCommand {
 public:
  std::string Synopsis() const override { return "Set a value in .env files, encrypted by default (dotenvx set)"; }
  std::string Help() const override {
    return "Usage: {{prog}} dotenv set KEY VALUE [-f FILE]... [-fk KEYS_FILE] [--plain]\n\n"
           "  Replaces KEY's value where it is assigned (keeping its line, quoting and comment) or\n"
           "  appends KEY=\"value\". The value is encrypted unless --plain.\n";
  }
  void AddFlags(FlagSet& f) override {
    files_.Add(f);
    f.Section("Command Options");
    f.Bool("plain", &plain_, "Store the value in plaintext.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    std::vector<std::string> positional;
    int rc = 0;
    if (!SplitArgs(ctx, args, &positional, &rc)) return rc;
    if (positional.size() != 2) {
      return ctx.UsageError("expected KEY and VALUE, got " + std::to_string(positional.size()) + " arguments");
    }
    const std::string& key = positional[0];
    if (!dotenv::IsValidKey(key)) {
      return ctx.UsageError("KEY \"" + key + "\": use letters, digits, '_', '.' or '-'");
    }
    Environment env = ProcessEnv();
    for (const std::string& file : files_.Files()) {
      auto existing = coffer::ReadFileIfExists(file);
      if (!existing.ok()) return StatusExit(ctx, existing.status());
      std::string text = existing->value_or("");
      dotenv::Document doc = dotenv::Document::Parse(text);
      Status s = doc.Set(key, positional[1]);
      if (!s.ok()) return StatusExit(ctx, s);
      std::string out = doc.text();
      std::string keys_path = files_.KeysFileFor(file);
      if (!plain_) {
        auto keys = ReadKeys(ctx, keys_path);
        if (!keys.ok()) return StatusExit(ctx, keys.status());
        dotenv::KeyFilter only;
        only.include = {key};
        auto result = dotenv::EncryptEnvFile(file, out, *keys, env, only);
        if (!result.ok()) return StatusExit(ctx, result.status());
        if (result->keys_text) {
          Status w = WriteFileAtomic(keys_path, *result->keys_text, 0600);
          if (!w.ok()) return StatusExit(ctx, w);
        }
        out = result->env_text;
      }
      Status w = WriteFileAtomic(file, out, 0644, {.keep_existing_mode = true});
      if (!w.ok()) return StatusExit(ctx, w);
      ctx.err() << (plain_ ? "set " : "set (encrypted) ") << key << " in " << file << "\n";
    }
    return kExitOk;
  }

 private:
  FileFlags files_;
  bool plain_ = false;
};

// ---- keypair ----

class KeypairCommand : public DotenvCommand {
 public:
  std::string Synopsis() const override { return "Print the keypair of an env file (dotenvx keypair)"; }
  std::string Help() const override {
    return "Usage: {{prog}} dotenv keypair [KEY] [-f FILE] [-fk KEYS_FILE] [--format json|shell]\n\n"
           "  Prints the public key (from the env file) and the private key (from the environment\n"
           "  or .env.keys) of each file; null when absent. With KEY, prints only that one.\n";
  }
  void AddFlags(FlagSet& f) override {
    files_.Add(f);
    f.Section("Command Options");
    f.String("format", &format_, "Output format: json or shell.", "", "FORMAT");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    std::vector<std::string> positional;
    int rc = 0;
    if (!SplitArgs(ctx, args, &positional, &rc)) return rc;
    if (positional.size() > 1) return ctx.UsageError("too many arguments: expected at most one KEY");
    if (format_.empty()) format_ = "json";
    if (format_ != "json" && format_ != "shell") return ctx.UsageError("--format " + format_ + ": expected json or shell");
    Environment env = ProcessEnv();
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const std::string& file : files_.Files()) {
      auto text = coffer::ReadFileIfExists(file);
      if (!text.ok()) return StatusExit(ctx, text.status());
      dotenv::Document doc = dotenv::Document::Parse(text->value_or(""));
      dotenv::KeyNames names = dotenv::KeyNamesFor(file, doc);
      std::string keys_path = files_.KeysFileFor(file);
      auto keys = ReadKeys(ctx, keys_path);
      if (!keys.ok()) return StatusExit(ctx, keys.status());
      dotenv::Document keys_doc = dotenv::Document::Parse(keys->value_or(""));
      const dotenv::Entry* pub = doc.Find(names.public_name);
      j[names.public_name] = pub ? nlohmann::ordered_json(pub->value) : nlohmann::ordered_json(nullptr);
      auto candidates = dotenv::PrivateKeyCandidates(names.private_name, env, &keys_doc);
      j[names.private_name] = candidates.empty()
                                  ? nlohmann::ordered_json(nullptr)
                                  : nlohmann::ordered_json(std::string(candidates[0].data(), candidates[0].size()));
    }
    if (!positional.empty()) {
      if (!j.contains(positional[0])) return ctx.UsageError("KEY " + positional[0] + ": not a key name of these files");
      const auto& v = j[positional[0]];
      ctx.out() << (v.is_null() ? "" : v.get<std::string>()) << "\n";
      return kExitOk;
    }
    if (format_ == "json") {
      ctx.out() << j.dump() << "\n";
    } else {
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        ctx.out() << (first ? "" : " ") << k << "=" << (v.is_null() ? "" : v.get<std::string>());
        first = false;
      }
      ctx.out() << "\n";
    }
    return kExitOk;
  }

 private:
  FileFlags files_;
  std::string format_;
};

// ---- rotate ----

class RotateCommand : public DotenvCommand {
 public:
  std::string Synopsis() const override { return "Re-encrypt env files under a new keypair"; }
  std::string Help() const override {
    return "Usage: {{prog}} dotenv rotate [-f FILE]... [-fk KEYS_FILE]\n\n"
           "  Makes a new keypair and re-encrypts every encrypted value with it. Never locks you\n"
           "  out: the keys file first holds the new and the old key (\"NEW,OLD\"), then the env\n"
           "  file is replaced, then the old key is dropped; if a step fails the earlier files\n"
           "  are restored.\n";
  }
  void AddFlags(FlagSet& f) override { files_.Add(f); }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    std::vector<std::string> positional;
    int rc = 0;
    if (!SplitArgs(ctx, args, &positional, &rc)) return rc;
    files_.files.insert(files_.files.end(), positional.begin(), positional.end());
    Environment env = ProcessEnv();
    for (const std::string& file : files_.Files()) {
      StatusOr<std::string> text = ReadEnv(file);
      if (!text.ok()) return StatusExit(ctx, text.status());
      std::string keys_path = files_.KeysFileFor(file);
      auto keys = ReadKeys(ctx, keys_path);
      if (!keys.ok()) return StatusExit(ctx, keys.status());
      auto plan = dotenv::PlanRotate(file, *text, *keys, env);
      if (!plan.ok()) return StatusExit(ctx, plan.status());
      std::string warning;
      Status s = dotenv::CommitRotate(
          *plan, file, keys_path, *keys,
          [](const std::string& path, const std::string& data, unsigned mode, bool keep) {
            return WriteFileAtomic(path, data, static_cast<mode_t>(mode), {.keep_existing_mode = keep});
          },
          &warning);
      if (!s.ok()) return StatusExit(ctx, s);
      if (!warning.empty()) ctx.Warn("warning: " + warning);
      ctx.err() << "rotated " << file << " (" << plan->reencrypted << " values re-encrypted); new private key in "
                << keys_path << "\n";
    }
    return kExitOk;
  }

 private:
  FileFlags files_;
};

// ---- run ----

class RunCommand : public DotenvCommand {
 public:
  std::string Synopsis() const override { return "Run a command with decrypted env files in its environment"; }
  std::string Help() const override {
    return "Usage: {{prog}} dotenv run [-f FILE]... [--overload] -- CMD [ARGS...]\n\n"
           "  Decrypts the files into the command's environment only (nothing is written) and\n"
           "  replaces this process with it, so its exit code is the command's. Variables already\n"
           "  in the environment win unless --overload.\n";
  }
  void AddFlags(FlagSet& f) override {
    files_.Add(f);
    f.Section("Command Options");
    f.Bool("overload", &overload_, "File values win over the process environment.");
    f.Bool("o", &overload_, "Same as --overload.");
    f.Hide("o");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.empty()) return ctx.UsageError("missing command: " + ctx.program() + " dotenv run -f FILE -- CMD");
    Environment env = ProcessEnv();
    Loaded loaded;
    Status s = GetCommand::Load(ctx, files_, env, overload_, &loaded);
    if (!s.ok()) return StatusExit(ctx, s);
    if (!loaded.errors.empty()) {
      for (const Status& e : loaded.errors) ctx.err() << e.message() << "\n";
      return kExitError;
    }
    std::vector<std::string> storage;
    for (const auto& [k, v] : loaded.merged) storage.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& e : storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    std::vector<std::string> args_copy = args;
    for (std::string& a : args_copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::cout.flush();
    std::cerr.flush();
    ::execvpe(argv[0], argv.data(), envp.data());
    int err = errno;
    ctx.err() << "cannot run " << args[0] << ": " << std::strerror(err) << "\n";
    return err == ENOENT ? 127 : 126;
  }

 private:
  FileFlags files_;
  bool overload_ = false;
};

// ---- key sync (envdrift-compatible) ----

std::unique_ptr<keysync::KeyProvider> MakeProvider(Context& ctx, const keysync::ProviderSettings& settings, int* rc);

// A Vault-compatible server's KV store (v1 or v2, detected per mount): the secret's "value" field,
// or its only field, or DOTENV_PRIVATE_KEY_* fields as KEY=value lines. The mount is the
// mapping's vault_name, "secret" by default.
class HashicorpProvider : public keysync::KeyProvider {
 public:
  explicit HashicorpProvider(std::unique_ptr<client::VaultClient> c) : client_(std::move(c)) {}

  StatusOr<SecretString> Fetch(const std::string& name, const std::string& vault_name) override {
    ASSIGN_OR_RETURN(std::string path, DataPath(name, vault_name));
    client::Response r = client_->Read(path);
    if (r.status == 404) return NotFound("no secret " + name + " at " + path);
    if (!r.ok()) return Unavailable(FirstLine(r));
    const nlohmann::json* data = &r.body["data"];
    if (v2_ && data->is_object()) data = &(*data)["data"];
    if (!data->is_object() || data->empty()) return NotFound("secret " + name + " has no data");
    auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (data->contains("value")) return SecretString(text((*data)["value"]));
    if (data->size() == 1) return SecretString(text(data->begin().value()));
    SecretString lines;
    for (const auto& [k, v] : data->items()) {
      if (k.rfind("DOTENV_PRIVATE_KEY", 0) == 0) lines += SecretString(k + "=" + text(v) + "\n");
    }
    if (lines.empty()) return InvalidArgument("secret " + name + " has several fields and none is \"value\"");
    return lines;
  }

  Status Store(const std::string& name, const std::string& vault_name, std::string_view value) override {
    ASSIGN_OR_RETURN(std::string path, DataPath(name, vault_name));
    nlohmann::json body = nlohmann::json{{"value", std::string(value)}};
    if (v2_) body = nlohmann::json{{"data", body}};
    client::Response r = client_->Write(path, body);
    if (!r.ok()) return Unavailable(FirstLine(r));
    return OkStatus();
  }

 private:
  StatusOr<std::string> DataPath(const std::string& name, const std::string& vault_name) {
    std::string mount = vault_name.empty() ? "secret" : vault_name;
    client::Response err;
    auto kv = client_->ResolveKvMount(mount + "/" + name, &err);
    if (!kv) return Unavailable(FirstLine(err));
    v2_ = kv->version == 2;
    return kv->mount_path + (v2_ ? "data/" : "") + kv->relative;
  }
  static std::string FirstLine(const client::Response& r) {
    std::string t = r.ErrorText();
    for (char& c : t) {
      if (c == '\n') c = ' ';
    }
    return "vault: " + t;
  }

  std::unique_ptr<client::VaultClient> client_;
  bool v2_ = true;
};

// Builds the provider named by flags or config (settings.vault_url is the provider's own URL);
// on failure prints one line and sets *rc.
std::unique_ptr<keysync::KeyProvider> MakeProvider(Context& ctx, const keysync::ProviderSettings& settings,
                                                   int* rc) {
  const std::string& provider = settings.provider;
  const std::string& url = settings.vault_url;
  if (!settings.region.empty() && provider != "aws") {
    *rc = ctx.UsageError("--region: only the aws provider uses a region (provider is " +
                         (provider.empty() ? std::string("hashicorp") : provider) + ")");
    return nullptr;
  }
  if (provider.empty() || provider == "hashicorp") {
    std::string error;
    client::Config config = client::Config::FromEnvironment(&error);
    if (!error.empty()) {
      *rc = ctx.UsageError(error);
      return nullptr;
    }
    if (!url.empty()) config.address = url;
    return std::make_unique<HashicorpProvider>(std::make_unique<client::VaultClient>(config));
  }
  StatusOr<std::unique_ptr<keysync::KeyProvider>> cloud = keysync::MakeCloudProvider(settings);
  if (!cloud.ok()) {
    *rc = ctx.UsageError(cloud.status().message());
    return nullptr;
  }
  return std::move(*cloud);
}

int CryptCommand::VerifyVault(Context& ctx) {
  if (secret_.empty()) return ctx.UsageError("--verify-vault needs --secret NAME (the vault secret holding the key)");
  int rc = 0;
  auto provider = MakeProvider(ctx, {provider_, vault_url_, region_}, &rc);
  if (provider == nullptr) return rc;
  StatusOr<SecretString> raw = provider->Fetch(secret_, "");
  if (!raw.ok()) return StatusExit(ctx, raw.status());
  bool all_ok = true;
  for (const std::string& file : files_.Files()) {
    StatusOr<std::string> text = ReadEnv(file);
    if (!text.ok()) return StatusExit(ctx, text.status());
    dotenv::KeyNames names = dotenv::KeyNamesFor(file, dotenv::Document::Parse(*text));
    std::string env = names.private_name.size() > 19 ? names.private_name.substr(19) : "";
    for (char& c : env) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    StatusOr<SecretString> key = keysync::NormalizeKey(std::string_view(raw->data(), raw->size()), env);
    Status s = key.ok() ? keysync::CheckDecryption(file, names.private_name, std::string_view(key->data(), key->size()))
                        : key.status();
    if (s.ok()) {
      ctx.err() << "ok: the vault key (" << secret_ << ") decrypts " << file << "\n";
      continue;
    }
    all_ok = false;
    ctx.err() << "the vault key (" << secret_ << ") cannot decrypt " << file << ": " << s.message() << "\n"
              << "To repair:\n"
              << "  1. git restore " << file << "          # undo a local re-encryption with another key\n"
              << "  2. " << ctx.program() << " sync --force        # put the vault's key into .env.keys\n"
              << "  3. " << ctx.program() << " dotenv encrypt -f " << file << "   # re-encrypt with that key\n";
  }
  return all_ok ? kExitOk : kExitError;
}

class SyncCommand : public DotenvCommand {
 public:
  std::string Synopsis() const override { return "Sync dotenvx private keys from a vault (envdrift-compatible)"; }
  std::string Help() const override {
    return "Usage: {{prog}} sync [push] [-c FILE] [-p hashicorp|aws|azure] [--vault-url URL] [--region R]\n"
           "                   [--profile P] [--force] [--verify] [--check-decryption] [--ci]\n\n"
           "  For each mapping of envdrift.toml ([tool.envdrift] in pyproject.toml, or pair.txt;\n"
           "  found by walking up from the current directory) fetches the private key from the\n"
           "  vault and writes it to <folder>/.env.keys (mode 0600): created, skipped when equal,\n"
           "  replaced after a backup with --force. --verify changes nothing and exits 1 on any\n"
           "  mismatch or missing key. --check-decryption proves the key decrypts\n"
           "  <folder>/.env.<environment> (or the mapping's env_file). Mappings tagged with a\n"
           "  profile are used only with --profile <that profile>; untagged ones always.\n"
           "  `sync push` stores each folder's key in the vault as\n"
           "  DOTENV_PRIVATE_KEY_<ENV>=<hex>. The hashicorp provider reads KV (v2 at secret/ by\n"
           "  default) with VAULT_TOKEN / ~/.vault-token; aws uses Secrets Manager with the AWS\n"
           "  credential chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE); azure uses Key Vault with\n"
           "  AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET.\n";
  }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.String("c", &config_path_, "Config file (envdrift.toml, pyproject.toml or pair.txt).", "", "FILE");
    f.String("config", &config_path_, "Same as -c.", "", "FILE");
    f.String("p", &provider_, "Provider: hashicorp, aws or azure (overrides the config).", "", "NAME");
    f.String("provider", &provider_, "Same as -p.", "", "NAME");
    f.String("vault-url", &vault_url_, "Vault URL: hashicorp address or azure vault (overrides the config).", "",
             "URL");
    f.String("region", &region_, "AWS region (aws provider; overrides the config).", "", "REGION");
    f.Bool("force", &options_.force, "Replace a different local key (the old keys file is backed up).");
    f.Bool("verify", &options_.verify, "Change nothing; exit 1 on any mismatch or missing key.");
    f.Bool("check-decryption", &options_.check_decryption, "Prove each key decrypts <folder>/.env.<env>.");
    f.String("profile", &profile_, "Also use the mappings tagged with this profile (untagged ones always).", "",
             "NAME");
    f.Bool("ci", &ci_, "Never prompt; exit non-zero on any problem (the default behaviour here).");
    f.Hide("config");
    f.Hide("provider");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    std::vector<std::string> positional;
    int rc = 0;
    if (!SplitArgs(ctx, args, &positional, &rc)) return rc;
    bool push = !positional.empty() && positional[0] == "push";
    if (positional.size() > (push ? 1u : 0u)) return ctx.UsageError("unexpected argument \"" + positional.back() + "\"");
    StatusOr<keysync::SyncConfig> config = Status(StatusCode::kInternal, "");
    if (!config_path_.empty()) {
      config = keysync::LoadConfig(config_path_);
    } else {
      char cwd[4096];
      if (::getcwd(cwd, sizeof(cwd)) == nullptr) return ctx.Error("cannot read the current directory");
      config = keysync::FindConfig(cwd);
    }
    if (!config.ok()) return ctx.UsageError(config.status().message());
    if (config->mappings.empty()) return ctx.UsageError(config->path + ": no mappings");
    const std::vector<keysync::Mapping> selected = keysync::SelectMappings(*config, profile_);
    if (selected.empty()) {
      // envdrift: an empty selection is a failure, not a successful empty run.
      return ctx.Error(config->path + ": no mappings selected" +
                       (profile_.empty() ? std::string(" (every mapping has a profile; use --profile NAME)")
                                         : " for profile \"" + profile_ + "\""));
    }
    keysync::ProviderSettings settings;
    settings.provider = provider_.empty() ? config->provider : provider_;
    settings.vault_url = !vault_url_.empty()            ? vault_url_
                         : settings.provider == "azure" ? config->azure_vault_url
                                                        : config->hashicorp_url;
    settings.region = !region_.empty() ? region_ : settings.provider == "aws" ? config->aws_region : "";
    auto p = MakeProvider(ctx, settings, &rc);
    if (p == nullptr) return rc;

    std::vector<keysync::SyncResult> results;
    for (const keysync::Mapping& m : selected) {
      if (push) {
        keysync::SyncResult r;
        r.secret_name = m.secret_name;
        r.folder = m.folder_path;
        StatusOr<SecretString> key = keysync::LocalKey(*config, m);
        Status s = key.ok() ? p->Store(m.secret_name, m.vault_name,
                                       std::string(keysync::PrivateKeyName(m.environment) + "=") + key->c_str())
                            : key.status();
        r.outcome = s.ok() ? keysync::Outcome::kCreated : keysync::Outcome::kError;
        r.detail = s.ok() ? "pushed" : s.message();
        results.push_back(r);
      } else {
        results.push_back(keysync::SyncMapping(*config, m, *p, options_));
      }
    }
    bool all_ok = true;
    ctx.out() << "SECRET\tFOLDER\tRESULT\tDETAIL\n";
    for (const auto& r : results) {
      all_ok = all_ok && r.ok();
      ctx.out() << r.secret_name << "\t" << r.folder << "\t" << (push && r.ok() ? "pushed" : keysync::OutcomeName(r.outcome))
                << "\t" << r.detail << "\n";
    }
    ctx.err() << results.size() << " mapping(s) from " << config->path << (all_ok ? ": ok" : ": problems found")
              << "\n";
    return all_ok ? kExitOk : kExitError;
  }

 private:
  std::string config_path_, provider_, vault_url_, region_, profile_;
  keysync::SyncOptions options_;
  bool ci_ = false;
};

}  // namespace

void RegisterDotenvCommands(Registry& r) {
  r.Add<SyncCommand>("sync", Personality::kCofferOnly);
  r.AddGroup("dotenv", "dotenvx-compatible encrypted .env files", kDotenvHelp, Personality::kCofferOnly);
  r.Add<EncryptCommand>("dotenv encrypt", Personality::kCofferOnly);
  r.Add<DecryptCommand>("dotenv decrypt", Personality::kCofferOnly);
  r.Add<GetCommand>("dotenv get", Personality::kCofferOnly);
  r.Add<SetCommand>("dotenv set", Personality::kCofferOnly);
  r.Add<KeypairCommand>("dotenv keypair", Personality::kCofferOnly);
  r.Add<RotateCommand>("dotenv rotate", Personality::kCofferOnly);
  r.Add<RunCommand>("dotenv run", Personality::kCofferOnly);
}

}  // namespace coffer::cli
