// SecretsManager and the resolver's client-backed Vault source against an in-process fake KV v2
// server (real HTTP through libcurl).
#include <coffer/secrets_manager.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "http/server.h"
#include "resolver/resolver.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace coffer {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// KV v2 at secret/: data/, metadata/ (LIST), the mount pre-flight, token lookup/renew.
class FakeKv : public http::Handler {
 public:
  std::atomic<int> reads{0};
  std::atomic<int> renews{0};
  std::atomic<bool> down{false};
  http::ApiResponse Handle(const http::ApiRequest& req) override {
    http::ApiResponse r;
    if (down) {
      r.status = 503;
      r.body = R"({"errors":["Vault is sealed"]})";
      return r;
    }
    std::string p = req.path.substr(4);  // after /v1/
    std::lock_guard<std::mutex> lock(mu_);
    if (p.rfind("sys/internal/ui/mounts/", 0) == 0) {
      r.body = R"({"data":{"path":"secret/","type":"kv","options":{"version":"2"}}})";
    } else if (p == "auth/token/lookup-self") {
      r.body = R"({"data":{"ttl":600,"renewable":true}})";
    } else if (p == "auth/token/renew-self") {
      renews++;
      r.body = R"({"auth":{"client_token":"x"}})";
    } else if (p.rfind("secret/data/", 0) == 0) {
      std::string key = p.substr(12);
      if (req.method == "GET") {
        reads++;
        auto it = data_.find(key);
        if (it == data_.end()) {
          r.status = 404;
          r.body = R"({"errors":[]})";
        } else {
          r.body = json{{"data", {{"data", it->second}, {"metadata", {{"version", 1}}}}}}.dump();
        }
      } else {
        data_[key] = json::parse(req.body)["data"];
        r.body = R"({"data":{"version":1}})";
      }
    } else if (p.rfind("secret/metadata/", 0) == 0 && req.method == "LIST") {
      std::string prefix = p.substr(16);
      if (!prefix.empty() && prefix.back() != '/') prefix += '/';
      json keys = json::array();
      for (auto& [k, v] : data_) {
        if (k.rfind(prefix, 0) == 0) keys.push_back(k.substr(prefix.size()));
      }
      if (keys.empty()) {
        r.status = 404;
        r.body = R"({"errors":[]})";
      } else {
        r.body = json{{"data", {{"keys", keys}}}}.dump();
      }
    } else {
      r.status = 404;
      r.body = R"({"errors":[]})";
    }
    return r;
  }
  bool MayBlock(const http::ApiRequest&) const override { return true; }
  void Put(const std::string& path, json fields) {
    std::lock_guard<std::mutex> lock(mu_);
    data_[path] = std::move(fields);
  }

 private:
  std::mutex mu_;
  std::map<std::string, json> data_;
};

class SecretsManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions opts;
    opts.listeners.push_back({.address = "127.0.0.1:0"});
    opts.threads = 2;
    auto s = http::Server::Create(opts, &kv_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    server_->Start();
    address_ = "http://" + server_->BoundAddresses().at(0);
  }
  void TearDown() override { server_->Shutdown(2s); }
  SecretsManager::Options Opts() {
    SecretsManager::Options o;
    o.client = client::Config();
    o.client.address = address_;
    o.client.token = "s.token";
    o.client.max_retries = 0;
    o.renew_token = false;
    return o;
  }
  FakeKv kv_;
  std::unique_ptr<http::Server> server_;
  std::string address_;
};

TEST_F(SecretsManagerTest, GetSetListWithCache) {
  auto sm = SecretsManager::Create(Opts());
  auto missing = sm->GetSecret("database/connection", "url");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, SecretsErrorCode::kNotFound);
  ASSERT_TRUE(sm->SetSecret("database/connection", {{"url", "postgres://x"}, {"user", "u"}}).ok());
  auto url = sm->GetSecret("database/connection", "url");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url.value(), "postgres://x");
  int reads = kv_.reads;
  EXPECT_EQ(sm->GetSecret("database/connection").value().at("user"), "u");
  EXPECT_EQ(kv_.reads, reads);  // served from the cache
  EXPECT_EQ(sm->CacheSize(), 1u);
  ASSERT_TRUE(sm->SetSecret("database/connection", {{"url", "postgres://y"}}).ok());  // invalidates
  EXPECT_EQ(sm->GetSecret("database/connection", "url").value(), "postgres://y");
  EXPECT_EQ(sm->GetSecret("database/connection", "user").error().code, SecretsErrorCode::kNotFound);
  ASSERT_TRUE(sm->SetSecret("api-keys/openai", {{"key", "k"}}).ok());
  auto list = sm->ListSecrets("");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.value(), (std::vector<std::string>{"api-keys/openai", "database/connection"}));
  EXPECT_TRUE(sm->ListSecrets("nothing/here").value().empty());
}

TEST_F(SecretsManagerTest, MaxEntriesEvictsOldest) {
  auto o = Opts();
  o.max_entries = 2;
  auto sm = SecretsManager::Create(o);
  for (int i = 0; i < 3; ++i) kv_.Put("s" + std::to_string(i), {{"k", "v"}});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sm->GetSecret("s" + std::to_string(i), "k").ok());
  EXPECT_EQ(sm->CacheSize(), 2u);
}

TEST_F(SecretsManagerTest, EnvFallbackWhenVaultIsUnreachable) {
  auto sm = SecretsManager::Create(Opts());
  EXPECT_EQ(sm->EnvVarFor("database/connection", "url"), "DATABASE_URL");
  EXPECT_EQ(sm->EnvVarFor("api-keys/openai", "key"), "OPENAI_API_KEY");
  kv_.down = true;
  ::setenv("OPENAI_API_KEY", "from-env", 1);
  auto v = sm->GetSecret("api-keys/openai", "key");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v.from_env_fallback());
  EXPECT_EQ(v.value(), "from-env");
  auto e = sm->GetSecret("database/other", "password");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, SecretsErrorCode::kVaultConnection);
  ::unsetenv("OPENAI_API_KEY");
}

TEST_F(SecretsManagerTest, RenewsShortLivedToken) {
  auto o = Opts();
  o.renew_token = true;
  o.renew_check_interval = 1s;
  auto sm = SecretsManager::Create(o);
  for (int i = 0; i < 40 && kv_.renews == 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_GE(kv_.renews.load(), 1);
}

TEST_F(SecretsManagerTest, ResolverCoalescesOverRealHttp) {
  for (int p = 0; p < 10; ++p) kv_.Put("app/p" + std::to_string(p), {{"a", "A" + std::to_string(p)}, {"b", "B"}});
  std::string yaml = "secrets:\n";
  for (int p = 0; p < 10; ++p) {
    for (const char* k : {"a", "b"}) {
      yaml += std::string("- {name: S") + std::to_string(p) + k + ", source: vault, vaultPath: secret/data/app/p" +
              std::to_string(p) + ", vaultKey: " + k + "}\n";
    }
  }
  auto cfg = resolver::ParseProjectConfig(yaml, "coffer.yaml", "/nonexistent", resolver::ProcessEnv());
  ASSERT_TRUE(cfg.ok());
  client::Config c;
  c.address = address_;
  c.token = "s.token";
  c.max_retries = 0;
  client::VaultClient client(c);
  auto source = resolver::NewClientVaultSource(&client);
  std::map<std::string, std::string> env;
  resolver::ResolveOptions o;
  o.environment = &env;
  o.vault = source.get();
  int before = kv_.reads;
  auto res = resolver::ResolveAll(*cfg, o);
  ASSERT_TRUE(res.AllRequiredFound());
  for (const auto& r : res.secrets) ASSERT_TRUE(r.found) << r.spec->name << ": " << r.problem;
  EXPECT_EQ(AsStringView(res.secrets[14].value), "A7");
  EXPECT_EQ(kv_.reads - before, 10);
  EXPECT_EQ(res.vault_requests, 10u);
  // The same over 8 threads sharing the client's pooled connections.
  o.parallelism = 8;
  before = kv_.reads;
  res = resolver::ResolveAll(*cfg, o);
  for (const auto& r : res.secrets) ASSERT_TRUE(r.found) << r.spec->name << ": " << r.problem;
  EXPECT_EQ(AsStringView(res.secrets[19].value), "B");
  EXPECT_EQ(kv_.reads - before, 10);
}

}  // namespace
}  // namespace coffer
