#include <coffer/secrets_manager.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <list>
#include <mutex>
#include <thread>

#include "base/secret_bytes.h"
#include "resolver/vault_auth.h"

namespace coffer {
namespace {

using json = nlohmann::json;
using Fields = std::map<std::string, SecretString>;

SecretsError ErrorFor(const client::Response& r, const std::string& what) {
  if (r.status == 0) {
    return {SecretsErrorCode::kVaultConnection,
            "cannot reach Vault for " + what + ": " + (r.errors.empty() ? "no response" : r.errors[0])};
  }
  if (r.status == 404) return {SecretsErrorCode::kNotFound, "no secret at " + what};
  if (r.status == 403) return {SecretsErrorCode::kPermissionDenied, "permission denied for " + what};
  if (r.status == 503) return {SecretsErrorCode::kVaultConnection, "Vault is sealed or unavailable (" + what + ")"};
  if (r.status == 400) {
    return {SecretsErrorCode::kInvalidArgument,
            "invalid request for " + what + (r.errors.empty() ? "" : ": " + r.errors[0])};
  }
  return {SecretsErrorCode::kServer,
          "HTTP " + std::to_string(r.status) + " for " + what + (r.errors.empty() ? "" : ": " + r.errors[0])};
}

std::string Clean(std::string p) {
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

std::string EnvName(std::string s) {
  for (char& c : s) c = std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
  return s;
}

}  // namespace

struct SecretsManager::Impl {
  Options options;
  client::VaultClient client;
  int kv_version = 0;  // 0 = not known yet

  mutable std::mutex mu;  // guards cache, lru, kv_version
  struct Entry {
    Fields fields;
    std::chrono::steady_clock::time_point stored;
    std::list<std::string>::iterator lru;
  };
  std::map<std::string, Entry> cache;
  std::list<std::string> lru;  // most recent first

  std::mutex renew_mu;
  std::condition_variable renew_cv;
  bool stopping = false;
  std::thread renewer;

  explicit Impl(Options o) : options(std::move(o)), client(options.client) {}

  void Log(const std::string& msg) {
    if (options.logger) {
      options.logger(msg);
    } else {
      std::cerr << "coffer: " << msg << "\n";
    }
  }

  // KV version of the mount (detected once; v1 when the server cannot say).
  std::optional<SecretsError> Version(int* out) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (kv_version != 0) {
        *out = kv_version;
        return std::nullopt;
      }
    }
    client::Response err;
    auto kv = client.ResolveKvMount(options.mount + "/", &err);
    if (!kv) return ErrorFor(err, options.mount);
    std::lock_guard<std::mutex> lock(mu);
    kv_version = kv->version;
    *out = kv_version;
    return std::nullopt;
  }

  std::string DataPath(int version, const std::string& path) const {
    return version == 2 ? options.mount + "/data/" + path : options.mount + "/" + path;
  }

  std::optional<Fields> CacheGet(const std::string& path) {
    if (options.cache_ttl.count() == 0) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(path);
    if (it == cache.end()) return std::nullopt;
    if (std::chrono::steady_clock::now() - it->second.stored >= options.cache_ttl) {
      lru.erase(it->second.lru);
      cache.erase(it);
      return std::nullopt;
    }
    lru.splice(lru.begin(), lru, it->second.lru);
    return it->second.fields;
  }

  void CachePut(const std::string& path, const Fields& fields) {
    if (options.cache_ttl.count() == 0 || options.max_entries == 0) return;
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(path); it != cache.end()) {
      lru.erase(it->second.lru);
      cache.erase(it);
    }
    lru.push_front(path);
    cache[path] = Entry{fields, std::chrono::steady_clock::now(), lru.begin()};
    while (cache.size() > options.max_entries) {
      cache.erase(lru.back());
      lru.pop_back();
    }
  }

  void Invalidate(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(path); it != cache.end()) {
      lru.erase(it->second.lru);
      cache.erase(it);
    }
  }

  SecretsResult<Fields> Fetch(const std::string& raw_path) {
    std::string path = Clean(raw_path);
    if (path.empty()) return SecretsError{SecretsErrorCode::kInvalidArgument, "empty secret path"};
    if (auto hit = CacheGet(path)) return std::move(*hit);
    int version = 1;
    if (auto err = Version(&version)) return *err;
    client::Response r = client.Read(DataPath(version, path));
    if (!r.ok()) return ErrorFor(r, path);
    const json* data = r.body.contains("data") ? &r.body["data"] : nullptr;
    if (version == 2 && data != nullptr)
      data = data->is_object() && data->contains("data") ? &(*data)["data"] : nullptr;
    if (data == nullptr || !data->is_object()) return SecretsError{SecretsErrorCode::kNotFound, "no secret at " + path};
    Fields f;
    for (auto it = data->begin(); it != data->end(); ++it) {
      std::string v = it->is_string() ? it->get<std::string>() : it->dump();
      f[it.key()] = SecretString(v.begin(), v.end());
      SecureWipe(v.data(), v.size());
    }
    SecureWipe(r.raw_body.data(), r.raw_body.size());
    CachePut(path, f);
    return f;
  }

  void RenewLoop() {
    std::unique_lock<std::mutex> lock(renew_mu);
    while (!stopping) {
      renew_cv.wait_for(lock, options.renew_check_interval, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      RenewOnce();
      lock.lock();
    }
  }

  void RenewOnce() {
    std::string warning = resolver::RenewTokenIfExpiring(&client);
    if (!warning.empty()) Log(warning);
  }
};

SecretsManager::SecretsManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SecretsManager::~SecretsManager() {
  if (impl_->renewer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(impl_->renew_mu);
      impl_->stopping = true;
    }
    impl_->renew_cv.notify_all();
    impl_->renewer.join();
  }
}

std::unique_ptr<SecretsManager> SecretsManager::Create(Options options) {
  options.mount = Clean(options.mount);
  if (options.mount.empty()) options.mount = "secret";
  auto impl = std::make_unique<Impl>(std::move(options));
  Impl* raw = impl.get();
  std::unique_ptr<SecretsManager> sm(new SecretsManager(std::move(impl)));
  if (raw->options.renew_token && !raw->options.client.token.empty()) {
    raw->renewer = std::thread([raw] { raw->RenewLoop(); });
  }
  return sm;
}

std::string SecretsManager::EnvVarFor(const std::string& path, const std::string& key) const {
  std::string full = Clean(path) + "/" + key;
  if (auto it = impl_->options.env_mapping.find(full); it != impl_->options.env_mapping.end()) return it->second;
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= full.size()) {
    size_t j = full.find('/', i);
    if (j == std::string::npos) j = full.size();
    if (j > i) parts.push_back(full.substr(i, j - i));
    i = j + 1;
  }
  if (parts.size() >= 2 && parts[0] == "api-keys") return EnvName(parts[1]) + "_API_KEY";
  if (parts.size() >= 2) return EnvName(parts.front()) + "_" + EnvName(parts.back());
  return EnvName(full);
}

SecretsResult<std::string> SecretsManager::GetSecret(const std::string& path, const std::string& key) {
  SecretsResult<Fields> f = impl_->Fetch(path);
  if (f.ok()) {
    auto it = f.value().find(key);
    if (it != f.value().end()) return std::string(it->second.begin(), it->second.end());
    return SecretsError{SecretsErrorCode::kNotFound, "key " + key + " not present at " + Clean(path)};
  }
  if (f.error().code == SecretsErrorCode::kVaultConnection && impl_->options.env_fallback) {
    std::string var = EnvVarFor(path, key);
    if (const char* v = std::getenv(var.c_str())) {
      SecretsResult<std::string> out{std::string(v)};
      out.set_from_env_fallback(true);
      return out;
    }
  }
  return f.error();
}

SecretsResult<std::map<std::string, std::string>> SecretsManager::GetSecret(const std::string& path) {
  SecretsResult<Fields> f = impl_->Fetch(path);
  if (!f.ok()) return f.error();
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : f.value()) out[k] = std::string(v.begin(), v.end());
  return out;
}

SecretsResult<bool> SecretsManager::SetSecret(const std::string& raw_path,
                                              const std::map<std::string, std::string>& fields) {
  std::string path = Clean(raw_path);
  if (path.empty()) return SecretsError{SecretsErrorCode::kInvalidArgument, "empty secret path"};
  int version = 1;
  if (auto err = impl_->Version(&version)) return *err;
  json data = json::object();
  for (const auto& [k, v] : fields) data[k] = v;
  json body = version == 2 ? json{{"data", data}} : data;
  client::Response r = impl_->client.Write(impl_->DataPath(version, path), body);
  impl_->Invalidate(path);
  if (!r.ok()) return ErrorFor(r, path);
  return true;
}

SecretsResult<std::vector<std::string>> SecretsManager::ListSecrets(const std::string& prefix) {
  int version = 1;
  if (auto err = impl_->Version(&version)) return *err;
  std::string p = Clean(prefix);
  std::string path = version == 2 ? impl_->options.mount + "/metadata/" + p : impl_->options.mount + "/" + p;
  client::Response r = impl_->client.List(path);
  if (r.status == 404) return std::vector<std::string>{};
  if (!r.ok()) return ErrorFor(r, p.empty() ? impl_->options.mount : p);
  std::vector<std::string> keys;
  if (r.body.contains("data") && r.body["data"].contains("keys") && r.body["data"]["keys"].is_array()) {
    for (const auto& k : r.body["data"]["keys"]) {
      if (k.is_string()) keys.push_back(k.get<std::string>());
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

void SecretsManager::InvalidateCache() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cache.clear();
  impl_->lru.clear();
}

size_t SecretsManager::CacheSize() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->cache.size();
}

}  // namespace coffer
