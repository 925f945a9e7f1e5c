#include "resolver/resolver.h"

#include <coffer/client.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "formats/dotenv/envfile.h"
#include "base/file_io.h"
#include "resolver/cache.h"
#include "s3/store.h"

extern char** environ;

namespace coffer::resolver {
namespace {

// ---- the Vault source over the client library ----

class ClientVaultSource final : public VaultSource {
 public:
  explicit ClientVaultSource(client::VaultClient* client) : client_(client) {}

  std::optional<int> KvVersion(const std::string& mount) override {
    StatusOr<int> v = MountVersion(mount);
    if (!v.ok()) return std::nullopt;
    return *v;
  }

  StatusOr<SecretFields> Read(const VaultLocation& where) override {
    ASSIGN_OR_RETURN(int version, MountVersion(where.mount));
    std::string rel = where.relative;
    std::string path;
    if (version == 2) {
      if (where.api_form && rel.rfind("data/", 0) == 0) rel = rel.substr(5);
      path = where.mount + "/data/" + rel;
    } else {
      path = where.mount + "/" + rel;
    }
    client::Response r = client_->Read(path);
    if (!r.ok()) return Classify(r, path);
    const nlohmann::json* data = nullptr;
    if (r.body.is_object() && r.body.contains("data") && r.body["data"].is_object()) {
      data = &r.body["data"];
      if (version == 2) {
        data = data->contains("data") && (*data)["data"].is_object() ? &(*data)["data"] : nullptr;
      }
    }
    if (data == nullptr) return NotFound("no data at " + path);
    SecretFields out;
    for (auto it = data->begin(); it != data->end(); ++it) {
      if (it->is_string()) {
        const std::string& s = it->get_ref<const std::string&>();
        out[it.key()] = SecretString(s.begin(), s.end());
      } else {
        std::string s = it->dump();
        out[it.key()] = SecretString(s.begin(), s.end());
        SecureWipe(s.data(), s.size());
      }
    }
    SecureWipe(r.raw_body.data(), r.raw_body.size());
    return out;
  }

 private:
  static Status Classify(const client::Response& r, const std::string& path) {
    if (r.status == 0) {
      return Unavailable("Vault unreachable: " + (r.errors.empty() ? std::string("no response") : r.errors[0]));
    }
    if (r.status == 404) return NotFound("no secret at " + path);
    if (r.status == 403) return PermissionDenied("permission denied reading " + path);
    if (r.status == 503) return Unavailable("Vault is sealed or unavailable (HTTP 503)");
    std::string msg = "HTTP " + std::to_string(r.status) + " reading " + path;
    if (!r.errors.empty()) msg += ": " + r.errors[0];
    return Status(r.status >= 500 ? StatusCode::kUnavailable : StatusCode::kInternal, msg);
  }

  StatusOr<int> MountVersion(const std::string& mount) {
    // One pre-flight per mount, even under concurrency; a failure is remembered too, so an
    // unreachable server costs one timeout, not one per secret.
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = versions_.find(mount); it != versions_.end()) return it->second;
    if (auto it = failures_.find(mount); it != failures_.end()) return it->second;
    client::Response err;
    auto kv = client_->ResolveKvMount(mount + "/", &err);
    if (!kv) {
      Status st = Classify(err, "sys/internal/ui/mounts/" + mount);
      failures_.emplace(mount, st);
      return st;
    }
    versions_[mount] = kv->version;
    return kv->version;
  }

  client::VaultClient* client_;
  std::mutex mu_;
  std::map<std::string, int> versions_;
  std::map<std::string, Status> failures_;
};

// ---- env files ----

struct EnvFiles {
  bool loaded = false;
  std::map<std::string, std::string> local;   // .env.local
  std::map<std::string, std::string> dotenv;  // .env
};

std::map<std::string, std::string> LoadEnvFile(const std::string& dir, const std::string& name,
                                               const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> out;
  auto text = coffer::ReadFileIfExists(dir + "/" + name);
  if (!text.ok() || !text->has_value()) return out;
  auto keys = coffer::ReadFileIfExists(dir + "/.env.keys");
  std::optional<std::string> keys_text;
  if (keys.ok() && keys->has_value()) keys_text = **keys;
  dotenv::Resolved r = dotenv::ResolveEnvFile(dir + "/" + name, **text, keys_text, env);
  for (auto& [k, v] : r.values) out[k] = v;
  return out;
}

bool ReadWholeFile(const std::string& path, SecretBytes* out, std::string* reason) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *reason = std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *reason = "not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *reason = std::strerror(errno);
    return false;
  }
  out->clear();
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out->insert(out->end(), buf, buf + in.gcount());
  }
  SecureWipe(buf, sizeof buf);
  return true;
}

class Engine {
 public:
  Engine(const ProjectConfig& config, const ResolveOptions& options) : config_(config), options_(options) {
    if (options_.environment != nullptr) {
      env_ = *options_.environment;
    } else {
      env_ = dotenv::EnvironmentFrom(environ);
    }
  }

  Resolution Run() {
    Resolution res;
    res.secrets.resize(config_.secrets.size());
    // Round 1: every primary source; Vault reads gathered and done together.
    std::vector<size_t> vault_primary, s3_primary;
    for (size_t i = 0; i < config_.secrets.size(); ++i) {
      const SecretSpec& s = config_.secrets[i];
      Resolved& r = res.secrets[i];
      r.spec = &s;
      r.from = s.source;
      switch (s.source) {
        case SourceKind::kEnv:
          ResolveEnv(s, &r);
          break;
        case SourceKind::kFile:
          ResolveFile(s, &r);
          break;
        case SourceKind::kVault:
          vault_primary.push_back(i);
          break;
        case SourceKind::kS3:
          s3_primary.push_back(i);
          break;
      }
    }
    ResolveRemote(vault_primary, s3_primary, &res, false);

    // Round 2: fallbacks of what is still missing.
    std::vector<size_t> vault_fallback, s3_fallback;
    for (size_t i = 0; i < res.secrets.size(); ++i) {
      Resolved& r = res.secrets[i];
      const SecretSpec& s = *r.spec;
      if (r.found || r.error || !s.fallback) continue;
      if (*s.fallback == SourceKind::kEnv) {
        Resolved fb;
        ResolveEnv(s, &fb);
        Adopt(&r, std::move(fb), SourceKind::kEnv);
      } else if (*s.fallback == SourceKind::kVault) {
        vault_fallback.push_back(i);
      } else {
        s3_fallback.push_back(i);
      }
    }
    ResolveRemote(vault_fallback, s3_fallback, &res, true);
    res.vault_requests = requests_.load();
    return res;
  }

 private:
  // The Vault reads and the S3 pulls of one round, at the same time: the S3 batch on its own
  // thread (PullAll parallelises further), the Vault batch on this one.
  void ResolveRemote(const std::vector<size_t>& vault, const std::vector<size_t>& s3, Resolution* res, bool fallback) {
    std::vector<S3Lookup> lookups;
    for (size_t i : s3) lookups.push_back(S3Lookup{res->secrets[i].spec->name, res->secrets[i].spec->s3_path});
    std::vector<S3Got> got;
    std::thread s3_thread;
    if (!lookups.empty()) {
      if (options_.s3 == nullptr) {
        got.resize(lookups.size());
        for (auto& g : got) g.value = Unavailable(options_.s3_unavailable_reason);
      } else if (vault.empty()) {
        got = options_.s3->PullAll(lookups);
      } else {
        s3_thread = std::thread([&] { got = options_.s3->PullAll(lookups); });
      }
    }
    ResolveVault(vault, res, fallback);
    if (s3_thread.joinable()) s3_thread.join();
    for (size_t j = 0; j < s3.size(); ++j) {
      Resolved& r = res->secrets[s3[j]];
      const SecretSpec& s = *r.spec;
      Resolved one;
      one.checked = "s3 " + (s.s3_path.empty() ? s.name : s.s3_path);
      S3Got g = j < got.size() ? std::move(got[j]) : S3Got{};
      if (g.value.ok()) {
        one.found = true;
        one.value = std::move(*g.value);
        one.origin = g.origin;
        if (g.stale) {
          one.stale = true;
          one.warning = "Using stale cached secret (cache expired)";
        }
      } else {
        StatusCode c = g.value.status().code();
        one.problem = g.value.status().message();
        one.error = c == StatusCode::kDataLoss || c == StatusCode::kPermissionDenied;
      }
      if (fallback) {
        bool error = one.error;
        std::string problem = one.problem;
        Adopt(&r, std::move(one), SourceKind::kS3);
        if (error && !r.found) {
          r.error = true;
          r.problem = problem;
        }
      } else {
        std::string checked = one.checked;
        r = std::move(one);
        r.spec = &s;
        r.from = SourceKind::kS3;
        r.checked = checked;
      }
    }
  }

  static void Adopt(Resolved* r, Resolved fb, SourceKind kind) {
    std::string checked = r->checked.empty() ? fb.checked : r->checked + ", " + fb.checked;
    if (fb.found) {
      r->found = true;
      r->value = std::move(fb.value);
      r->from = kind;
      r->via_fallback = true;
      r->origin = fb.origin;
      r->stale = fb.stale;
      r->warning = fb.warning;
    } else if (r->problem.empty()) {
      r->problem = fb.problem;
    }
    r->checked = checked;
  }

  void LoadEnvFiles() {
    if (files_.loaded) return;
    files_.loaded = true;
    files_.local = LoadEnvFile(config_.dir, ".env.local", env_);
    files_.dotenv = LoadEnvFile(config_.dir, ".env", env_);
  }

  void ResolveEnv(const SecretSpec& s, Resolved* r) {
    r->checked = "$" + s.name + ", .env.local, .env";
    if (auto it = env_.find(s.name); it != env_.end()) {
      Found(r, it->second, "shell environment");
      return;
    }
    LoadEnvFiles();
    if (auto it = files_.local.find(s.name); it != files_.local.end()) {
      Found(r, it->second, ".env.local");
      return;
    }
    if (auto it = files_.dotenv.find(s.name); it != files_.dotenv.end()) {
      Found(r, it->second, ".env");
      return;
    }
    if (!s.from_file.empty()) {
      r->checked += ", " + s.from_file;
      std::string path = ResolveRelative(config_.dir, s.from_file);
      std::string reason;
      SecretBytes content;
      if (ReadWholeFile(path, &content, &reason)) {
        // A file holding one value usually ends with a newline that is not part of it.
        while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
        r->found = true;
        r->value = std::move(content);
        r->origin = s.from_file;
        return;
      }
      r->problem = "cannot read " + s.from_file + ": " + reason;
    }
  }

  static void Found(Resolved* r, const std::string& value, const std::string& origin) {
    r->found = true;
    r->value = ToSecretBytes(value);
    r->origin = origin;
  }

  void ResolveFile(const SecretSpec& s, Resolved* r) {
    r->checked = s.path;
    std::string path = ResolveRelative(config_.dir, s.path);
    std::string reason;
    if (ReadWholeFile(path, &r->value, &reason)) {
      r->found = true;
      r->origin = s.path;
    } else {
      r->problem = "Secret file not found: " + s.path + " (" + reason + ")";
    }
  }

  // Reads the vault secrets of `indices` (primary or fallback) in parallel, one read per
  // distinct location unless coalescing is off.
  void ResolveVault(const std::vector<size_t>& indices, Resolution* res, bool fallback) {
    if (indices.empty()) return;
    struct Task {
      VaultLocation where;
      StatusOr<SecretFields> result = Status(StatusCode::kInternal, "not run");
      bool stale = false;
    };
    std::vector<Task> tasks;
    std::vector<size_t> task_of(indices.size());
    std::map<std::string, size_t> by_key;
    for (size_t j = 0; j < indices.size(); ++j) {
      VaultLocation where = LocateVaultSecret(*res->secrets[indices[j]].spec);
      if (where.api_form) {
        if (std::optional<int> v = MountVersionFor(where.mount)) where = CanonicalLocation(where, *v);
      }
      std::string key = where.Key();
      if (options_.coalesce) {
        if (auto it = by_key.find(key); it != by_key.end()) {
          task_of[j] = it->second;
          continue;
        }
        by_key[key] = tasks.size();
      }
      task_of[j] = tasks.size();
      tasks.push_back(Task{std::move(where)});
    }

    auto run_one = [&](Task& t) {
      if (options_.vault == nullptr) {
        t.result = Unavailable(options_.vault_unavailable_reason);
        return;
      }
      std::string cache_key = t.where.Key();
      if (options_.cache != nullptr) {
        if (auto hit = options_.cache->Get(cache_key); hit && !hit->expired) {
          t.result = std::move(hit->fields);
          return;
        }
      }
      requests_.fetch_add(1);
      t.result = options_.vault->Read(t.where);
      if (options_.cache == nullptr) return;
      if (t.result.ok()) {
        (void)options_.cache->Put(cache_key, *t.result);
      } else if (t.result.status().code() == StatusCode::kUnavailable) {
        if (auto hit = options_.cache->Get(cache_key)) {
          t.result = std::move(hit->fields);
          t.stale = hit->expired;
        }
      }
    };
    size_t first = 0;
    int parallelism = options_.parallelism;
    if (parallelism <= 0) {
      parallelism = 16;
      if (tasks.size() > 1 && options_.vault != nullptr) {
        (void)options_.vault->KvVersion(tasks[0].where.mount);  // connection set up outside the timing
        size_t before = requests_.load();
        auto start = std::chrono::steady_clock::now();
        run_one(tasks[0]);
        first = 1;
        bool asked = requests_.load() != before && tasks[0].result.status().code() != StatusCode::kUnavailable;
        if (asked && std::chrono::steady_clock::now() - start < std::chrono::microseconds(1500)) parallelism = 1;
      }
    }
    size_t workers = std::min<size_t>(tasks.size() - first, static_cast<size_t>(parallelism));
    if (workers <= 1) {
      for (size_t k = first; k < tasks.size(); ++k) run_one(tasks[k]);
    } else {
      std::atomic<size_t> next{first};
      std::vector<std::thread> pool;
      pool.reserve(workers);
      for (size_t w = 0; w < workers; ++w) {
        pool.emplace_back([&] {
          for (size_t k = next.fetch_add(1); k < tasks.size(); k = next.fetch_add(1)) run_one(tasks[k]);
        });
      }
      for (auto& th : pool) th.join();
    }

    for (size_t j = 0; j < indices.size(); ++j) {
      Resolved& r = res->secrets[indices[j]];
      const SecretSpec& s = *r.spec;
      const Task& t = tasks[task_of[j]];
      Resolved got;
      got.checked = "vault " + s.vault_path + ":" + s.vault_key;
      if (t.result.ok()) {
        auto it = t.result->find(s.vault_key);
        if (it != t.result->end()) {
          got.found = true;
          got.value = SecretBytes(it->second.begin(), it->second.end());
          got.origin = s.vault_path + ":" + s.vault_key;
          if (t.stale) {
            got.stale = true;
            got.warning = "Using stale cached secret (cache expired)";
          }
        } else {
          got.problem = "key " + s.vault_key + " not present at " + s.vault_path;
        }
      } else {
        got.problem = t.result.status().message();
      }
      if (fallback) {
        Adopt(&r, std::move(got), SourceKind::kVault);
      } else {
        std::string checked = got.checked;
        r = std::move(got);
        r.spec = &s;
        r.from = SourceKind::kVault;
        r.checked = checked;
      }
    }
  }

  // The mount's KV version from the server, remembered in the cache for offline use.
  std::optional<int> MountVersionFor(const std::string& mount) {
    if (auto it = mount_versions_.find(mount); it != mount_versions_.end()) return it->second;
    std::optional<int> v;
    const std::string cache_key = "kv-version\n" + mount;
    if (options_.vault != nullptr) v = options_.vault->KvVersion(mount);
    if (options_.cache != nullptr) {
      if (v) {
        SecretFields f;
        f["version"] = std::to_string(*v).c_str();
        (void)options_.cache->Put(cache_key, f);
      } else if (auto hit = options_.cache->Get(cache_key)) {
        auto it = hit->fields.find("version");
        if (it != hit->fields.end() && (it->second == "1" || it->second == "2")) v = it->second == "2" ? 2 : 1;
      }
    }
    mount_versions_[mount] = v;
    return v;
  }

  const ProjectConfig& config_;
  const ResolveOptions& options_;
  std::map<std::string, std::optional<int>> mount_versions_;
  std::map<std::string, std::string> env_;
  EnvFiles files_;
  std::atomic<size_t> requests_{0};
};

// ---- the S3 source over the encrypted store ----

class StoreS3Source final : public S3Source {
 public:
  StoreS3Source(s3::Store* store, int parallelism, bool use_cache)
      : store_(store), parallelism_(parallelism > 0 ? parallelism : 16), use_cache_(use_cache) {}

  std::vector<S3Got> PullAll(const std::vector<S3Lookup>& lookups) override {
    std::vector<std::pair<std::string, std::string>> items;
    items.reserve(lookups.size());
    for (const auto& l : lookups) items.emplace_back(l.name, l.path);
    std::vector<StatusOr<s3::PullResult>> pulled = store_->PullEach(items, parallelism_, use_cache_);
    std::vector<S3Got> out(lookups.size());
    for (size_t i = 0; i < lookups.size(); ++i) {
      S3Got& g = out[i];
      if (!pulled[i].ok()) {
        g.value = pulled[i].status();
        continue;
      }
      g.stale = pulled[i]->source == "stale cache";
      g.value = std::move(pulled[i]->value);
      g.origin = store_->objects().Describe() + "/" +
                 store_->KeyFor(lookups[i].path.empty() ? lookups[i].name : lookups[i].path);
    }
    return out;
  }

 private:
  s3::Store* store_;
  int parallelism_;
  bool use_cache_;
};

}  // namespace

std::unique_ptr<S3Source> NewStoreS3Source(s3::Store* store, int parallelism, bool use_cache) {
  return std::make_unique<StoreS3Source>(store, parallelism, use_cache);
}

VaultLocation LocateVaultSecret(const SecretSpec& spec) {
  VaultLocation loc;
  const std::string& p = spec.vault_path;
  const std::string& m = spec.vault_mount;
  if (p.rfind(m + "/", 0) == 0) {
    loc.mount = m;
    loc.relative = p.substr(m.size() + 1);
    loc.api_form = true;
    return loc;
  }
  // `kv/data/app` with no vaultMount given: the API form of another KV v2 mount.
  size_t first = p.find('/');
  if (!spec.vault_mount_set && first != std::string::npos && p.compare(first + 1, 5, "data/") == 0) {
    loc.mount = p.substr(0, first);
    loc.relative = p.substr(first + 1);
    loc.api_form = true;
    return loc;
  }
  loc.mount = m;
  loc.relative = p;
  return loc;
}

VaultLocation CanonicalLocation(const VaultLocation& where, int kv_version) {
  if (!where.api_form) return where;
  VaultLocation out = where;
  if (kv_version == 2) {
    if (out.relative.rfind("data/", 0) != 0) return where;  // not a data path: leave it alone
    out.relative = out.relative.substr(5);
  }
  out.api_form = false;
  return out;
}

std::unique_ptr<VaultSource> NewClientVaultSource(client::VaultClient* client) {
  return std::make_unique<ClientVaultSource>(client);
}

bool Resolution::AllRequiredFound() const {
  for (const auto& r : secrets) {
    if (r.spec->required && !r.found) return false;
  }
  return true;
}

Resolution ResolveAll(const ProjectConfig& config, const ResolveOptions& options) {
  Engine engine(config, options);
  return engine.Run();
}

std::string HumanSize(size_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(bytes) / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  return buf;
}

}  // namespace coffer::resolver
