#include "server/server_command.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <cstdio>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "base/encoding.h"
#include "config/server_config.h"
#include "core/core.h"
#include "engines/auth/approle/backend.h"
#include "engines/auth/jwt/backend.h"
#include "engines/auth/kubernetes/backend.h"
#include "engines/auth/userpass/backend.h"
#include "engines/kv/backend.h"
#include "http/server.h"
#include "physical/cache.h"
#include "physical/inmem.h"
#include "physical/sqlite.h"
#include "server/api_handler.h"

namespace coffer::server {
namespace {

constexpr size_t kCacheEntries = 16384;

StatusOr<std::unique_ptr<physical::Backend>> OpenStorage(const config::StorageConfig& sc) {
  if (sc.type == "inmem") return physical::NewInmemBackend();
  // "sqlite" and Vault's "file" both use the embedded SQLite store (config maps file → path).
  auto it = sc.options.find("path");
  if (it == sc.options.end() || it->second.empty()) {
    return InvalidArgument("storage \"" + sc.type + "\": missing required field \"path\"");
  }
  physical::SqliteOptions opts;
  opts.path = it->second;
  return physical::OpenSqliteBackend(opts);
}

spdlog::level::level_enum LevelFrom(const std::string& s) {
  if (s == "trace") return spdlog::level::trace;
  if (s == "debug") return spdlog::level::debug;
  if (s == "warn" || s == "warning") return spdlog::level::warn;
  if (s == "err" || s == "error") return spdlog::level::err;
  return spdlog::level::info;
}

// Blocks SIGINT/SIGTERM in every thread (call before any thread starts) and returns the set.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int RunServer(const ServerFlags& flags) {
  // 1 MiB stacks for every thread we start (io threads, the blocking pool, the storage writer):
  // plenty for our bounded recursion, and it keeps locked memory small under mlockall.
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) == 0) {
    pthread_attr_setstacksize(&attr, size_t{1} << 20);
    pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
  }
  sigset_t shutdown_signals = BlockShutdownSignals();
  signal(SIGPIPE, SIG_IGN);

  config::ServerConfig cfg;
  if (flags.config_files.empty() && !flags.dev) {
    std::cerr << "Error: at least one config path must be specified with -config (or use -dev)\n";
    return 2;
  }
  bool first = true;
  for (const auto& file : flags.config_files) {
    auto loaded = config::LoadConfigFile(file);
    if (!loaded.ok()) {
      std::cerr << "Error loading configuration: " << loaded.status().message() << "\n";
      return 2;
    }
    cfg = first ? std::move(*loaded) : config::MergeConfigs(std::move(cfg), *loaded);
    first = false;
  }
  if (flags.dev) {
    if (!cfg.storage) {
      config::StorageConfig sc;
      sc.type = flags.dev_storage.empty() ? "inmem" : "sqlite";
      if (!flags.dev_storage.empty()) sc.options["path"] = flags.dev_storage;
      cfg.storage = sc;
    }
    if (cfg.listeners.empty()) {
      config::ListenerConfig l;
      l.address = flags.dev_listen_address;
      l.tls_disable = true;
      cfg.listeners.push_back(l);
    }
  }
  if (!cfg.storage) {
    std::cerr << "Error: no storage configured: add a storage \"sqlite\" { path = \"...\" } block\n";
    return 2;
  }
  if (cfg.listeners.empty()) {
    std::cerr << "Error: no listener configured: add a listener \"tcp\" { ... } block\n";
    return 2;
  }

  auto logger = spdlog::stderr_color_mt("coffer");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ [%l] %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(LevelFrom(flags.log_level.empty() ? cfg.log_level : flags.log_level));
  for (const auto& w : cfg.warnings) spdlog::warn("{}", w);

  bool mlocked = false;
  if (!flags.dev) {
    // Production hardening: no core dumps (they would contain keys), and keep memory out of swap.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (!cfg.disable_mlock) {
      mlocked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
      if (!mlocked) {
        spdlog::warn(
            "failed to lock memory (mlockall: {}); secrets may be swapped to disk. Raise RLIMIT_MEMLOCK, "
            "grant CAP_IPC_LOCK, or set disable_mlock = true if swap is encrypted or disabled",
            std::strerror(errno));
      }
    }
  }

  auto storage = OpenStorage(*cfg.storage);
  if (!storage.ok()) {
    std::cerr << "Error initializing storage: " << storage.status().message() << "\n";
    return 1;
  }
  core::CoreOptions copts;
  copts.storage = physical::NewCachedBackend(std::move(*storage), kCacheEntries);
  copts.storage_type = cfg.storage->type;
  copts.default_lease_ttl = cfg.default_lease_ttl;
  copts.max_lease_ttl = cfg.max_lease_ttl;
  auto core = core::Core::Create(std::move(copts));
  if (!core.ok()) {
    std::cerr << "Error initializing core: " << core.status().message() << "\n";
    return 1;
  }
  (*core)->RegisterEngine("kv", kv::NewKvBackend);
  (*core)->RegisterAuthMethod("userpass", userpass::NewUserpassBackend);
  (*core)->RegisterAuthMethod("approle", approle::NewAppRoleBackend);
  (*core)->RegisterAuthMethod("jwt", jwt::NewJwtBackend);
  (*core)->RegisterAuthMethod("kubernetes", kubernetes::NewKubernetesBackend);

  std::string dev_unseal_key, dev_root_token;
  if (flags.dev) {
    auto init = (*core)->InitializeDev(flags.dev_root_token_id);
    if (!init.ok()) {
      std::cerr << "Error initializing dev mode: " << init.status().message() << "\n";
      return 1;
    }
    dev_unseal_key = Base64Encode(AsStringView(init->keys[0]));
    dev_root_token = init->root_token;
    core::MountEntry secret;
    secret.path = "secret/";
    secret.type = "kv";
    secret.description = "key/value secret storage";
    secret.options["version"] = "2";  // as Vault's dev mode
    Status mounted = (*core)->EnableMount(secret);
    if (!mounted.ok()) {
      std::cerr << "Error mounting secret/: " << mounted.message() << "\n";
      return 1;
    }
  }

  ApiHandler handler(core->get());
  http::ServerOptions hopts;
  for (const auto& l : cfg.listeners) {
    http::ListenerOptions lo;
    lo.address = l.address;
    lo.tls = !l.tls_disable;
    lo.cert_file = l.tls_cert_file;
    lo.key_file = l.tls_key_file;
    lo.tls_min_version = l.tls_min_version;
    hopts.listeners.push_back(lo);
  }
  auto server = http::Server::Create(hopts, &handler);
  if (!server.ok()) {
    std::cerr << "Error starting listener: " << server.status().message() << "\n";
    return 1;
  }

  std::vector<std::string> bound = (*server)->BoundAddresses();
  std::string scheme = cfg.listeners[0].tls_disable ? "http" : "https";
  std::string api_addr = cfg.api_addr.empty() ? scheme + "://" + bound[0] : cfg.api_addr;
  std::cout << "==> Coffer server configuration:\n\n";
  std::cout << "             Api Address: " << api_addr << "\n";
  for (size_t i = 0; i < bound.size(); ++i) {
    std::cout << "              Listener " << i + 1 << ": tcp (addr: \"" << bound[i]
              << "\", max_request_size: \"33554432\", tls: \"" << (cfg.listeners[i].tls_disable ? "disabled" : "enabled")
              << "\")\n";
  }
  std::cout << "               Log Level: " << (flags.log_level.empty() ? cfg.log_level : flags.log_level) << "\n";
  std::cout << "                   Mlock: supported: true, enabled: " << (mlocked ? "true" : "false") << "\n";
  std::cout << "                 Storage: " << cfg.storage->type << "\n";
  std::cout << "                 Version: Coffer v" << core::kCofferVersion << " (Vault API " << core::kVaultApiVersion
            << ")\n\n";
  if (flags.dev) {
    std::cout << "WARNING! dev mode is enabled! In this mode, Coffer runs "
              << (flags.dev_storage.empty() ? "entirely in-memory" : "on the SQLite file " + flags.dev_storage)
              << "\nand starts unsealed with a single unseal key, so you can immediately begin\n"
                 "using Coffer.\n\n"
                 "You may need to set the following environment variables:\n\n"
              << "    $ export VAULT_ADDR='" << api_addr << "'\n\n"
              << "The unseal key and root token are displayed below in case you want to\n"
                 "seal/unseal the Vault or re-authenticate.\n\n"
              << "Unseal Key: " << dev_unseal_key << "\n"
              << "Root Token: " << dev_root_token << "\n\n"
              << "Development mode should NOT be used in production installations!\n\n";
  }
  std::cout << "==> Coffer server started! Log data will stream in below:\n" << std::flush;

  (*server)->Start();
  spdlog::info("core: listening on {}", fmt::join(bound, ", "));

  int sig = 0;
  sigwait(&shutdown_signals, &sig);
  spdlog::info("==> Coffer shutdown triggered (signal {}): finishing in-flight requests", sig);
  (*server)->Shutdown();
  Status sealed = (*core)->Seal();
  core->reset();  // closes storage after every pending write is durable
  spdlog::info("==> Coffer stopped cleanly");
  return sealed.ok() ? 0 : 1;
}

}  // namespace coffer::server
