// `coffer s3 ...`: envelope-encrypted secrets in an S3-compatible bucket (Sindri's object format),
// see docs/s3.md. Coffer-only. Settings come from the `secrets.backend` block of coffer.yaml or
// sindri.yaml (nearest in the current directory or a parent; -c FILE overrides); flags override
// the file. Exit codes: 2 for bad flags, keys, config or input (one line naming the flag or
// field); 1 for S3, network and crypto failures. Secret values never appear in messages.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "base/file_io.h"
#include "base/encoding.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"
#include "crypto/hash.h"
#include "formats/age/keys.h"
#include "formats/dotenv/parser.h"
#include "s3/backend.h"
#include "s3/client.h"
#include "s3/config.h"
#include "s3/credentials.h"
#include "s3/object.h"
#include "s3/store.h"

namespace coffer::cli {
namespace {

constexpr size_t kMaxValueSize = 4 * 1024 * 1024;

std::string Cwd() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof(buf)) ? std::string(buf) : std::string(".");
}

bool IsShellName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

int StatusExit(Context& ctx, const Status& s, std::string_view prefix = "Error: ") {
  std::string msg = std::string(prefix) + s.message();
  if (s.code() == StatusCode::kInvalidArgument) return ctx.UsageError(msg);
  return ctx.Error(msg);
}

Status MkdirParents(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return OkStatus();
  std::string dir = path.substr(0, slash), cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if ((i == dir.size() || dir[i] == '/') && !cur.empty()) {
      if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
        return Unavailable("cannot create directory \"" + cur + "\": " + std::strerror(errno));
      }
    }
    if (i < dir.size()) cur.push_back(dir[i]);
  }
  return OkStatus();
}

std::optional<std::string> ReadWhole(const std::string& path, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Asks on the terminal; false without one.
bool ConfirmOnTty(const std::string& question) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  (void)!::write(fd, question.data(), question.size());
  char buf[16] = {0};
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  return n > 0 && (buf[0] == 'y' || buf[0] == 'Y');
}

// Flags shared by every s3 command, and the setup they all need.
class S3Command : public Command {
 public:
  unsigned Flags() const override { return kNoGlobalFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("S3 Backend Options (override coffer.yaml / sindri.yaml)");
    f.String("c", &config_file_, "Load the secrets.backend block from FILE instead of the nearest coffer.yaml or sindri.yaml.", "", "FILE");
    f.String("config", &config_file_, "Same as -c.", "", "FILE");
    f.String("bucket", &bucket_, "The bucket.", "", "NAME");
    f.String("region", &region_, "The bucket's region (default: config, AWS_REGION, the AWS profile, us-east-1).", "", "REGION");
    f.String("endpoint", &endpoint_, "An S3-compatible endpoint URL (MinIO, s3rver, ...); path-style addressing.", "", "URL");
    f.String("prefix", &prefix_, "The key prefix (default \"secrets/\").", "", "PREFIX");
    f.String("key-file", &key_file_, "The master key (an age identity file).", "", "FILE");
    f.String("key-env", &key_env_, "Read the master key from this environment variable.", "", "VAR");
    f.Bool("no-cache", &no_cache_, "Do not read or write the local encrypted cache.");
    f.Bool("bind-aad", &bind_aad_, "Write version 1.1 objects that bind name and path as associated data (Sindri cannot read them).");
    AddOwnFlags(f);
  }
  virtual void AddOwnFlags(FlagSet& f) {}
  // The issue's syntax puts flags after NAME (`push NAME --stdin`): flags may follow positional
  // arguments; everything after "--" is positional.
  bool OwnsFlagConventions() const override { return true; }
  int Run(Context& ctx, const std::vector<std::string>& args) final {
    std::vector<std::string> positional, rest = args;
    while (!rest.empty()) {
      const std::string& a = rest.front();
      if (a == "--") {
        positional.insert(positional.end(), rest.begin() + 1, rest.end());
        break;
      }
      if (a.size() > 1 && a[0] == '-') {
        FlagSet fs;
        AddFlags(fs);  // binds to the same members
        FlagSet::ParseResult r = fs.Parse(rest);
        if (r == FlagSet::ParseResult::kError) return ctx.UsageError(fs.error());
        if (r == FlagSet::ParseResult::kHelp) return ctx.UsageError("-h must come before the arguments");
        size_t consumed = rest.size() - fs.args().size();
        bool dashdash = consumed > 0 && rest[consumed - 1] == "--";
        rest = fs.args();
        if (dashdash) {
          positional.insert(positional.end(), rest.begin(), rest.end());
          break;
        }
        continue;
      }
      positional.push_back(a);
      rest.erase(rest.begin());
    }
    return Execute(ctx, positional);
  }
  virtual int Execute(Context& ctx, const std::vector<std::string>& args) = 0;

 protected:
  // Loads config + flags into cfg_. Returns 0 or an exit code.
  int LoadConfig(Context& ctx) {
    auto cfg = s3::LoadS3Config(config_file_, Cwd());
    if (!cfg.ok()) return ctx.UsageError("Error: " + cfg.status().message());
    cfg_ = std::move(*cfg);
    auto& b = cfg_.backend;
    if (!bucket_.empty()) b.bucket = bucket_;
    if (!region_.empty()) b.region = region_;
    if (!endpoint_.empty()) b.endpoint = endpoint_;
    if (!prefix_.empty()) b.prefix = prefix_;
    if (!key_file_.empty()) {
      b.key_source = "file";
      b.key_file = key_file_;
    }
    if (!key_env_.empty()) {
      b.key_source = "env";
      b.key_env = key_env_;
    }
    if (no_cache_) b.cache_enabled = false;
    if (bind_aad_) b.bind_aad = true;
    if (!b.endpoint.empty() && b.endpoint.rfind("http://", 0) != 0 && b.endpoint.rfind("https://", 0) != 0) {
      return ctx.UsageError("--endpoint: expected an http:// or https:// URL");
    }
    s3::ApplyDefaultRegion(&b);
    return 0;
  }

  // Reads identities from a file, warning about loose permissions. Returns 0 or an exit code.
  static int LoadKeyFile(Context& ctx, const std::string& flag, const std::string& raw_path,
                         std::vector<age::X25519Identity>* out) {
    auto ids = s3::LoadIdentityFile(flag, raw_path, [&ctx](const std::string& w) { ctx.Warn(w); });
    if (!ids.ok()) return ctx.UsageError(ids.status().message());
    for (auto& i : *ids) out->push_back(std::move(i));
    return 0;
  }

  // The master key as encryption.key_source says (shared with the resolver: s3/backend.h).
  int LoadMasterKey(Context& ctx) {
    auto ids = s3::LoadMasterKey(cfg_.backend, [&ctx](const std::string& w) { ctx.Warn(w); });
    if (!ids.ok()) return ctx.UsageError(ids.status().message());
    identities_ = std::move(*ids);
    return 0;
  }

  StatusOr<std::unique_ptr<s3::S3Client>> MakeClient() { return s3::MakeBackendClient(cfg_.backend); }

  // Config, key, client, store. Returns 0 or an exit code.
  int Setup(Context& ctx) {
    if (int rc = LoadConfig(ctx)) return rc;
    if (cfg_.backend.bucket.empty()) {
      return ctx.UsageError("--bucket: no bucket configured (set secrets.backend.bucket in coffer.yaml or pass --bucket)");
    }
    if (int rc = LoadMasterKey(ctx)) return rc;
    auto client = MakeClient();
    if (!client.ok()) return StatusExit(ctx, client.status());
    s3::StoreOptions so = s3::StoreOptionsFor(cfg_.backend, [&ctx](const std::string& w) { ctx.Warn(w); });
    auto store = s3::Store::Create(std::move(*client), so, identities_, {});
    if (!store.ok()) return StatusExit(ctx, store.status());
    store_ = std::move(*store);
    return 0;
  }

  s3::S3Config cfg_;
  std::vector<age::X25519Identity> identities_;
  std::unique_ptr<s3::Store> store_;
  std::string config_file_, bucket_, region_, endpoint_, prefix_, key_file_, key_env_;
  bool no_cache_ = false, bind_aad_ = false;
};

// ---------------------------------------------------------------------------------------------

Status GenerateKeyFile(const std::string& raw_path, bool force, std::string* recipient) {
  std::string path = s3::ExpandHome(raw_path);
  RETURN_IF_ERROR(MkdirParents(path));
  age::X25519Identity id = age::X25519Identity::Generate();
  SecretString text = age::FormatIdentityFile(id, static_cast<int64_t>(std::time(nullptr)));
  RETURN_IF_ERROR(WriteFileAtomic(path, std::string_view(text.data(), text.size()), 0600, {.exclusive = !force}));
  *recipient = id.recipient().String();
  return OkStatus();
}

constexpr char kGitignoreAdvice[] =
    "Keep the master key out of version control, e.g. add to .gitignore:\n"
    "    *.key\n"
    "    .coffer/\n"
    "Share the public key with teammates; never the key file.";

class S3InitCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Set up a bucket, a master key and a coffer.yaml"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 init --bucket NAME [--region R] [--endpoint URL] [--key-file FILE]
                      [--create-bucket] [--output FILE]

  Generates a master key (an age X25519 identity, mode 0600) unless the key
  file already exists, prints its public key, checks that the bucket is
  reachable (creating it with --create-bucket), and writes a config with the
  secrets.backend block that Coffer (and Sindri) can load. The config is
  written to coffer.yaml unless --output names another file; an existing file
  is not overwritten without --force.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Init Options");
    f.Bool("create-bucket", &create_, "Create the bucket if it does not exist.");
    f.String("output", &output_, "Write the config to FILE (default coffer.yaml).", "", "FILE");
    f.Bool("force", &force_, "Overwrite an existing config file.");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (bucket_.empty()) return ctx.UsageError("--bucket: required");
    if (int rc = LoadConfig(ctx)) return rc;
    auto& b = cfg_.backend;
    if (output_.empty()) output_ = "coffer.yaml";
    struct stat st {};
    if (!force_ && ::stat(output_.c_str(), &st) == 0) {
      return ctx.UsageError("--output: \"" + output_ + "\" already exists (use --force to overwrite)");
    }
    // Key: reuse an existing one, else generate.
    std::string key_path = s3::ExpandHome(b.key_file);
    std::string recipient;
    if (b.key_source == "file" && ::stat(key_path.c_str(), &st) != 0) {
      Status s = GenerateKeyFile(b.key_file, false, &recipient);
      if (!s.ok()) return StatusExit(ctx, s);
      ctx.err() << "Generated master key " << key_path << " (mode 0600)\n";
    } else {
      if (int rc = LoadMasterKey(ctx)) return rc;
      recipient = identities_.front().recipient().String();
      ctx.err() << "Using existing master key " << (b.key_source == "env" ? "$" + b.key_env : key_path) << "\n";
    }
    ctx.out() << "Public key: " << recipient << "\n";
    ctx.err() << kGitignoreAdvice << "\n";
    auto client = MakeClient();
    if (!client.ok()) return StatusExit(ctx, client.status());
    Status check = (*client)->CheckBucket();
    if (check.code() == StatusCode::kNotFound) {
      if (!create_) {
        return ctx.Error("Error: bucket \"" + b.bucket + "\" does not exist (pass --create-bucket to create it)");
      }
      Status c = (*client)->CreateBucket();
      if (!c.ok()) return StatusExit(ctx, c, "Error: creating the bucket: ");
      ctx.err() << "Created bucket " << b.bucket << " in " << b.region << "\n";
    } else if (!check.ok()) {
      return StatusExit(ctx, check);
    }
    Status w = WriteFileAtomic(output_, s3::RenderS3Config(b), 0644);
    if (!w.ok()) return StatusExit(ctx, w);
    ctx.err() << "Wrote " << output_ << "\n";
    return kExitOk;
  }

 private:
  bool create_ = false, force_ = false;
  std::string output_;
};

class S3KeygenCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Generate a master key (age X25519 identity)"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 keygen [--output FILE] [--force]

  Writes a new age identity (age-keygen format, mode 0600) to FILE, by default
  the configured key_file, and prints its public key. An existing file is kept
  unless --force is given.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Keygen Options");
    f.String("output", &output_, "Where to write the key (default: the configured key_file).", "", "FILE");
    f.String("o", &output_, "Same as --output.", "", "FILE");
    f.Bool("force", &force_, "Overwrite an existing key file.");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (int rc = LoadConfig(ctx)) return rc;
    std::string path = output_.empty() ? cfg_.backend.key_file : output_;
    std::string recipient;
    Status s = GenerateKeyFile(path, force_, &recipient);
    if (s.code() == StatusCode::kPreconditionFailed) {
      return ctx.UsageError("--output: key file \"" + s3::ExpandHome(path) + "\" already exists (use --force to replace it)");
    }
    if (!s.ok()) return StatusExit(ctx, s);
    ctx.out() << "Public key: " << recipient << "\n";
    ctx.err() << "Wrote " << s3::ExpandHome(path) << " (mode 0600)\n" << kGitignoreAdvice << "\n";
    return kExitOk;
  }

 private:
  std::string output_;
  bool force_ = false;
};

class S3PushCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Encrypt a secret and upload it"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 push NAME (--value V | --from-file F | --stdin) [--s3-path P]
                      [--force] [--recipient age1...]

  Encrypts the value under a fresh data key, wraps the key for the master key
  (and every --recipient), and uploads the object to <prefix><path>.json. The
  path defaults to the declared s3_path of NAME in the config, else NAME. An
  existing secret is not overwritten without --force.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Push Options");
    f.String("value", &value_, "The value (visible in the process list; prefer --stdin).", "", "V");
    f.String("from-file", &from_file_, "Read the value from FILE.", "", "F");
    f.Bool("stdin", &stdin_, "Read the value from standard input.");
    f.String("s3-path", &path_, "The object path under the prefix (default: NAME).", "", "P");
    f.Bool("force", &force_, "Overwrite an existing secret.");
    f.StringList("recipient", &recipients_, "Also encrypt to this age recipient. Can be repeated.", false, "age1...");
    f.String("description", &description_, "A description stored in the object's metadata.", "", "TEXT");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    int sources = (!value_.empty() ? 1 : 0) + (!from_file_.empty() ? 1 : 0) + (stdin_ ? 1 : 0);
    if (sources != 1) return ctx.UsageError("push: give exactly one of --value, --from-file or --stdin");
    s3::PushOptions po;
    for (const auto& r : recipients_) {
      auto rec = age::X25519Recipient::Parse(r);
      if (!rec.ok()) return ctx.UsageError("--recipient: \"" + r + "\" is not an age1... recipient");
      po.extra_recipients.push_back(std::move(*rec));
    }
    SecretString value;
    if (!value_.empty()) {
      value.assign(value_.begin(), value_.end());
      SecureWipe(value_.data(), value_.size());
    } else if (stdin_) {
      std::ostringstream ss;
      ss << ctx.in().rdbuf();
      std::string s = ss.str();
      value.assign(s.begin(), s.end());
      SecureWipe(s.data(), s.size());
    } else {
      std::string why;
      auto s = ReadWhole(from_file_, &why);
      if (!s) return ctx.UsageError("--from-file: cannot read \"" + from_file_ + "\": " + why);
      value.assign(s->begin(), s->end());
      SecureWipe(s->data(), s->size());
    }
    if (value.size() > kMaxValueSize) return ctx.UsageError("push: the value is larger than 4 MiB");
    if (int rc = Setup(ctx)) return rc;
    po.path = path_;
    if (po.path.empty()) {
      for (const auto& d : cfg_.secrets) {
        if (d.name == args[0] && !d.s3_path.empty()) po.path = d.s3_path;
      }
    }
    po.force = force_;
    if (!description_.empty()) po.description = description_;
    Status s = store_->Push(args[0], SecretBytes(value.begin(), value.end()), po);
    if (!s.ok()) return StatusExit(ctx, s);
    ctx.err() << "Pushed " << args[0] << " to " << store_->objects().Describe() << "/"
              << store_->KeyFor(po.path.empty() ? args[0] : po.path) << "\n";
    return kExitOk;
  }

 private:
  std::string value_, from_file_, path_, description_;
  bool stdin_ = false, force_ = false;
  std::vector<std::string> recipients_;
};

class S3PullCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Download and decrypt a secret"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 pull NAME [--s3-path P] [--show | --export | --output FILE]
       {{prog}} s3 pull NAME... --export

  Fetches and decrypts a secret. --show prints the value (asking for
  confirmation first when stdout is a terminal; --yes skips the question),
  --export prints `export NAME='value'` quoted for POSIX shells, --output
  writes the value to FILE with mode 0600. Without any of them the value is
  written to stdout only when stdout is not a terminal.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Pull Options");
    f.String("s3-path", &path_, "The object path under the prefix (default: NAME).", "", "P");
    f.Bool("show", &show_, "Print the value.");
    f.Bool("export", &export_, "Print export NAME='value'.");
    f.String("output", &output_, "Write the value to FILE (mode 0600).", "", "FILE");
    f.Bool("yes", &yes_, "Do not ask before showing the value on a terminal.");
    f.Int("parallel", &parallel_, "With several NAMEs: requests in flight at once (default 4).", "N");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, export_ ? -1 : 1)) return rc;
    int modes = (show_ ? 1 : 0) + (export_ ? 1 : 0) + (!output_.empty() ? 1 : 0);
    if (modes > 1) return ctx.UsageError("pull: give at most one of --show, --export and --output");
    if (parallel_ < 1 || parallel_ > 64) return ctx.UsageError("--parallel: expected 1 to 64");
    for (const auto& name : args) {
      if (export_ && !IsShellName(name)) {
        return ctx.UsageError("--export: \"" + name + "\" is not a valid shell variable name");
      }
    }
    if (export_ && (args.size() > 1 || !path_.empty())) {
      if (args.size() > 1 && !path_.empty()) return ctx.UsageError("--s3-path: only with a single NAME");
      if (int rc = Setup(ctx)) return rc;
      // Several names in one process: a few requests in flight, each on a pooled keep-alive
      // connection.
      std::vector<std::pair<std::string, std::string>> items;
      for (const auto& name : args) items.emplace_back(name, path_.empty() ? DeclaredPath(name) : path_);
      auto rs = store_->PullMany(items, static_cast<int>(parallel_));
      if (!rs.ok()) return StatusExit(ctx, rs.status());
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) {
        out += "export " + args[i] + "=" + ShellQuote(AsStringView((*rs)[i].value)) + "\n";
      }
      ctx.out() << out;
      ctx.out().flush();
      SecureWipe(out.data(), out.size());
      return kExitOk;
    }
    bool tty = ::isatty(STDOUT_FILENO) == 1 && &ctx.out() == &std::cout;
    if (modes == 0 && tty) {
      return ctx.UsageError("pull: stdout is a terminal; use --show, --export or --output FILE");
    }
    if (int rc = Setup(ctx)) return rc;
    std::string path = path_.empty() ? DeclaredPath(args[0]) : path_;
    auto r = store_->Pull(args[0], path);
    if (!r.ok()) return StatusExit(ctx, r.status());
    std::string_view v = AsStringView(r->value);
    if (!output_.empty()) {
      Status s = WriteFileAtomic(output_, v, 0600);
      if (!s.ok()) return StatusExit(ctx, s);
      ctx.err() << "Wrote " << args[0] << " to " << output_ << " (mode 0600)\n";
      return kExitOk;
    }
    if (show_ && tty && !yes_ && !ConfirmOnTty("Show the value of " + args[0] + " on the terminal? [y/N] ")) {
      return ctx.Error("Not shown.");
    }
    if (export_) {
      std::string line = "export " + args[0] + "=" + ShellQuote(v) + "\n";
      ctx.out() << line;
      SecureWipe(line.data(), line.size());
    } else {
      ctx.out().write(v.data(), static_cast<std::streamsize>(v.size()));
      if (show_ && tty) ctx.out() << "\n";
    }
    ctx.out().flush();
    return kExitOk;
  }

 private:
  std::string DeclaredPath(const std::string& name) const {
    for (const auto& d : cfg_.secrets) {
      if (d.name == name && !d.s3_path.empty()) return d.s3_path;
    }
    return "";
  }
  std::string path_, output_;
  bool show_ = false, export_ = false, yes_ = false;
  int64_t parallel_ = 4;
};

class S3ListCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "List the secrets in the bucket"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 list [--long]

  Lists the secret paths under the prefix, one per line. --long adds the size
  and the last-modified time. Values are not fetched.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("List Options");
    f.Bool("long", &long_, "Show size and last-modified time.");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (int rc = Setup(ctx)) return rc;
    auto l = store_->List();
    if (!l.ok()) return StatusExit(ctx, l.status());
    for (const auto& e : *l) {
      if (long_) {
        ctx.out() << e.path << "\t" << e.size << "\t" << e.last_modified << "\n";
      } else {
        ctx.out() << e.path << "\n";
      }
    }
    return kExitOk;
  }

 private:
  bool long_ = false;
};

class S3PushFromEnvCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Push every variable of a .env file"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 push-from-env FILE [--path-prefix P] [--force]

  Pushes each variable of the dotenv FILE as a secret named after it (path:
  P + NAME), reporting each one. Existing secrets are skipped unless --force.
  Exits 1 if any variable could not be pushed.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Push-from-env Options");
    f.String("path-prefix", &path_prefix_, "Prepend P to each secret's path.", "", "P");
    f.Bool("force", &force_, "Overwrite existing secrets.");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    std::string why;
    auto text = ReadWhole(args[0], &why);
    if (!text) return ctx.UsageError("push-from-env: cannot read \"" + args[0] + "\": " + why);
    dotenv::Document doc = dotenv::Document::Parse(*text);
    SecureWipe(text->data(), text->size());
    if (doc.entries().empty()) return ctx.UsageError("push-from-env: \"" + args[0] + "\" has no variables");
    if (int rc = Setup(ctx)) return rc;
    std::map<std::string, std::string> last;  // the last assignment wins
    std::vector<std::string> order;
    for (const auto& e : doc.entries()) {
      if (!last.count(e.key)) order.push_back(e.key);
      last[e.key] = e.value;
    }
    int pushed = 0, skipped = 0, failed = 0;
    for (const auto& k : order) {
      s3::PushOptions po;
      po.path = path_prefix_ + k;
      po.force = force_;
      std::string& v = last[k];
      Status s = store_->Push(k, SecretBytes(v.begin(), v.end()), po);
      SecureWipe(v.data(), v.size());
      if (s.ok()) {
        ctx.out() << "pushed  " << k << "\n";
        ++pushed;
      } else if (s.code() == StatusCode::kPreconditionFailed) {
        ctx.out() << "skipped " << k << " (exists; use --force)\n";
        ++skipped;
      } else {
        ctx.out() << "failed  " << k << ": " << s.message() << "\n";
        ++failed;
      }
    }
    ctx.err() << pushed << " pushed, " << skipped << " skipped, " << failed << " failed\n";
    return failed ? kExitError : kExitOk;
  }

 private:
  std::string path_prefix_;
  bool force_ = false;
};

// sync: three-way comparison per secret of the local value (the environment, or --env-file),
// the base (the encrypted cache entry written at the last sync/push/pull) and the bucket.
class S3SyncCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Reconcile local values, the cache and the bucket"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 sync [--env-file FILE] [--direction push|pull|both] [--dry-run] [--force]

  Compares, for each declared secret (source: s3 in the config; else every
  variable of --env-file; else every secret in the bucket), the local value
  (the environment variable of that name, or --env-file), the bucket's value,
  and the base recorded in the encrypted cache at the last sync, by content
  hash and updated_at. Prints the plan first, then applies it:
    push      local changed (or new), bucket unchanged since the base
    pull      bucket changed (or new), local unchanged: the cache is refreshed
    conflict  both changed since the base: left alone unless --force, which
              takes the side of --direction (push: local, pull: bucket)
  --dry-run prints the plan and changes nothing.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Sync Options");
    f.String("direction", &direction_, "push, pull or both (default both).", "", "DIR");
    f.String("env-file", &env_file_, "Take local values from this dotenv file instead of the environment.", "", "FILE");
    f.Bool("dry-run", &dry_run_, "Print the plan only.");
    f.Bool("force", &force_, "Resolve conflicts in favour of --direction.");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (direction_.empty()) direction_ = "both";
    if (direction_ != "push" && direction_ != "pull" && direction_ != "both") {
      return ctx.UsageError("--direction: expected push, pull or both (got \"" + direction_ + "\")");
    }
    if (force_ && direction_ == "both") {
      return ctx.UsageError("--force: needs --direction push or pull to know which side wins");
    }
    std::map<std::string, std::string> file_values;
    bool have_file = !env_file_.empty();
    if (have_file) {
      std::string why;
      auto text = ReadWhole(env_file_, &why);
      if (!text) return ctx.UsageError("--env-file: cannot read \"" + env_file_ + "\": " + why);
      dotenv::Document doc = dotenv::Document::Parse(*text);
      for (const auto& e : doc.entries()) file_values[e.key] = e.value;
      SecureWipe(text->data(), text->size());
    }
    if (int rc = Setup(ctx)) return rc;
    if (!cfg_.backend.cache_enabled) {
      return ctx.UsageError("sync: needs the cache (its entries are the sync base); remove --no-cache / cache.enabled: false");
    }
    std::vector<s3::DeclaredSecret> items = cfg_.secrets;
    if (items.empty() && have_file) {
      for (const auto& [k, v] : file_values) items.push_back({k, ""});
    }
    if (items.empty()) {
      auto l = store_->List();
      if (!l.ok()) return StatusExit(ctx, l.status());
      for (const auto& e : *l) items.push_back({"", e.path});
    }
    struct Plan {
      std::string name, path, action, reason;
      std::optional<SecretBytes> local, remote;
      std::string remote_updated;
    };
    std::vector<Plan> plans;
    for (const auto& d : items) {
      Plan p;
      p.path = d.s3_path.empty() ? d.name : d.s3_path;
      p.name = d.name;
      if (!d.name.empty()) {
        if (have_file) {
          if (auto it = file_values.find(d.name); it != file_values.end()) p.local = ToSecretBytes(it->second);
        } else if (const char* v = std::getenv(d.name.c_str())) {
          p.local = ToSecretBytes(v);
        }
      }
      auto remote = store_->Fetch(d.name, p.path);
      if (remote.ok()) {
        p.remote = std::move(remote->value);
        p.remote_updated = remote->object.updated_at;
        if (p.name.empty()) p.name = remote->object.secret_name;
      } else if (remote.status().code() != StatusCode::kNotFound) {
        return StatusExit(ctx, remote.status());
      }
      auto base = store_->CacheGet(p.path);
      auto hash = [](const SecretBytes& v) { return HexEncode(crypto::Sha256(AsStringView(v))); };
      bool local_changed = p.local && (!base || !ConstantTimeEquals(hash(*p.local), base->sha256));
      bool remote_changed = p.remote && (!base || base->updated_at != p.remote_updated ||
                                         !ConstantTimeEquals(hash(*p.remote), base->sha256));
      if (p.local && p.remote && ConstantTimeEquals(AsStringView(*p.local), AsStringView(*p.remote))) {
        p.action = "in-sync";
      } else if (!p.local && !p.remote) {
        p.action = "missing";
        p.reason = "neither local nor in the bucket";
      } else if (p.local && !p.remote) {
        p.action = "push";
        p.reason = "not in the bucket";
      } else if (!p.local && p.remote) {
        p.action = "pull";
        p.reason = "not set locally";
      } else if (local_changed && !remote_changed) {
        p.action = "push";
        p.reason = "changed locally";
      } else if (remote_changed && !local_changed) {
        p.action = "pull";
        p.reason = "changed in the bucket";
      } else {
        p.action = "conflict";
        p.reason = base ? "changed on both sides since the last sync" : "differs and there is no common base";
      }
      if ((p.action == "push" && direction_ == "pull") || (p.action == "pull" && direction_ == "push")) {
        p.reason += "; skipped by --direction " + direction_;
        p.action = "skip";
      }
      if (p.action == "conflict" && force_) {
        p.action = direction_;
        p.reason += "; --force takes the " + std::string(direction_ == "push" ? "local" : "bucket") + " side";
      }
      plans.push_back(std::move(p));
    }
    ctx.out() << "Plan" << (dry_run_ ? " (dry run, nothing will change)" : "") << ":\n";
    int conflicts = 0;
    for (const auto& p : plans) {
      ctx.out() << "  " << p.action << std::string(p.action.size() < 9 ? 9 - p.action.size() : 1, ' ') << p.name
                << (p.path != p.name ? " (" + p.path + ")" : "") << (p.reason.empty() ? "" : ": " + p.reason) << "\n";
      if (p.action == "conflict") ++conflicts;
    }
    if (dry_run_) return kExitOk;
    int failed = 0;
    for (auto& p : plans) {
      Status s;
      if (p.action == "push") {
        s3::PushOptions po;
        po.path = p.path;
        po.force = true;
        s = store_->Push(p.name, *p.local, po);
      } else if (p.action == "pull" || p.action == "in-sync") {
        s = store_->CachePut(p.path, p.action == "pull" ? *p.remote : *p.local, p.remote_updated);
      }
      if (!s.ok()) {
        ctx.err() << "failed " << p.name << ": " << s.message() << "\n";
        ++failed;
      }
    }
    if (conflicts) ctx.err() << conflicts << " conflict(s) left alone (use --force with --direction push|pull)\n";
    return failed || conflicts ? kExitError : kExitOk;
  }

 private:
  std::string direction_, env_file_;
  bool dry_run_ = false, force_ = false;
};

class S3RotateCommand : public S3Command {
 public:
  std::string Synopsis() const override { return "Re-wrap every data key for a new master key"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} s3 rotate --new-key FILE [--old-key FILE] [--add-only]
                        [--remove-recipient age1...]

  Re-wraps each object's data key for the new recipient set without
  re-encrypting the values: the new key's recipient, plus (with --add-only)
  the recipients the object already had, minus every --remove-recipient.
  Each rewritten object is read back and decrypted with the new key before
  the next one. Objects already in the target state are skipped, so an
  interrupted rotation is resumed by running the same command again. The
  old key is --old-key, else the configured master key.)";
  }
  void AddOwnFlags(FlagSet& f) override {
    f.Section("Rotate Options");
    f.String("new-key", &new_key_, "The new master key (age identity file).", "", "FILE");
    f.String("old-key", &old_key_, "The current master key (default: the configured one).", "", "FILE");
    f.Bool("add-only", &add_only_, "Keep the existing recipients (gradual roll-out).");
    f.StringList("remove-recipient", &remove_, "Drop this recipient. Can be repeated.", false, "age1...");
  }
  int Execute(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (new_key_.empty()) return ctx.UsageError("--new-key: required");
    for (const auto& r : remove_) {
      if (!age::X25519Recipient::Parse(r).ok()) {
        return ctx.UsageError("--remove-recipient: \"" + r + "\" is not an age1... recipient");
      }
    }
    std::vector<age::X25519Identity> new_ids, old_ids;
    if (int rc = LoadKeyFile(ctx, "--new-key", new_key_, &new_ids)) return rc;
    if (!old_key_.empty()) {
      if (int rc = LoadKeyFile(ctx, "--old-key", old_key_, &old_ids)) return rc;
      key_file_ = old_key_;
    }
    if (int rc = Setup(ctx)) return rc;
    s3::RotateOptions ro;
    ro.old_identities = old_ids;
    ro.new_identity = new_ids.front();
    ro.add_only = add_only_;
    ro.remove_recipients = remove_;
    if (const char* s = std::getenv("COFFER_TEST_ROTATE_STOP_AFTER"); s && *s) ro.stop_after = std::atoi(s);
    bool tty = ::isatty(STDERR_FILENO) == 1 && &ctx.err() == &std::cerr;
    if (tty) {
      ro.progress = [&ctx](size_t done, size_t total) {
        int width = 30;
        int fill = total ? static_cast<int>(width * done / total) : width;
        ctx.err() << "\r[" << std::string(fill, '#') << std::string(width - fill, ' ') << "] " << done << "/" << total
                  << std::flush;
        if (done == total) ctx.err() << "\n";
      };
    }
    auto rep = store_->Rotate(ro);
    if (!rep.ok()) return StatusExit(ctx, rep.status(), "Error: rotation stopped: ");
    for (const auto& f : rep->failed) ctx.err() << "failed " << f << "\n";
    ctx.out() << "Rotated " << rep->rotated << ", already done " << rep->already_done << ", failed "
              << rep->failed.size() << "\n";
    if (!rep->failed.empty()) return ctx.Error("Error: some objects were not rotated; fix and re-run (it resumes)");
    if (!add_only_) ctx.err() << "Point key_file at the new key (" << s3::ExpandHome(new_key_) << ") in your config.\n";
    return kExitOk;
  }

 private:
  std::string new_key_, old_key_;
  bool add_only_ = false;
  std::vector<std::string> remove_;
};

constexpr char kS3Help[] = R"(Usage: {{prog}} s3 <subcommand> [options] [args]

  Envelope-encrypted secrets in any S3-compatible bucket, in Sindri's object
  format: each value is encrypted with its own ChaCha20-Poly1305 data key,
  wrapped with age X25519 for the master key and any other recipients.
  Settings come from the secrets.backend block of coffer.yaml or sindri.yaml;
  flags override them. See docs/s3.md.

      $ {{prog}} s3 init --bucket team-secrets --region eu-west-1 --create-bucket
      $ {{prog}} s3 push DB_PASSWORD --stdin < password.txt
      $ {{prog}} s3 pull DB_PASSWORD --export)";

}  // namespace

void RegisterS3Commands(Registry& r) {
  r.AddGroup("s3", "Encrypted secrets in an S3 bucket (Sindri-compatible)", kS3Help, Personality::kCofferOnly);
  r.Add<S3InitCommand>("s3 init", Personality::kCofferOnly);
  r.Add<S3KeygenCommand>("s3 keygen", Personality::kCofferOnly);
  r.Add<S3PushCommand>("s3 push", Personality::kCofferOnly);
  r.Add<S3PullCommand>("s3 pull", Personality::kCofferOnly);
  r.Add<S3ListCommand>("s3 list", Personality::kCofferOnly);
  r.Add<S3PushFromEnvCommand>("s3 push-from-env", Personality::kCofferOnly);
  r.Add<S3SyncCommand>("s3 sync", Personality::kCofferOnly);
  r.Add<S3RotateCommand>("s3 rotate", Personality::kCofferOnly);
}

}  // namespace coffer::cli
