// VaultClient against a real local HTTP server (the in-tree coffer_http transport) whose answers
// each test scripts.
#include <coffer/client.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "client/retry.h"
#include "http/server.h"

// The scripts below use designated initializers that leave the other members defaulted.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace coffer::client {
namespace {

using namespace std::chrono_literals;

// Answers from a script (front first; the last entry repeats) and records what it saw.
class ScriptedHandler : public http::Handler {
 public:
  struct Answer {
    int status = 200;
    std::string body = R"({"data":{"ok":true}})";
    std::chrono::milliseconds delay{0};
    std::vector<std::pair<std::string, std::string>> headers;
  };
  void Script(std::vector<Answer> answers) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(answers.begin(), answers.end());
  }
  http::ApiResponse Handle(const http::ApiRequest& req) override {
    Answer a;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      remotes_.insert(req.remote_address);
      if (!script_.empty()) {
        a = script_.front();
        if (script_.size() > 1) script_.pop_front();
      }
    }
    if (a.delay.count()) std::this_thread::sleep_for(a.delay);
    http::ApiResponse r;
    r.status = a.status;
    r.body = a.status == 204 ? "" : a.body;
    r.headers = a.headers;
    return r;
  }
  bool MayBlock(const http::ApiRequest&) const override { return true; }

  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  http::ApiRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.back();
  }
  size_t connections() {
    std::lock_guard<std::mutex> lock(mu_);
    return remotes_.size();
  }

 private:
  std::mutex mu_;
  std::deque<Answer> script_;
  std::vector<http::ApiRequest> requests_;
  std::set<std::string> remotes_;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions opts;
    opts.listeners.push_back({.address = "127.0.0.1:0"});
    opts.threads = 1;
    auto s = http::Server::Create(opts, &handler_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    server_->Start();
    address_ = "http://" + server_->BoundAddresses().at(0);
  }
  void TearDown() override { server_->Shutdown(2s); }

  Config FastConfig() {
    Config c;
    c.address = address_;
    c.token = "s.TopSecretToken123";
    c.min_retry_wait = 10ms;
    c.max_retry_wait = 40ms;
    c.timeout = 10s;
    return c;
  }

  ScriptedHandler handler_;
  std::unique_ptr<http::Server> server_;
  std::string address_;
};

TEST_F(ClientTest, RetriesServiceUnavailableThenSucceeds) {
  handler_.Script({{.status = 503, .body = R"({"errors":["Vault is sealed"]})"}, {.status = 200}});
  VaultClient client(FastConfig());
  Response r = client.Read("secret/app");
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(handler_.count(), 2u);
  EXPECT_EQ(r.body["data"]["ok"], true);
}

TEST_F(ClientTest, RetriesPreconditionFailedAndRateLimitedButGivesUpAfterMaxRetries) {
  handler_.Script({{.status = 412, .body = R"({"errors":["not caught up"]})"},
                   {.status = 429, .body = R"({"errors":["slow down"]})"},
                   {.status = 500, .body = R"({"errors":["internal error"]})"}});
  Config c = FastConfig();
  c.max_retries = 2;
  VaultClient client(c);
  Response r = client.Read("secret/app");
  EXPECT_EQ(handler_.count(), 3u);  // the first try plus two retries
  EXPECT_EQ(r.status, 500);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors, std::vector<std::string>{"internal error"});
}

TEST_F(ClientTest, DoesNotRetryClientErrorsOrNotImplemented) {
  for (int status : {400, 403, 404, 405, 501}) {
    handler_.Script({{.status = status, .body = R"({"errors":["nope"]})"}, {.status = 200}});
    size_t before = handler_.count();
    VaultClient client(FastConfig());
    Response r = client.Read("secret/app");
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(handler_.count() - before, 1u) << "status " << status << " was retried";
  }
}

TEST_F(ClientTest, ZeroMaxRetriesMeansOneAttempt) {
  handler_.Script({{.status = 503, .body = R"({"errors":["down"]})"}, {.status = 200}});
  Config c = FastConfig();
  c.max_retries = 0;
  VaultClient client(c);
  EXPECT_EQ(client.Read("x").status, 503);
  EXPECT_EQ(handler_.count(), 1u);
}

TEST_F(ClientTest, HonoursRetryAfterOn429) {
  handler_.Script(
      {{.status = 429, .body = R"({"errors":["slow"]})", .headers = {{"Retry-After", "1"}}}, {.status = 200}});
  VaultClient client(FastConfig());
  auto start = std::chrono::steady_clock::now();
  Response r = client.Read("x");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.ok());
  EXPECT_GE(took, 900ms);
}

TEST(RetryWaitTest, StaysWithinBoundsAndGrowsExponentially) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    for (double u : {0.0, 0.25, 0.5, 0.999}) {
      auto w = RetryWait(1000ms, 1500ms, attempt, u);
      EXPECT_GE(w, 1000ms);
      EXPECT_LE(w, 1500ms);
    }
  }
  EXPECT_EQ(RetryWait(100ms, 10s, 0, 0.0), 100ms);
  EXPECT_EQ(RetryWait(100ms, 10s, 1, 0.0), 200ms);
  EXPECT_EQ(RetryWait(100ms, 10s, 3, 0.0), 800ms);
  EXPECT_EQ(RetryWait(100ms, 10s, 3, 0.5), 1000ms);  // 800 + 25% jitter
  EXPECT_EQ(RetryWait(100ms, 10s, 20, 0.9), 10s);    // capped
  EXPECT_TRUE(IsRetryableStatus(412));
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_TRUE(IsRetryableStatus(502));
  EXPECT_FALSE(IsRetryableStatus(501));
  EXPECT_FALSE(IsRetryableStatus(400));
  EXPECT_FALSE(IsRetryableStatus(404));
}

TEST_F(ClientTest, SendsVaultHeadersAndKeepsTokenOutOfUrlAndErrors) {
  handler_.Script({{.status = 403, .body = R"({"errors":["permission denied"]})"}});
  Config c = FastConfig();
  c.namespace_ = "team-a";
  VaultClient client(c);
  Response r = client.Read("secret/data/app", {{"version", "2"}});
  auto req = handler_.last();
  EXPECT_EQ(req.Header("x-vault-token"), "s.TopSecretToken123");
  EXPECT_EQ(req.Header("x-vault-request"), "true");
  EXPECT_EQ(req.Header("x-vault-namespace"), "team-a");
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/v1/secret/data/app");
  EXPECT_EQ(r.url, address_ + "/v1/secret/data/app?version=2");
  EXPECT_EQ(r.ErrorText(), "Error making API request.\n\nNamespace: team-a\nURL: GET " + address_ +
                               "/v1/secret/data/app?version=2\nCode: 403. Errors:\n\n* permission denied");
  EXPECT_EQ(r.ErrorText().find("TopSecret"), std::string::npos);
  EXPECT_EQ(r.url.find("TopSecret"), std::string::npos);
}

TEST_F(ClientTest, ErrorTextWithoutNamespaceAndWithRawBody) {
  handler_.Script({{.status = 400, .body = R"({"errors":["missing data","bad field"]})"}});
  VaultClient client(FastConfig());
  Response r = client.Write("secret/app", {{"a", 1}});
  EXPECT_EQ(r.ErrorText(), "Error making API request.\n\nURL: PUT " + address_ +
                               "/v1/secret/app\nCode: 400. Errors:\n\n* missing data\n* bad field");
  handler_.Script({{.status = 502, .body = "bad gateway"}});
  Config c = FastConfig();
  c.max_retries = 0;
  VaultClient plain(c);
  Response raw = plain.Read("x");
  EXPECT_EQ(raw.ErrorText(),
            "Error making API request.\n\nURL: GET " + address_ + "/v1/x\nCode: 502. Raw Message:\n\nbad gateway");
}

TEST_F(ClientTest, MethodsBodiesAndEncoding) {
  handler_.Script({{.status = 200}});
  VaultClient client(FastConfig());
  client.List("secret/metadata/a b");
  EXPECT_EQ(handler_.last().method, "LIST");
  EXPECT_EQ(handler_.last().path, "/v1/secret/metadata/a b");
  client.Patch("secret/data/app", {{"data", {{"x", "1"}}}});
  EXPECT_EQ(handler_.last().method, "PATCH");
  EXPECT_EQ(handler_.last().Header("content-type"), "application/merge-patch+json");
  EXPECT_EQ(nlohmann::json::parse(handler_.last().body)["data"]["x"], "1");
  client.Write("secret/app", {{"k", "v"}});
  EXPECT_EQ(handler_.last().method, "PUT");
  EXPECT_EQ(handler_.last().Header("content-type"), "application/json");
  client.Delete("secret/app", {{"versions", "1,2"}});
  EXPECT_EQ(handler_.last().method, "DELETE");
  ASSERT_EQ(handler_.last().query.size(), 1u);
  EXPECT_EQ(handler_.last().query[0].second, "1,2");
  handler_.Script({{.status = 204}});
  Response r = client.Delete("secret/app");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.body.is_null());
}

TEST_F(ClientTest, ReusesOneConnectionForManyRequests) {
  handler_.Script({{.status = 200}});
  VaultClient client(FastConfig());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(client.Read("secret/app").ok());
  EXPECT_EQ(handler_.count(), 25u);
  EXPECT_EQ(handler_.connections(), 1u);
}

TEST_F(ClientTest, IsSafeToShareBetweenThreads) {
  handler_.Script({{.status = 200}});
  VaultClient client(FastConfig());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += client.Read("secret/app").ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_LE(handler_.connections(), 4u);  // pooled handles keep their connections
}

TEST_F(ClientTest, TimeoutCoversTheWholeCallAndIsNotRetried) {
  handler_.Script({{.status = 200, .delay = 1500ms}});
  Config c = FastConfig();
  c.timeout = 300ms;
  VaultClient client(c);
  auto start = std::chrono::steady_clock::now();
  Response r = client.Read("slow");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 0);
  EXPECT_LT(took, 1200ms);
  EXPECT_EQ(handler_.count(), 1u);
  EXPECT_NE(r.ErrorText().find("context deadline exceeded"), std::string::npos) << r.ErrorText();
  EXPECT_EQ(r.ErrorText().find('\n'), std::string::npos);
}

int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // nothing listens there now
  return ntohs(a.sin_port);
}

TEST(ClientConnectTest, ConnectionRefusedIsOneClearLineWithoutTheToken) {
  int port = ClosedPort();
  Config c;
  c.address = "http://127.0.0.1:" + std::to_string(port);
  c.token = "s.TopSecretToken123";
  c.max_retries = 2;
  c.min_retry_wait = 10ms;
  c.max_retry_wait = 20ms;
  VaultClient client(c);
  Response r = client.Read("sys/seal-status");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.ok());
  std::string p = std::to_string(port);
  EXPECT_EQ(r.ErrorText(), "Get \"http://127.0.0.1:" + p + "/v1/sys/seal-status\": dial tcp 127.0.0.1:" + p +
                               ": connect: connection refused");
}

TEST(ClientConnectTest, UnknownSchemeIsRejected) {
  Config c;
  c.address = "127.0.0.1:8200";
  VaultClient client(c);
  Response r = client.Read("sys/health");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.ErrorText().find("unsupported protocol scheme"), std::string::npos) << r.ErrorText();
}

TEST_F(ClientTest, ResolvesKvMountsLikeVaultsCli) {
  handler_.Script({{.status = 200, .body = R"({"data":{"path":"secret/","type":"kv","options":{"version":"2"}}})"}});
  VaultClient client(FastConfig());
  Response err;
  auto m = client.ResolveKvMount("secret/app/db", &err);
  ASSERT_TRUE(m.has_value()) << err.ErrorText();
  EXPECT_EQ(handler_.last().path, "/v1/sys/internal/ui/mounts/secret/app/db");
  EXPECT_EQ(m->mount_path, "secret/");
  EXPECT_EQ(m->version, 2);
  EXPECT_EQ(m->relative, "app/db");
  size_t before = handler_.count();
  auto again = client.ResolveKvMount("secret/other", &err);  // cached per mount
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->relative, "other");
  EXPECT_EQ(again->version, 2);
  EXPECT_EQ(handler_.count(), before);

  // KV v1: options without a version.
  handler_.Script({{.status = 200, .body = R"({"data":{"path":"kv/","type":"kv","options":null}})"}});
  auto v1 = client.ResolveKvMount("kv/x", &err);
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->relative, "x");

  // 404 (an older server): KV v1, path as given.
  handler_.Script({{.status = 404, .body = R"({"errors":[]})"}});
  auto old = client.ResolveKvMount("legacy/app", &err);
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->version, 1);
  EXPECT_EQ(old->mount_path, "");
  EXPECT_EQ(old->relative, "legacy/app");

  // 403 is an error the caller shows.
  handler_.Script({{.status = 403, .body = R"({"errors":["permission denied"]})"}});
  auto denied = client.ResolveKvMount("locked/app", &err);
  EXPECT_FALSE(denied.has_value());
  EXPECT_EQ(err.status, 403);
  EXPECT_NE(err.ErrorText().find("* permission denied"), std::string::npos);
}

// Proxies: a non-loopback address goes through http_proxy unless NO_PROXY names it.
TEST_F(ClientTest, HonoursHttpProxyAndNoProxy) {
  handler_.Script({{.status = 200}});
  std::string proxy = address_;
  setenv("http_proxy", proxy.c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  Config c = FastConfig();
  c.address = "http://vault.example.invalid:8200";
  c.max_retries = 0;
  {
    VaultClient client(c);
    client.Read("secret/app");
    ASSERT_GE(handler_.count(), 1u);  // the proxy saw the request
  }
  size_t before = handler_.count();
  setenv("NO_PROXY", "example.invalid", 1);
  {
    VaultClient client(c);
    Response r = client.Read("secret/app");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.ErrorText().find("lookup vault.example.invalid"), std::string::npos) << r.ErrorText();
  }
  EXPECT_EQ(handler_.count(), before);  // went direct (and failed to resolve), not via the proxy
  unsetenv("NO_PROXY");
  unsetenv("http_proxy");
}

TEST_F(ClientTest, LoopbackIsNeverProxied) {
  handler_.Script({{.status = 200}});
  setenv("http_proxy", "http://127.0.0.1:1", 1);  // nothing listens there
  VaultClient client(FastConfig());
  Response r = client.Read("secret/app");
  unsetenv("http_proxy");
  EXPECT_TRUE(r.ok()) << r.ErrorText();
}

// Environment parsing -------------------------------------------------------------------------

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      if (const char* old = std::getenv(v)) saved_.emplace_back(v, old);
      unsetenv(v);
    }
    home_ = std::filesystem::temp_directory_path() / ("coffer-client-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(home_);
    setenv("HOME", home_.c_str(), 1);
  }
  void TearDown() override {
    for (const char* v : kVars) unsetenv(v);
    for (auto& [k, v] : saved_) setenv(k.c_str(), v.c_str(), 1);
    std::filesystem::remove_all(home_);
  }
  static constexpr const char* kVars[] = {"VAULT_ADDR",
                                          "VAULT_TOKEN",
                                          "VAULT_NAMESPACE",
                                          "VAULT_CACERT",
                                          "VAULT_CAPATH",
                                          "VAULT_CLIENT_CERT",
                                          "VAULT_CLIENT_KEY",
                                          "VAULT_SKIP_VERIFY",
                                          "VAULT_CLIENT_TIMEOUT",
                                          "VAULT_MAX_RETRIES",
                                          "VAULT_PROXY_ADDR",
                                          "VAULT_HTTP_PROXY",
                                          "HOME"};
  std::vector<std::pair<std::string, std::string>> saved_;
  std::filesystem::path home_;
};

TEST_F(EnvTest, DefaultsMatchVault) {
  std::string error;
  Config c = Config::FromEnvironment(&error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(c.address, "https://127.0.0.1:8200");
  EXPECT_EQ(c.token, "");
  EXPECT_EQ(c.timeout, 60s);
  EXPECT_EQ(c.max_retries, 2);
  EXPECT_FALSE(c.tls_skip_verify);
}

TEST_F(EnvTest, ReadsEveryVariable) {
  setenv("VAULT_ADDR", "http://10.0.0.1:8200", 1);
  setenv("VAULT_TOKEN", "s.env", 1);
  setenv("VAULT_NAMESPACE", "ns1", 1);
  setenv("VAULT_CACERT", "/ca.pem", 1);
  setenv("VAULT_CAPATH", "/cas", 1);
  setenv("VAULT_CLIENT_CERT", "/c.pem", 1);
  setenv("VAULT_CLIENT_KEY", "/k.pem", 1);
  setenv("VAULT_SKIP_VERIFY", "true", 1);
  setenv("VAULT_CLIENT_TIMEOUT", "1m30s", 1);
  setenv("VAULT_MAX_RETRIES", "5", 1);
  std::string error;
  Config c = Config::FromEnvironment(&error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(c.address, "http://10.0.0.1:8200");
  EXPECT_EQ(c.token, "s.env");
  EXPECT_EQ(c.namespace_, "ns1");
  EXPECT_EQ(c.ca_cert, "/ca.pem");
  EXPECT_EQ(c.ca_path, "/cas");
  EXPECT_EQ(c.client_cert, "/c.pem");
  EXPECT_EQ(c.client_key, "/k.pem");
  EXPECT_TRUE(c.tls_skip_verify);
  EXPECT_EQ(c.timeout, 90s);
  EXPECT_EQ(c.max_retries, 5);
  setenv("VAULT_CLIENT_TIMEOUT", "15", 1);
  EXPECT_EQ(Config::FromEnvironment().timeout, 15s);
}

TEST_F(EnvTest, TokenFileIsTheFallback) {
  std::ofstream(home_ / ".vault-token") << "s.fromfile\n";
  EXPECT_EQ(Config::FromEnvironment().token, "s.fromfile");
  setenv("VAULT_TOKEN", "s.env", 1);
  EXPECT_EQ(Config::FromEnvironment().token, "s.env");
}

TEST_F(EnvTest, MalformedValuesNameTheVariable) {
  std::string error;
  setenv("VAULT_MAX_RETRIES", "abc", 1);
  Config c = Config::FromEnvironment(&error);
  EXPECT_NE(error.find("VAULT_MAX_RETRIES"), std::string::npos) << error;
  EXPECT_EQ(c.max_retries, 2);
  unsetenv("VAULT_MAX_RETRIES");
  setenv("VAULT_CLIENT_TIMEOUT", "soon", 1);
  Config::FromEnvironment(&error);
  EXPECT_NE(error.find("VAULT_CLIENT_TIMEOUT"), std::string::npos) << error;
  unsetenv("VAULT_CLIENT_TIMEOUT");
  setenv("VAULT_SKIP_VERIFY", "maybe", 1);
  Config::FromEnvironment(&error);
  EXPECT_NE(error.find("VAULT_SKIP_VERIFY"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace coffer::client
