// The project secrets resolver commands (coffer only): `secrets validate|list|test-vault|cache
// clear`, `run`, `export`. `secrets list` is shared with Vault's mount listing; see
// ProjectOrVaultListCommand for the rule (documented in docs/resolver.md).
#include <coffer/client.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file_io.h"
#include "base/encoding.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/registry.h"
#include "formats/dotenv/parser.h"
#include "resolver/cache.h"
#include "resolver/config.h"
#include "resolver/export.h"
#include "resolver/resolver.h"
#include "resolver/vault_auth.h"
#include "s3/backend.h"
#include "s3/config.h"
#include "s3/store.h"

extern char** environ;

namespace coffer::cli {

// Vault's `secrets list` (cmd_secrets.cc).
std::unique_ptr<Command> NewVaultSecretsListCommand();

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using resolver::ProjectConfig;
using resolver::Resolution;
using resolver::Resolved;
using resolver::SourceKind;

std::string Cwd() {
  std::error_code ec;
  return fs::current_path(ec).string();
}

// Flags shared by every command that resolves secrets.
struct ProjectFlags {
  std::string config;
  bool no_cache = false;
  bool show_values = false;
  int64_t parallel = 0;  // 0 = automatic (see resolver::ResolveOptions::parallelism)
  bool no_coalesce = false;

  void AddConfig(FlagSet& f) {
    f.Section("Project Options");
    f.String("c", &config,
             "Path to the project config (default: coffer.yaml, then sindri.yaml, in the current "
             "directory or the nearest parent).",
             "", "file");
    f.String("config", &config, "Alias for -c.", "", "file");
  }
  void AddResolve(FlagSet& f, bool values_flag) {
    AddConfig(f);
    f.Bool("no-cache", &no_cache, "Do not read or write the encrypted cache of remote secrets.");
    if (values_flag) f.Bool("show-values", &show_values, "Print secret values (never printed otherwise).");
    f.Int("parallel", &parallel, "Concurrent Vault reads and S3 pulls (0: automatic).");
    f.Hide("parallel");
    f.Bool("no-coalesce", &no_coalesce, "Read every vault secret with its own request (benchmark baseline).");
    f.Hide("no-coalesce");
  }
};

int ConfigError(Context& ctx, const Status& st) {
  ctx.err() << "Error: " << st.message() << "\n";
  return kExitUsage;
}

bool NeedsVault(const ProjectConfig& cfg) {
  for (const auto& s : cfg.secrets) {
    if (s.source == SourceKind::kVault || s.fallback == SourceKind::kVault) return true;
  }
  return false;
}

std::string ConfigName(const ProjectConfig& c) { return fs::path(c.file).filename().string(); }

bool NeedsS3(const ProjectConfig& cfg) {
  for (const auto& s : cfg.secrets) {
    if (s.source == SourceKind::kS3 || s.fallback == SourceKind::kS3) return true;
  }
  return false;
}

bool HasToken(const client::Config& c) { return !c.token.empty(); }

// Everything a resolving command needs, owned together.
struct Session {
  ProjectConfig config;
  std::unique_ptr<resolver::VaultSource> vault;
  std::unique_ptr<resolver::SecretCache> cache;
  std::unique_ptr<s3::Store> s3_store;
  std::unique_ptr<resolver::S3Source> s3;
  Resolution resolution;
};

// Loads the config and resolves it. Returns 0 or the exit code of a problem already reported.
int LoadAndResolve(Context& ctx, const ProjectFlags& pf, Session* s) {
  auto cfg = resolver::LoadProjectConfig(pf.config, Cwd(), resolver::ProcessEnv());
  if (!cfg.ok()) return ConfigError(ctx, cfg.status());
  s->config = std::move(*cfg);
  resolver::ResolveOptions o;
  o.parallelism = static_cast<int>(pf.parallel);
  o.coalesce = !pf.no_coalesce;
  if (NeedsVault(s->config)) {
    client::VaultClient* c = ctx.Client();
    if (c == nullptr) return kExitUsage;
    resolver::VaultLogin login;
    if (!HasToken(c->config())) login = resolver::LoginFromEnvironment(c, resolver::ProcessEnv());
    if (login.attempted && !login.error.empty() && !login.unreachable) {
      ctx.err() << "Error: " << login.method << ": " << login.error << "\n";
      return kExitError;
    }
    if (!HasToken(c->config())) {
      o.vault_unavailable_reason = login.attempted ? login.error
                                                   : "no Vault token (set VAULT_TOKEN, write ~/.vault-token, or set "
                                                     "VAULT_ROLE_ID or VAULT_K8S_ROLE for a machine login)";
    } else {
      if (!login.attempted) {
        std::string warning = resolver::RenewTokenIfExpiring(c);
        if (!warning.empty()) ctx.Warn("Warning: " + warning.substr(warning.find(':') + 2));
      }
      s->vault = resolver::NewClientVaultSource(c);
      o.vault = s->vault.get();
    }
    if (!pf.no_cache) {
      resolver::CacheOptions co;
      if (const char* d = std::getenv("COFFER_CACHE_DIR")) co.dir = d;
      if (const char* k = std::getenv("COFFER_CACHE_KEY")) co.key_file = k;
      if (const char* t = std::getenv("COFFER_CACHE_TTL"); t && *t) co.ttl = std::chrono::seconds(std::atoll(t));
      auto cache = resolver::SecretCache::Open(co);
      if (cache.ok()) {
        s->cache = std::move(*cache);
        o.cache = s->cache.get();
      } else {
        ctx.Warn("Warning: cache disabled: " + cache.status().message());
      }
    }
  }
  if (NeedsS3(s->config)) {
    // The `secrets.backend` block of the same file, through the loader `coffer s3` uses; the key,
    // client and store are opened as `coffer s3` opens them (s3/backend.h).
    auto s3cfg = s3::LoadS3Config(s->config.file, s->config.dir);
    if (!s3cfg.ok()) return ConfigError(ctx, s3cfg.status());
    if (!s3cfg->has_backend) {
      o.s3_unavailable_reason = "no secrets.backend block in " + ConfigName(s->config);
    } else {
      s3::BackendConfig b = s3cfg->backend;
      if (pf.no_cache) b.cache_enabled = false;
      auto store = s3::OpenBackendStore(b, [&ctx](const std::string& w) { ctx.Warn(w); });
      if (store.ok()) {
        s->s3_store = std::move(*store);
        s->s3 = resolver::NewStoreS3Source(s->s3_store.get(), static_cast<int>(pf.parallel), !pf.no_cache);
        o.s3 = s->s3.get();
      } else {
        o.s3_unavailable_reason = "S3 backend: " + store.status().message();
      }
    }
  }
  s->resolution = resolver::ResolveAll(s->config, o);
  for (const auto& r : s->resolution.secrets) {
    if (!r.warning.empty()) ctx.err() << "Warning: " << r.warning << " for " << r.spec->name << "\n";
  }
  return 0;
}

// The text after "(source): " for a found secret.
std::string FoundText(const Resolved& r) {
  std::string how;
  switch (r.from) {
    case SourceKind::kEnv:
      how = (r.origin == "shell environment" || r.origin == ".env.local" || r.origin == ".env")
                ? "Found in " + r.origin
                : "Read from " + r.origin;
      break;
    case SourceKind::kFile:
      how = "Found at " + r.origin + " (" + resolver::HumanSize(r.value.size()) + ")";
      break;
    case SourceKind::kVault:
      how = r.stale ? "Retrieved from stale cache (cache expired)" : "Retrieved successfully";
      break;
    case SourceKind::kS3:
      how = r.stale ? "Retrieved from stale cache (cache expired)" : "Retrieved successfully";
      break;
  }
  if (r.via_fallback) {
    std::string why = r.problem.empty() ? "not found" : r.problem;
    return "Not available from " + std::string(resolver::SourceName(r.spec->source)) + " (" + why + "); fallback " +
           resolver::SourceName(r.from) + ": " + how;
  }
  return how;
}

// ---------------------------------------------------------------------------------------------

class SecretsValidateCommand : public Command {
 public:
  std::string Synopsis() const override { return "Check that the project's declared secrets resolve"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets validate [options]

  Resolves every secret declared in coffer.yaml (or sindri.yaml) and prints one
  line per secret. Exits 1 when a required secret is missing, 2 when the config
  is invalid. Values are never printed unless -show-values is given.

      $ {{prog}} secrets validate
      $ {{prog}} secrets validate -c deploy/sindri.yaml --json)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    pf_.AddResolve(f, true);
    f.Bool("json", &json_, "Print the report as JSON.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    Session s;
    if (int rc = LoadAndResolve(ctx, pf_, &s)) return rc;
    const Resolution& res = s.resolution;
    bool ok = res.AllRequiredFound();
    if (json_) {
      json out = {{"config", s.config.file}, {"valid", ok}, {"secrets", json::array()}};
      for (const auto& r : res.secrets) {
        json j = {{"name", r.spec->name},
                  {"source", resolver::SourceName(r.spec->source)},
                  {"required", r.spec->required},
                  {"found", r.found},
                  {"status", r.found ? (r.stale ? "warn" : "ok") : (r.spec->required ? "missing" : "warn")}};
        if (r.found) {
          j["resolved_from"] = resolver::SourceName(r.from);
          j["via_fallback"] = r.via_fallback;
          j["origin"] = r.origin;
          j["size"] = r.value.size();
          j["stale"] = r.stale;
          if (pf_.show_values) j["value"] = std::string(AsStringView(r.value));
        } else {
          j["checked"] = r.checked;
        }
        if (!r.problem.empty()) j["problem"] = r.problem;
        out["secrets"].push_back(j);
      }
      ctx.out() << out.dump(2) << "\n";
      return ok ? kExitOk : kExitError;
    }
    ctx.out() << "Validating secrets from " << ConfigName(s.config) << "...\n";
    if (res.secrets.empty()) ctx.out() << "No secrets declared.\n";
    for (const auto& r : res.secrets) {
      std::string head = r.spec->name + " (" + resolver::SourceName(r.spec->source) + "): ";
      if (r.found) {
        ctx.out() << (r.stale ? "[WARN] " : "[OK] ") << head << FoundText(r);
        if (pf_.show_values) ctx.out() << " = " << AsStringView(r.value);
        ctx.out() << "\n";
      } else if (!r.spec->required) {
        ctx.out() << "[WARN] " << head << "Not found (optional, will not be set)";
        if (!r.problem.empty()) ctx.out() << " [" << r.problem << "]";
        ctx.out() << "\n";
      } else if (r.error) {
        ctx.out() << "[FAIL] " << head << r.problem << "\n";
      } else {
        ctx.out() << "[FAIL] " << head << "Not found (required)\n";
      }
    }
    ctx.out().flush();
    for (const auto& r : res.secrets) {
      if (r.found || !r.spec->required) continue;
      ctx.err() << "Error: Required secret " << r.spec->name << (r.error ? " could not be read" : " not found") << "\n";
      ctx.err() << "Checked: " << r.checked << "\n";
      if (!r.problem.empty()) ctx.err() << "Reason: " << r.problem << "\n";
    }
    return ok ? kExitOk : kExitError;
  }

 private:
  ProjectFlags pf_;
  bool json_ = false;
};

// ---------------------------------------------------------------------------------------------

int ListProject(Context& ctx, const std::string& config_file, const std::string& source, bool as_json) {
  auto cfg = resolver::LoadProjectConfig(config_file, Cwd(), resolver::ProcessEnv());
  if (!cfg.ok()) return ConfigError(ctx, cfg.status());
  std::optional<SourceKind> only;
  if (!source.empty()) {
    only = resolver::ParseSourceName(source);
    if (!only) return ctx.UsageError("Invalid -s \"" + source + "\": expected env, file, vault or s3");
  }
  if (as_json) {
    json out = json::array();
    for (const auto& s : cfg->secrets) {
      if (only && s.source != *only) continue;
      json j = {{"name", s.name}, {"source", resolver::SourceName(s.source)}, {"required", s.required}};
      if (!s.description.empty()) j["description"] = s.description;
      if (!s.from_file.empty()) j["fromFile"] = s.from_file;
      if (s.source == SourceKind::kFile) {
        j["path"] = s.path;
        j["mountPath"] = s.mount_path;
        j["permissions"] = resolver::FormatPermissions(s.permissions);
      }
      if (!s.vault_path.empty()) {
        j["vaultPath"] = s.vault_path;
        j["vaultKey"] = s.vault_key;
        j["vaultMount"] = s.vault_mount;
      }
      if (s.source == SourceKind::kS3 || s.fallback == SourceKind::kS3) {
        j["s3_path"] = s.s3_path.empty() ? s.name : s.s3_path;
      }
      if (s.fallback) j["fallback"] = resolver::SourceName(*s.fallback);
      out.push_back(j);
    }
    ctx.out() << out.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out() << "Configured secrets in " << ConfigName(*cfg) << ":\n";
  struct Group {
    SourceKind kind;
    const char* title;
  };
  const Group groups[] = {{SourceKind::kEnv, "Environment Variables (source: env)"},
                          {SourceKind::kFile, "Files (source: file)"},
                          {SourceKind::kVault, "Vault (source: vault)"},
                          {SourceKind::kS3, "S3 (source: s3)"}};
  for (const auto& g : groups) {
    if (only && *only != g.kind) continue;
    std::string lines;
    for (const auto& s : cfg->secrets) {
      if (s.source != g.kind) continue;
      std::string line = "  - " + s.name;
      switch (s.source) {
        case SourceKind::kEnv:
          if (!s.from_file.empty()) line += " <- " + s.from_file;
          break;
        case SourceKind::kFile:
          line += " -> " + s.mount_path + " (" + resolver::FormatPermissions(s.permissions) + ")";
          break;
        case SourceKind::kVault:
          line += " <- " + s.vault_path + ":" + s.vault_key;
          break;
        case SourceKind::kS3:
          line += " <- " + (s.s3_path.empty() ? s.name : s.s3_path);
          break;
      }
      if (s.required) line += " (required)";
      if (s.fallback == SourceKind::kS3 && s.source != SourceKind::kS3) {
        line += " [fallback: s3 " + (s.s3_path.empty() ? s.name : s.s3_path) + "]";
      } else if (s.fallback) {
        line += std::string(" [fallback: ") + resolver::SourceName(*s.fallback) + "]";
      }
      lines += line + "\n";
    }
    if (!lines.empty()) ctx.out() << "\n" << g.title << ":\n" << lines;
  }
  if (cfg->secrets.empty()) ctx.out() << "\n  (none)\n";
  return kExitOk;
}

// `secrets list`: the project's declared secrets or Vault's secrets engines.
//   - Under the `vault` name this command is not registered: `vault secrets list` is Vault's.
//   - -c/-config, -s/-source or -json ask for the project listing.
//   - Any Vault flag (-detailed, -format, an HTTP flag such as -address) asks for Vault's listing.
//   - Otherwise: the project listing when a coffer.yaml/sindri.yaml is found from the current
//     directory upwards, else Vault's listing.
class ProjectOrVaultListCommand : public Command {
 public:
  ProjectOrVaultListCommand() : vault_(NewVaultSecretsListCommand()) {}
  std::string Synopsis() const override { return "List the project's secrets, or the enabled secrets engines"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets list [options]

  In a project (a coffer.yaml or sindri.yaml in the current directory or a
  parent), lists the declared secrets grouped by source. Anywhere else, or with
  any of Vault's flags (-detailed, -format, -address and the other HTTP flags),
  lists the secrets engines enabled on the server as `vault secrets list` does.

      $ {{prog}} secrets list                  # the project's secrets
      $ {{prog}} secrets list -s vault --json  # only vault secrets, as JSON
      $ {{prog}} secrets list -detailed        # the server's secrets engines)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    vault_->AddFlags(f);
    f.Section("Project Options");
    f.String("c", &config_, "Path to the project config (coffer.yaml / sindri.yaml).", "", "file");
    f.String("config", &config_, "Alias for -c.", "", "file");
    f.String("s", &source_, "Only secrets of this source: env, file, vault or s3.", "", "source");
    f.String("source", &source_, "Alias for -s.", "", "source");
    f.Bool("json", &json_, "Print the project's secrets as JSON.");
    flags_ = &f;
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    bool project_flags = false;
    for (const char* n : {"c", "config", "s", "source", "json"}) project_flags |= flags_->IsSet(n);
    bool vault_flags = ctx.options().detailed || ctx.options().output_curl_string || flags_->IsSet("format");
    for (const char* n : {"address", "agent-address", "ca-cert", "ca-path", "client-cert", "client-key", "namespace",
                          "ns", "tls-skip-verify", "tls-server-name", "wrap-ttl", "non-interactive", "detailed"}) {
      if (flags_->Has(n)) vault_flags |= flags_->IsSet(n);
    }
    if (project_flags && vault_flags) {
      return ctx.UsageError(
          "-c/-s/-json (the project's secrets) cannot be combined with Vault's flags "
          "(the server's secrets engines)");
    }
    bool project = project_flags || (!vault_flags && args.empty() && resolver::FindConfigFile(Cwd()).has_value());
    if (!project) return vault_->Run(ctx, args);
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    return ListProject(ctx, config_, source_, json_);
  }

 private:
  std::unique_ptr<Command> vault_;
  std::string config_;
  std::string source_;
  bool json_ = false;
  FlagSet* flags_ = nullptr;
};

// ---------------------------------------------------------------------------------------------

class SecretsTestVaultCommand : public Command {
 public:
  std::string Synopsis() const override { return "Check the Vault connection used by the project's secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets test-vault [options]

  Checks VAULT_ADDR, the token (VAULT_TOKEN or ~/.vault-token), the connection
  and the token's validity, printing each check with a fix when it fails.)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    auto& out = ctx.out();
    out << "Testing Vault connection...\n";
    bool failed = false;
    const char* addr_env = std::getenv("VAULT_ADDR");
    client::VaultClient* c = ctx.Client();
    if (c == nullptr) return kExitUsage;
    if ((addr_env == nullptr || *addr_env == '\0') && ctx.options().address.empty()) {
      out << "[FAIL] VAULT_ADDR not set (using the default " << c->config().address << ")\n"
          << "       Fix: export VAULT_ADDR=https://vault.example.com:8200\n";
      failed = true;
    } else {
      out << "[OK] VAULT_ADDR set: " << c->config().address << "\n";
    }
    bool token = HasToken(c->config());
    const char* env_token = std::getenv("VAULT_TOKEN");
    if (token) {
      out << "[OK] " << ((env_token && *env_token) ? "VAULT_TOKEN" : "Token (~/.vault-token)") << " available\n";
    } else {
      resolver::VaultLogin login = resolver::LoginFromEnvironment(c, resolver::ProcessEnv());
      if (login.attempted && login.error.empty()) {
        out << "[OK] " << login.method << " login succeeded\n";
        token = true;
      } else {
        if (login.attempted) {
          out << "[FAIL] " << login.method << " login: " << login.error << "\n"
              << "       Fix: check the role and its credentials, or export VAULT_TOKEN=<token>\n";
        } else {
          out << "[FAIL] VAULT_TOKEN not set and no ~/.vault-token\n"
              << "       Fix: export VAULT_TOKEN=<token>, or run `" << ctx.program() << " login`\n";
        }
        failed = true;
      }
    }
    client::Response h = c->Read("sys/health", {{"standbyok", "true"}});
    if (h.status == 0) {
      out << "[FAIL] Vault connection failed: " << (h.errors.empty() ? "no response" : h.errors[0]) << "\n"
          << "       Fix: check that the server is running and VAULT_ADDR is right (" << c->config().address << ")\n";
      return kExitError;
    }
    if (h.status == 503) {
      out << "[FAIL] Vault is sealed\n       Fix: " << ctx.program() << " operator unseal\n";
      return kExitError;
    }
    if (h.status == 501) {
      out << "[FAIL] Vault is not initialized\n       Fix: " << ctx.program() << " operator init\n";
      return kExitError;
    }
    out << "[OK] Vault connection successful\n";
    if (!token) return kExitError;
    client::Response t = c->Read("auth/token/lookup-self");
    if (!t.ok()) {
      out << "[FAIL] Token rejected (HTTP " << t.status << ")\n"
          << "       Fix: get a new token (" << ctx.program() << " login) and set VAULT_TOKEN\n";
      return kExitError;
    }
    int64_t ttl = 0;
    if (t.body.contains("data") && t.body["data"].is_object() && t.body["data"].contains("ttl") &&
        t.body["data"]["ttl"].is_number()) {
      ttl = t.body["data"]["ttl"].get<int64_t>();
    }
    out << "[OK] Token valid (TTL: " << ttl << "s" << (ttl == 0 ? ", never expires" : "") << ")\n";
    if (ttl > 0 && ttl < 3600) out << "[WARN] Token expires in less than an hour\n";
    return failed ? kExitError : kExitOk;
  }
};

// ---------------------------------------------------------------------------------------------

class SecretsCacheClearCommand : public Command {
 public:
  std::string Synopsis() const override { return "Remove every entry of the encrypted secrets cache"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets cache clear

  Deletes the cached remote secrets (COFFER_CACHE_DIR, default ~/.cache/coffer).)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    resolver::CacheOptions co;
    if (const char* d = std::getenv("COFFER_CACHE_DIR")) co.dir = d;
    if (const char* k = std::getenv("COFFER_CACHE_KEY")) co.key_file = k;
    auto cache = resolver::SecretCache::Open(co);
    if (!cache.ok()) return ctx.Error("Error: " + cache.status().message());
    auto n = (*cache)->Clear();
    if (!n.ok()) return ctx.Error("Error: " + n.status().message());
    ctx.Info("Removed " + std::to_string(*n) + " cached secret(s) from " + (*cache)->dir());
    return kExitOk;
  }
};

// ---------------------------------------------------------------------------------------------

Status WriteSecretFile(const std::string& path, const SecretBytes& content, unsigned mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return InternalError("cannot write " + path + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return InternalError("cannot write " + path + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  return OkStatus();
}

pid_t g_child = 0;
void ForwardSignal(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

class RunCommand : public Command {
 public:
  std::string Synopsis() const override { return "Run a command with the project's secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} run [options] [--] COMMAND [ARGS...]

  Resolves the secrets of coffer.yaml (or sindri.yaml) and runs COMMAND with the
  env secrets in its environment. File secrets are written with their
  permissions to a private temporary directory (mode 0700, removed when COMMAND
  exits); each file secret's variable holds the path of its file. With
  -mount-files they are written to their mountPath instead (inside a container).
  Exits with COMMAND's exit code; 1 if a required secret is missing.

      $ {{prog}} run -- npm start
      $ {{prog}} run -mount-files -- /app/server)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  bool OwnsFlagConventions() const override { return true; }
  void AddFlags(FlagSet& f) override {
    pf_.AddResolve(f, false);
    f.Bool("mount-files", &mount_files_, "Write file secrets to their mountPath instead of a temporary directory.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.empty())
      return ctx.UsageError("Missing COMMAND: usage: " + ctx.program() + " run [options] -- COMMAND [ARGS...]");
    Session s;
    if (int rc = LoadAndResolve(ctx, pf_, &s)) return rc;
    for (const auto& r : s.resolution.secrets) {
      if (r.found || !r.spec->required) continue;
      ctx.err() << "Error: Required secret " << r.spec->name << " not found\nChecked: " << r.checked << "\n";
      if (!r.problem.empty()) ctx.err() << "Reason: " << r.problem << "\n";
      return kExitError;
    }
    // The child's environment: ours, with the secrets on top.
    std::map<std::string, std::string> env;
    for (char** p = environ; p && *p; ++p) {
      const char* eq = std::strchr(*p, '=');
      if (eq) env[std::string(*p, eq - *p)] = eq + 1;
    }
    std::string tmpdir;
    std::vector<std::string> written;
    auto cleanup = [&] {
      for (const auto& f : written) ::unlink(f.c_str());
      if (!tmpdir.empty()) ::rmdir(tmpdir.c_str());
    };
    std::map<std::string, int> used_names;
    for (const auto& r : s.resolution.secrets) {
      if (!r.found) continue;
      if (r.spec->source != SourceKind::kFile) {
        env[r.spec->name] = std::string(AsStringView(r.value));
        continue;
      }
      std::string target;
      if (mount_files_) {
        target = r.spec->mount_path;
      } else {
        if (tmpdir.empty()) {
          std::string base =
              ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
          std::string tmpl = base + "/coffer-run-XXXXXX";
          if (::mkdtemp(tmpl.data()) == nullptr)
            return ctx.Error(std::string("Error: cannot create a temporary directory: ") + std::strerror(errno));
          tmpdir = tmpl;
          ::chmod(tmpdir.c_str(), 0700);
        }
        std::string base = fs::path(r.spec->mount_path).filename().string();
        if (base.empty()) base = r.spec->name;
        if (used_names[base]++) base = r.spec->name + "-" + base;
        target = tmpdir + "/" + base;
      }
      Status st = WriteSecretFile(target, r.value, r.spec->permissions);
      if (!st.ok()) {
        cleanup();
        return ctx.Error("Error: " + st.message());
      }
      if (!mount_files_) written.push_back(target);
      env[r.spec->name] = target;
    }
    if (!tmpdir.empty()) env["COFFER_SECRETS_DIR"] = tmpdir;

    std::vector<std::string> env_strings;
    for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_s = args;
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);

    ctx.out().flush();
    ctx.err().flush();
    pid_t pid = ::fork();
    if (pid < 0) {
      cleanup();
      return ctx.Error(std::string("Error: fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::execvpe(argv[0], argv.data(), envp.data());
      std::string msg = "Error: cannot run " + argv_s[0] + ": " + std::strerror(errno) + "\n";
      (void)!::write(2, msg.data(), msg.size());
      ::_exit(127);
    }
    for (auto& e : env_strings) SecureWipe(e.data(), e.size());
    g_child = pid;
    struct sigaction sa {};
    sa.sa_handler = ForwardSignal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child = 0;
    cleanup();
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return kExitError;
  }

 private:
  ProjectFlags pf_;
  bool mount_files_ = false;
};

// ---------------------------------------------------------------------------------------------

// The git work tree containing path's directory, or "".
std::string GitWorkTreeOf(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::absolute(path, ec).parent_path();
  while (true) {
    if (fs::exists(dir / ".git", ec)) return dir.string();
    if (!dir.has_parent_path() || dir.parent_path() == dir) return "";
    dir = dir.parent_path();
  }
}

class ExportCommand : public Command {
 public:
  std::string Synopsis() const override { return "Render the project's secrets for a deployment target"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} export -format FORMAT [options]

  Resolves the project's secrets and renders them as FORMAT:
    dotenv        NAME='value' lines (multi-line safe; file secrets as NAME_BASE64)
    json          {"NAME": "value", "FILE": {"mountPath", "permissions", "base64"}}
    shell         export NAME='value' lines
    k8s           a v1 Secret for env secrets and one for file secrets
    compose       a Docker Compose fragment (env_file + secrets with target/mode);
                  with -o, the env file (.env.secrets) is written beside it
    fly           the NAME=value stream `flyctl secrets import` reads
    devcontainer  containerEnv (${localEnv:NAME}) and bind mounts; no values
  Output goes to stdout, or with -o to a file created with mode 0600. A file
  inside a git work tree is refused unless -force is given.)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  bool OwnsFlagConventions() const override { return true; }
  void AddFlags(FlagSet& f) override {
    pf_.AddResolve(f, false);
    f.Section("Export Options");
    f.String("format", &format_, "dotenv, json, shell, k8s, compose, fly or devcontainer.", "", "format");
    f.String("o", &output_, "Write to this file (mode 0600) instead of stdout.", "", "file");
    f.String("output", &output_, "Alias for -o.", "", "file");
    f.Bool("force", &force_, "Write the file even inside a git work tree.");
    f.String("name", &name_,
             "Name of the Kubernetes Secrets / compose service (default: the config's name, or coffer).", "", "name");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    if (format_.empty() || format_ == "table") {
      return ctx.UsageError("Missing -format (dotenv, json, shell, k8s, compose, fly or devcontainer)");
    }
    const auto& formats = resolver::ExportFormats();
    if (std::find(formats.begin(), formats.end(), format_) == formats.end()) {
      return ctx.UsageError("Invalid -format \"" + format_ +
                            "\" (dotenv, json, shell, k8s, compose, fly or devcontainer)");
    }
    std::string env_path;
    if (!output_.empty()) {
      env_path = (fs::path(output_).parent_path() / ".env.secrets").string();
      if (!force_) {
        std::string tree = GitWorkTreeOf(output_);
        if (!tree.empty()) {
          return ctx.Error("Error: refusing to write secrets to " + output_ + " inside the git work tree " + tree +
                           " (use -force, or write outside the repository)");
        }
      }
    }
    Session s;
    if (int rc = LoadAndResolve(ctx, pf_, &s)) return rc;
    for (const auto& r : s.resolution.secrets) {
      if (r.found || !r.spec->required) continue;
      ctx.err() << "Error: Required secret " << r.spec->name << " not found\nChecked: " << r.checked << "\n";
      return kExitError;
    }
    resolver::ExportOptions o;
    o.format = format_;
    o.name = !name_.empty() ? name_ : (!s.config.project_name.empty() ? s.config.project_name : "coffer");
    o.config_dir = s.config.dir;
    auto text = resolver::Export(s.resolution, o);
    if (!text.ok()) return ctx.Error("Error: " + text.status().message());
    if (output_.empty()) {
      ctx.out() << *text;
      SecureWipe(text->data(), text->size());
      return kExitOk;
    }
    Status st = WriteFileAtomic(output_, *text, 0600);
    SecureWipe(text->data(), text->size());
    if (!st.ok()) return ctx.Error("Error: " + st.message());
    if (format_ == "compose") {
      auto env = resolver::ExportEnvFileForCompose(s.resolution);
      if (!env.ok()) return ctx.Error("Error: " + env.status().message());
      st = WriteFileAtomic(env_path, *env, 0600);
      SecureWipe(env->data(), env->size());
      if (!st.ok()) return ctx.Error("Error: " + st.message());
      ctx.err() << "Wrote " << output_ << " and " << env_path << " (mode 0600)\n";
    } else {
      ctx.err() << "Wrote " << output_ << " (mode 0600)\n";
    }
    return kExitOk;
  }

 private:
  ProjectFlags pf_;
  std::string format_;
  std::string output_;
  bool force_ = false;
  std::string name_;
};

// ---------------------------------------------------------------------------------------------

// Where `secrets migrate` puts well-known variables: "path:key" under the KV mount.
const std::map<std::string, std::string>& DefaultMigrateMapping() {
  static const std::map<std::string, std::string> kMapping = {
      {"DATABASE_URL", "database/connection:url"},
      {"DATABASE_PASSWORD", "database/connection:password"},
      {"DATABASE_USER", "database/connection:username"},
      {"REDIS_URL", "cache/redis:url"},
      {"OPENAI_API_KEY", "api-keys/openai:key"},
      {"ANTHROPIC_API_KEY", "api-keys/anthropic:key"},
      {"GITHUB_TOKEN", "api-keys/github:token"},
      {"STRIPE_SECRET_KEY", "api-keys/stripe:secret_key"},
      {"AWS_ACCESS_KEY_ID", "aws/credentials:access_key_id"},
      {"AWS_SECRET_ACCESS_KEY", "aws/credentials:secret_access_key"},
      {"JWT_SECRET", "auth/jwt:secret"},
      {"SESSION_SECRET", "auth/session:secret"},
  };
  return kMapping;
}

class SecretsMigrateCommand : public Command {
 public:
  std::string Synopsis() const override { return "Move the variables of a .env file into Vault"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} secrets migrate -env-file FILE [options]

  Writes every variable of FILE to a KV path of the server and reports where
  each went. Well-known names have a default place (DATABASE_URL ->
  database/connection:url, OPENAI_API_KEY -> api-keys/openai:key, ...); other
  variables go to app/env:<NAME>. -mapping FILE (JSON {"NAME": "path:key"})
  overrides or extends the defaults; -export-mapping FILE writes the mapping
  used. Existing keys at a path are kept (the new keys are merged in).
  -dry-run only reports.

      $ {{prog}} secrets migrate -env-file .env -dry-run
      $ {{prog}} secrets migrate -env-file .env -mapping mapping.json -mount secret)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Migrate Options");
    f.String("env-file", &env_file_, "The .env file to migrate (default .env).", "", "file");
    f.String("mapping", &mapping_, "JSON object NAME -> \"path:key\" overriding the default mapping.", "", "file");
    f.String("export-mapping", &export_mapping_, "Write the mapping used to this JSON file.", "", "file");
    f.String("mount", &mount_, "The KV mount to write to.", "", "mount");
    f.Bool("dry-run", &dry_run_, "Report what would be written; write nothing.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    std::string text, reason;
    if (!ReadFile(env_file_, &text, &reason)) return ctx.UsageError("Error: cannot read " + env_file_ + ": " + reason);
    std::map<std::string, std::string> mapping = DefaultMigrateMapping();
    if (!mapping_.empty()) {
      std::string m;
      if (!ReadFile(mapping_, &m, &reason)) return ctx.UsageError("Error: cannot read " + mapping_ + ": " + reason);
      json j = json::parse(m, nullptr, false);
      if (!j.is_object())
        return ctx.UsageError("Error: " + mapping_ + ": expected a JSON object {\"NAME\": \"path:key\"}");
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it->is_string() || it->get<std::string>().find(':') == std::string::npos) {
          return ctx.UsageError("Error: " + mapping_ + ": " + it.key() + ": expected \"path:key\"");
        }
        mapping[it.key()] = it->get<std::string>();
      }
    }
    std::map<std::string, std::string> env;
    for (char** p = environ; p && *p; ++p) {
      const char* eq = std::strchr(*p, '=');
      if (eq) env[std::string(*p, eq - *p)] = eq + 1;
    }
    dotenv::Resolved vars = dotenv::Resolve(dotenv::Document::Parse(text), dotenv::ResolveOptions{});
    SecureWipe(text.data(), text.size());
    // path -> key -> value; and the mapping actually used, for the report and -export-mapping.
    std::map<std::string, std::map<std::string, std::string>> writes;
    json used = json::object();
    for (const auto& [name, value] : vars.values) {
      if (name.rfind("DOTENV_PUBLIC_KEY", 0) == 0) continue;
      std::string target = mapping.count(name) ? mapping[name] : "app/env:" + name;
      size_t colon = target.rfind(':');
      std::string path = SanitizePath(target.substr(0, colon));
      std::string key = target.substr(colon + 1);
      if (path.empty() || key.empty()) return ctx.UsageError("Error: mapping for " + name + " must be \"path:key\"");
      writes[path][key] = value;
      used[name] = path + ":" + key;
      ctx.out() << (dry_run_ ? "[DRY-RUN] " : "") << name << " -> " << mount_ << "/" << path << ":" << key << "\n";
    }
    if (!export_mapping_.empty()) {
      std::ofstream out(export_mapping_);
      out << used.dump(2) << "\n";
      if (!out) return ctx.Error("Error: cannot write " + export_mapping_);
    }
    if (dry_run_ || writes.empty()) {
      ctx.out() << (writes.empty() ? "No variables found in " + env_file_ : "Dry run: nothing written") << "\n";
      return kExitOk;
    }
    client::VaultClient* c = ctx.Client();
    if (c == nullptr) return kExitUsage;
    client::Response err;
    auto kv = c->ResolveKvMount(mount_ + "/", &err);
    if (!kv) return ctx.ApiError("Error reading the mount " + mount_, err);
    int failed = 0;
    for (auto& [path, keys] : writes) {
      std::string api = kv->version == 2 ? mount_ + "/data/" + path : mount_ + "/" + path;
      json data = json::object();
      client::Response cur = c->Read(api);
      if (cur.ok()) {
        const json& d = kv->version == 2 ? cur.body["data"]["data"] : cur.body["data"];
        if (d.is_object()) data = d;
      }
      for (auto& [k, v] : keys) data[k] = v;
      json body = kv->version == 2 ? json{{"data", data}} : data;
      client::Response w = c->Write(api, body);
      if (!w.ok()) {
        ctx.err() << "Error writing " << mount_ << "/" << path << ": HTTP " << w.status
                  << (w.errors.empty() ? "" : ": " + w.errors[0]) << "\n";
        ++failed;
        continue;
      }
      ctx.out() << "[OK] Wrote " << keys.size() << " key(s) to " << mount_ << "/" << path << "\n";
    }
    return failed ? kExitError : kExitOk;
  }

 private:
  std::string env_file_ = ".env";
  std::string mapping_;
  std::string export_mapping_;
  std::string mount_ = "secret";
  bool dry_run_ = false;
};

}  // namespace

void RegisterProjectCommands(Registry& r) {
  r.Add<ProjectOrVaultListCommand>("secrets list", Personality::kCofferOnly);
  r.Add<SecretsValidateCommand>("secrets validate", Personality::kCofferOnly);
  r.Add<SecretsTestVaultCommand>("secrets test-vault", Personality::kCofferOnly);
  r.Add<SecretsMigrateCommand>("secrets migrate", Personality::kCofferOnly);
  r.AddGroup("secrets cache", "Manage the encrypted cache of remote secrets", "", Personality::kCofferOnly);
  r.Add<SecretsCacheClearCommand>("secrets cache clear", Personality::kCofferOnly);
  r.Add<RunCommand>("run", Personality::kCofferOnly);
  r.Add<ExportCommand>("export", Personality::kCofferOnly);
}

}  // namespace coffer::cli
