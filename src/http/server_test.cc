#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace coffer::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// A handler that records what it receives and answers according to the path.

// Paths under /block are MayBlock (they run on the blocking pool); /block/slow also sleeps.
class TestHandler : public Handler {
 public:
  struct Call {
    std::string path;
    std::string remote_address;
    std::thread::id thread;
  };

  bool MayBlock(const ApiRequest& req) const override { return req.path.rfind("/block", 0) == 0; }

  ApiResponse Handle(const ApiRequest& req) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
      calls_.push_back({req.path, req.remote_address, std::this_thread::get_id()});
    }
    ApiResponse response;
    if (req.path == "/slow" || req.path == "/block/slow") {
      slow_entered_.set_value();
      std::this_thread::sleep_for(slow_duration_);
      response.body = "{\"slow\":\"done\"}";
    } else if (req.path == "/nocontent") {
      response.status = 204;
      response.body = "must-not-be-sent";
    } else if (req.path == "/throw") {
      throw std::runtime_error("handler failure");
    } else if (req.path == "/badstatus") {
      response.status = 42;
    } else if (req.path == "/headers") {
      response.content_type = "text/plain; charset=utf-8";
      response.body = "hello";
      response.headers = {{"X-Custom", "yes"},
                          {"Content-Length", "999"},
                          {"Connection", "close"},
                          {"X-Injected", "a\r\nSet-Cookie: evil=1"},
                          {"Bad Name", "x"}};
    } else {
      response.body = "{\"path\":\"" + req.path + "\"}";
    }
    return response;
  }

  std::vector<ApiRequest> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<Call> Calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  ApiRequest Last() {
    std::lock_guard lock(mu_);
    return requests_.empty() ? ApiRequest() : requests_.back();
  }

  std::future<void> SlowEntered() { return slow_entered_.get_future(); }
  void set_slow_duration(std::chrono::milliseconds d) { slow_duration_ = d; }

 private:
  std::mutex mu_;
  std::vector<ApiRequest> requests_;
  std::vector<Call> calls_;
  std::promise<void> slow_entered_;
  std::chrono::milliseconds slow_duration_{500};
};

// ---------------------------------------------------------------------------------------------
// A minimal blocking HTTP/1.1 client on POSIX sockets (optionally TLS through OpenSSL), with
// its own response parser so the server's framing is checked independently of Beast.

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  bool Has(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return true;
    }
    return false;
  }
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
};

uint16_t PortOf(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~TestClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }

  bool connected() const { return connected_; }

  uint16_t LocalPort() const {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

  // Runs a TLS handshake over the connection; false when it fails.
  bool StartTls(SSL_CTX* ctx) {
    SetTimeout(10s);
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    static const unsigned char kAlpn[] = "\x08http/1.1";
    SSL_set_alpn_protos(ssl_, kAlpn, sizeof(kAlpn) - 1);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    return SSL_connect(ssl_) == 1;
  }
  SSL* ssl() const { return ssl_; }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ssl_ != nullptr ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                                  : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may have closed; the read that follows will tell
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads one response. std::nullopt on timeout, EOF before a full response, or garbage.
  std::optional<Response> Read(bool head_request = false, std::chrono::milliseconds timeout = 10s) {
    SetTimeout(timeout);
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Response response;
    std::string head = pending_.substr(0, header_end);
    pending_.erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      response.headers.emplace_back(
          name, value_start == std::string::npos ? "" : line.substr(value_start));
      pos = end + 2;
    }
    if (response.status < 200 || head_request || response.status == 204 || response.status == 304) {
      return response;
    }
    if (!response.Has("content-length")) return std::nullopt;  // the server always sends it
    size_t length = std::stoul(response.Header("content-length"));
    while (pending_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // True when the server closes the connection within `timeout`; any bytes received meanwhile
  // are appended to *extra.
  bool WaitForClose(std::chrono::milliseconds timeout, std::string* extra = nullptr) {
    auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      SetTimeout(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()) + 1ms);
      char buf[4096];
      ssize_t n = RecvSome(buf, sizeof(buf));
      if (n == 0) return true;
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return true;  // reset counts as closed
      }
      if (extra != nullptr) extra->append(buf, static_cast<size_t>(n));
    }
    return false;
  }

  std::string& pending() { return pending_; }

 private:
  void SetTimeout(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  ssize_t RecvSome(char* buf, size_t size) {
    if (ssl_ != nullptr) {
      errno = 0;
      int n = SSL_read(ssl_, buf, static_cast<int>(size));
      if (n > 0) return n;
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;
      if (err == SSL_ERROR_SYSCALL && errno == 0) return 0;  // EOF without close_notify
      if (errno == 0) errno = ECONNRESET;
      return -1;
    }
    return ::recv(fd_, buf, size, 0);
  }

  bool Fill() {
    char buf[16384];
    ssize_t n = RecvSome(buf, sizeof(buf));
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

std::string Request(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& extra_headers = "") {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n" + body;
  return out;
}

ServerOptions PlainOptions() {
  ServerOptions options;
  ListenerOptions listener;
  listener.address = "127.0.0.1:0";
  options.listeners.push_back(listener);
  options.threads = 2;
  return options;
}

std::unique_ptr<Server> StartServer(ServerOptions options, Handler* handler) {
  auto server = Server::Create(std::move(options), handler);
  EXPECT_TRUE(server.ok()) << server.status().message();
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(*server);
}

class ServerTest : public ::testing::Test {
 protected:
  void StartWith(ServerOptions options) {
    server_ = StartServer(std::move(options), &handler_);
    ASSERT_NE(server_, nullptr);
    port_ = PortOf(server_->BoundAddresses().at(0));
  }
  void SetUp() override {}

  TestHandler handler_;  // declared first: outlives the server
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

// ---------------------------------------------------------------------------------------------

TEST_F(ServerTest, EveryMethodReachesHandlerWithDecodedPathQueryHeadersAndBody) {
  StartWith(PlainOptions());
  TestClient client(port_);
  ASSERT_TRUE(client.connected());
  for (std::string method : {"GET", "POST", "PUT", "DELETE", "LIST", "PATCH"}) {
    std::string body = method == "GET" ? "" : "{\"value\":\"" + method + "\"}";
    client.Send(Request(method, "/v1/secret/my%20app%2Fdb?list=true&x=a+b%21&flag", body,
                        "X-Vault-Token: token-value\r\nX-Mixed-CASE: Keep Value\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << method;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "{\"path\":\"/v1/secret/my app/db\"}");

    ApiRequest seen = handler_.Last();
    EXPECT_EQ(seen.method, method);
    EXPECT_EQ(seen.path, "/v1/secret/my app/db");
    std::vector<std::pair<std::string, std::string>> expected_query = {
        {"list", "true"}, {"x", "a b!"}, {"flag", ""}};
    EXPECT_EQ(seen.query, expected_query);
    EXPECT_EQ(seen.body, body);
    EXPECT_EQ(seen.Header("x-vault-token"), "token-value");
    EXPECT_EQ(seen.Header("x-mixed-case"), "Keep Value");
    EXPECT_EQ(seen.Header("host"), "localhost");
    EXPECT_EQ(seen.Header("absent"), "");
    EXPECT_FALSE(seen.tls);
  }
  EXPECT_EQ(handler_.Requests().size(), 6u);
}

TEST_F(ServerTest, ResponsesCarryVaultHeaders) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("GET", "/v1/sys/health"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("cache-control"), "no-store");
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(response->Header("content-length"), std::to_string(response->body.size()));
  EXPECT_EQ(response->Header("date").size(), 29u) << response->Header("date");
  EXPECT_FALSE(response->Has("connection"));  // HTTP/1.1 keep-alive is the default
}

TEST_F(ServerTest, HandlerHeadersAreAddedButCannotBreakFraming) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("GET", "/headers"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response->Header("content-length"), "5");
  EXPECT_EQ(response->Header("x-custom"), "yes");
  EXPECT_FALSE(response->Has("x-injected"));
  EXPECT_FALSE(response->Has("set-cookie"));
  EXPECT_FALSE(response->Has("connection"));
  // The connection is still usable: the handler's "Connection: close" was not applied.
  client.Send(Request("GET", "/after"));
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "{\"path\":\"/after\"}");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartWith(PlainOptions());
  TestClient client(port_);
  for (int i = 0; i < 200; ++i) {
    client.Send(Request("GET", "/v1/kv/item" + std::to_string(i)));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << i;
    ASSERT_EQ(response->body, "{\"path\":\"/v1/kv/item" + std::to_string(i) + "\"}");
  }
  std::string expected_remote = "127.0.0.1:" + std::to_string(client.LocalPort());
  for (const ApiRequest& req : handler_.Requests()) {
    EXPECT_EQ(req.remote_address, expected_remote);
  }
  EXPECT_EQ(handler_.Requests().size(), 200u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("GET", "/one") + Request("PUT", "/two", "xy") + Request("GET", "/three"));
  for (std::string path : {"/one", "/two", "/three"}) {
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->body, "{\"path\":\"" + path + "\"}");
  }
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("GET", "/bye", "", "Connection: close\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client.WaitForClose(5s));
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveRequested) {
  StartWith(PlainOptions());
  {
    TestClient client(port_);
    client.Send("GET /old HTTP/1.0\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, "{\"path\":\"/old\"}");
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(client.WaitForClose(5s));
  }
  {
    TestClient client(port_);
    for (int i = 0; i < 3; ++i) {
      client.Send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      auto response = client.Read();
      ASSERT_TRUE(response.has_value()) << i;
      EXPECT_EQ(response->Header("connection"), "keep-alive");
    }
  }
}

TEST_F(ServerTest, NoContentResponseHasNoBody) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("DELETE", "/nocontent"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 204);
  EXPECT_FALSE(response->Has("content-length"));
  EXPECT_FALSE(response->Has("content-type"));
  EXPECT_EQ(response->Header("cache-control"), "no-store");
  // A leaked body would sit in front of the next response.
  client.Send(Request("GET", "/next"));
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "{\"path\":\"/next\"}");
}

TEST_F(ServerTest, HeadResponseHasLengthButNoBody) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("HEAD", "/abc"));
  auto response = client.Read(/*head_request=*/true);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("content-length"),
            std::to_string(std::string("{\"path\":\"/abc\"}").size()));
  client.Send(Request("GET", "/next"));
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "{\"path\":\"/next\"}");
}

TEST_F(ServerTest, ChunkedBodyIsDecoded) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(handler_.Last().body, "hello, world");
}

TEST_F(ServerTest, Expect100ContinueGetsInterimResponse) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(
      "PUT /v1/kv/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.Read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  client.Send("abcde");
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(handler_.Last().body, "abcde");
}

TEST_F(ServerTest, BodyAtLimitIsAcceptedAndOverLimitIsRejectedWith413) {
  ServerOptions options = PlainOptions();
  options.max_body_bytes = 1024;
  StartWith(options);
  {
    TestClient client(port_);
    client.Send(Request("PUT", "/fits", std::string(1024, 'a')));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(handler_.Last().body.size(), 1024u);
  }
  {
    // Announced by Content-Length: rejected before the body is read.
    TestClient client(port_);
    client.Send("PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(response->Header("content-type"), "application/json");
    EXPECT_EQ(response->body, "{\"errors\":[\"http: request body too large\"]}");
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(client.WaitForClose(5s));
  }
  {
    // Chunked: found while reading.
    TestClient client(port_);
    std::string chunk(600, 'b');
    client.Send("PUT /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(response->body, "{\"errors\":[\"http: request body too large\"]}");
    EXPECT_TRUE(client.WaitForClose(5s));
  }
  EXPECT_EQ(handler_.Requests().size(), 1u);  // rejected requests never reach the handler
}

TEST_F(ServerTest, LargeBodyArrivesIntactAndConnectionStaysUsable) {
  StartWith(PlainOptions());
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  TestClient client(port_);
  client.Send(Request("PUT", "/v1/kv/big", body));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(handler_.Last().body == body);
  client.Send(Request("GET", "/small"));
  auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(handler_.Last().body, "");
  EXPECT_EQ(next->body, "{\"path\":\"/small\"}");
}

TEST_F(ServerTest, MalformedRequestsGet400AndClose) {
  StartWith(PlainOptions());
  struct Case {
    std::string raw;
    std::string error;
  };
  std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", "malformed HTTP request"},
      {"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n", "malformed HTTP request"},
      {"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "malformed HTTP request"},
      {"GET /v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request path: invalid URL escape"},
      {"GET /v1/a?x=%g HTTP/1.1\r\nHost: x\r\n\r\n", "malformed query string: invalid URL escape"},
      {"GET v1/relative HTTP/1.1\r\nHost: x\r\n\r\n",
       "malformed request target: must start with '/'"},
  };
  cases.push_back({"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "unsupported HTTP version"});
  cases.push_back({"GET / HTTP/0.9\r\nHost: x\r\n\r\n", "unsupported HTTP version"});
  for (const Case& c : cases) {
    TestClient client(port_);
    client.Send(c.raw);
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << c.raw;
    EXPECT_EQ(response->status, 400) << c.raw;  // a client mistake is a 4xx, even a bad version
    EXPECT_EQ(response->Header("content-type"), "application/json");
    EXPECT_EQ(response->body, "{\"errors\":[\"" + c.error + "\"]}") << c.raw;
    EXPECT_TRUE(client.WaitForClose(5s)) << c.raw;
  }
  EXPECT_TRUE(handler_.Requests().empty());
}

TEST_F(ServerTest, OversizeHeaderGets431) {
  ServerOptions options = PlainOptions();
  options.max_header_bytes = 1024;
  StartWith(options);
  TestClient client(port_);
  client.Send(Request("GET", "/", "", "X-Large: " + std::string(2000, 'h') + "\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, "{\"errors\":[\"http: request header too large\"]}");
  EXPECT_TRUE(client.WaitForClose(5s));
}

TEST_F(ServerTest, HandlerFailuresBecome500WithoutKillingTheServer) {
  StartWith(PlainOptions());
  for (std::string path : {"/throw", "/badstatus"}) {
    TestClient client(port_);
    client.Send(Request("GET", path));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->status, 500);
    EXPECT_EQ(response->body.rfind("{\"errors\":[\"internal error", 0), 0u) << response->body;
  }
  TestClient client(port_);
  client.Send(Request("GET", "/alive"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerTest, HeaderTimeoutClosesSlowClient) {
  ServerOptions options = PlainOptions();
  options.header_timeout = 1s;
  StartWith(options);
  TestClient client(port_);
  auto start = Clock::now();
  client.Send("GET / HTTP/1.1\r\nHo");
  EXPECT_TRUE(client.WaitForClose(5s));
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 4s);
}

TEST_F(ServerTest, RequestTimeoutClosesClientThatStallsInTheBody) {
  ServerOptions options = PlainOptions();
  options.request_timeout = 1s;
  StartWith(options);
  TestClient client(port_);
  auto start = Clock::now();
  client.Send("PUT /v1/kv/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial");
  EXPECT_TRUE(client.WaitForClose(5s));
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 4s);
  EXPECT_TRUE(handler_.Requests().empty());
}

TEST_F(ServerTest, IdleKeepAliveConnectionTimesOut) {
  ServerOptions options = PlainOptions();
  options.idle_timeout = 1s;
  options.header_timeout = 30s;
  StartWith(options);
  TestClient client(port_);
  client.Send(Request("GET", "/"));
  ASSERT_TRUE(client.Read().has_value());
  auto start = Clock::now();
  EXPECT_TRUE(client.WaitForClose(5s));
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 4s);
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestFinish) {
  StartWith(PlainOptions());
  handler_.set_slow_duration(700ms);
  auto entered = handler_.SlowEntered();
  TestClient client(port_);
  client.Send(Request("POST", "/slow", "payload"));
  ASSERT_EQ(entered.wait_for(10s), std::future_status::ready);

  auto start = Clock::now();
  std::thread stopper([&] { server_->Shutdown(10s); });
  auto response = client.Read();
  stopper.join();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"slow\":\"done\"}");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_LT(Clock::now() - start, 5s);
  // No longer accepting.
  TestClient late(port_);
  EXPECT_FALSE(late.connected());
}

TEST_F(ServerTest, ShutdownClosesIdleKeepAliveConnectionsPromptly) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("GET", "/"));
  ASSERT_TRUE(client.Read().has_value());
  auto start = Clock::now();
  server_->Shutdown(30s);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_TRUE(client.WaitForClose(2s));
}

TEST_F(ServerTest, ShutdownDeadlineBoundsASlowClient) {
  ServerOptions options = PlainOptions();
  options.header_timeout = 60s;
  options.request_timeout = 60s;
  StartWith(options);
  TestClient client(port_);
  client.Send("PUT /v1/kv/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial");
  std::this_thread::sleep_for(100ms);  // let the server start reading the body
  auto start = Clock::now();
  server_->Shutdown(1s);
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 4s);
  EXPECT_TRUE(client.WaitForClose(2s));
  EXPECT_TRUE(handler_.Requests().empty());
}

TEST_F(ServerTest, ShutdownLetsInFlightBlockingRequestFinish) {
  StartWith(PlainOptions());
  handler_.set_slow_duration(700ms);
  auto entered = handler_.SlowEntered();
  TestClient client(port_);
  client.Send(Request("POST", "/block/slow", "payload"));
  ASSERT_EQ(entered.wait_for(10s), std::future_status::ready);

  std::thread stopper([&] { server_->Shutdown(10s); });
  auto response = client.Read();
  stopper.join();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"slow\":\"done\"}");
  EXPECT_EQ(response->Header("connection"), "close");
}

// A handler that may block runs on the blocking pool, so the io thread keeps serving other
// connections meanwhile.
TEST_F(ServerTest, BlockingHandlerDoesNotHoldUpTheIoThread) {
  ServerOptions options = PlainOptions();
  options.threads = 1;
  StartWith(options);
  handler_.set_slow_duration(1500ms);
  auto entered = handler_.SlowEntered();
  TestClient slow(port_);
  slow.Send(Request("PUT", "/block/slow", "x"));
  ASSERT_EQ(entered.wait_for(10s), std::future_status::ready);

  TestClient fast(port_);
  auto start = Clock::now();
  fast.Send(Request("GET", "/fast"));
  auto fast_response = fast.Read();
  ASSERT_TRUE(fast_response.has_value());
  EXPECT_EQ(fast_response->body, "{\"path\":\"/fast\"}");
  EXPECT_LT(Clock::now() - start, 1s);

  auto slow_response = slow.Read();
  ASSERT_TRUE(slow_response.has_value());
  EXPECT_EQ(slow_response->body, "{\"slow\":\"done\"}");
  // The connection is still usable after its request came back from the pool.
  slow.Send(Request("GET", "/again"));
  auto again = slow.Read();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body, "{\"path\":\"/again\"}");

  std::thread::id io_thread;
  for (const auto& call : handler_.Calls()) {
    if (call.path == "/fast") io_thread = call.thread;
  }
  for (const auto& call : handler_.Calls()) {
    if (call.path == "/block/slow") {
      EXPECT_NE(call.thread, io_thread);
    } else {
      EXPECT_EQ(call.thread, io_thread) << call.path;
    }
  }
}

// Connections are dealt to the io threads in turn and each stays on its thread, also after a
// request that went through the blocking pool.
TEST_F(ServerTest, EachConnectionStaysOnOneIoThread) {
  ServerOptions options = PlainOptions();
  options.threads = 2;
  StartWith(options);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<TestClient>(port_));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (int round = 0; round < 5; ++round) {
    for (auto& client : clients) {
      client->Send(Request(round == 2 ? "POST" : "GET", round == 2 ? "/block/x" : "/x", "y"));
      ASSERT_TRUE(client->Read().has_value());
    }
  }
  std::map<std::string, std::set<std::thread::id>> threads_by_connection;
  std::set<std::thread::id> io_threads;
  for (const auto& call : handler_.Calls()) {
    if (call.path == "/block/x") continue;
    threads_by_connection[call.remote_address].insert(call.thread);
    io_threads.insert(call.thread);
  }
  ASSERT_EQ(threads_by_connection.size(), 4u);
  for (const auto& [remote, threads] : threads_by_connection) {
    EXPECT_EQ(threads.size(), 1u) << remote;
  }
  EXPECT_EQ(io_threads.size(), 2u);
}

// A plain connection whose requests may block is served by one pool thread while it keeps
// sending them (the thread writes each response and waits briefly for the next request), and
// goes back to its io thread otherwise. Whatever the mix and timing, every request gets its own
// response, in order.
TEST_F(ServerTest, BusyBlockingConnectionGetsEveryResponseInOrder) {
  StartWith(PlainOptions());
  TestClient client(port_);
  for (int i = 0; i < 300; ++i) {
    bool blocking = i % 7 != 3;
    std::string path = (blocking ? "/block/" : "/plain/") + std::to_string(i);
    if (i % 50 == 49) std::this_thread::sleep_for(15ms);  // idle past the pool thread's wait
    client.Send(Request(blocking ? "POST" : "GET", path, blocking ? "body-" + std::to_string(i) : ""));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << i;
    ASSERT_EQ(response->status, 200) << i;
    ASSERT_EQ(response->body, "{\"path\":\"" + path + "\"}") << i;
  }
  std::thread::id io_thread;
  for (const auto& call : handler_.Calls()) {
    if (call.path.rfind("/plain/", 0) == 0) io_thread = call.thread;
  }
  for (const auto& call : handler_.Calls()) {
    if (call.path.rfind("/plain/", 0) == 0) {
      EXPECT_EQ(call.thread, io_thread) << call.path;  // requests that do not block stay on the io thread
    } else {
      EXPECT_NE(call.thread, io_thread) << call.path;
    }
  }
  ASSERT_EQ(handler_.Requests().size(), 300u);
  EXPECT_EQ(handler_.Requests()[298].body, "body-298");
}

TEST_F(ServerTest, PipelinedBlockingRequestsAreAnsweredInOrder) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("POST", "/block/a", "1") + Request("PUT", "/block/b", "2") + Request("GET", "/c") +
              Request("DELETE", "/block/d"));
  for (std::string path : {"/block/a", "/block/b", "/c", "/block/d"}) {
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->body, "{\"path\":\"" + path + "\"}");
  }
}

// The next request arrives in pieces, slower than the pool thread waits: the io thread reads
// the rest, and the request is answered normally.
TEST_F(ServerTest, SplitRequestAfterABlockingOneIsReassembled) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("POST", "/block/first", "x"));
  ASSERT_TRUE(client.Read().has_value());
  std::string second = Request("POST", "/block/second", "0123456789");
  client.Send(second.substr(0, 20));
  std::this_thread::sleep_for(1ms);
  client.Send(second.substr(20, second.size() - 24));
  std::this_thread::sleep_for(20ms);
  client.Send(second.substr(second.size() - 4));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "{\"path\":\"/block/second\"}");
  EXPECT_EQ(handler_.Last().body, "0123456789");
  // A malformed request right after a blocking one still gets the usual 400 and close.
  client.Send(Request("POST", "/block/third", "y"));
  ASSERT_TRUE(client.Read().has_value());
  client.Send("POST /block/x HTTP/1.1\r\nHost: a\r\nContent-Length: zz\r\n\r\n");
  auto bad = client.Read();
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(client.WaitForClose(5s));
}

// Connections that keep sending blocking requests share a small pool fairly: a pool thread
// stops waiting on its connection as soon as another request waits for a thread.
TEST_F(ServerTest, BusyBlockingConnectionsDoNotStarveEachOther) {
  ServerOptions options = PlainOptions();
  options.blocking_threads = 2;
  StartWith(options);
  constexpr int kClients = 5;
  std::atomic<bool> stop{false};
  std::vector<int> served(kClients, 0);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      TestClient client(port_);
      while (!stop.load()) {
        client.Send(Request("POST", "/block/c" + std::to_string(c), "x"));
        auto response = client.Read(false, 5s);
        if (!response.has_value()) return;
        ++served[c];
      }
    });
  }
  std::this_thread::sleep_for(600ms);
  stop = true;
  for (auto& t : threads) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_GT(served[c], 5) << "client " << c;
}

// Shutdown while a pool thread is waiting on a connection for its next request: the connection
// closes promptly, without a request.
TEST_F(ServerTest, ShutdownClosesAConnectionHeldByAPoolThread) {
  StartWith(PlainOptions());
  TestClient client(port_);
  client.Send(Request("POST", "/block/x", "y"));
  ASSERT_TRUE(client.Read().has_value());
  auto start = Clock::now();
  server_->Shutdown(10s);
  EXPECT_TRUE(client.WaitForClose(2s));
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(ServerLifecycleTest, PortZeroIsResolvedAndReported) {
  TestHandler handler;
  ServerOptions options = PlainOptions();
  ListenerOptions second;
  second.address = "127.0.0.1:0";
  options.listeners.push_back(second);
  auto server = StartServer(options, &handler);
  ASSERT_NE(server, nullptr);
  auto addresses = server->BoundAddresses();
  ASSERT_EQ(addresses.size(), 2u);
  for (const std::string& address : addresses) {
    EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
    EXPECT_NE(PortOf(address), 0);
    TestClient client(PortOf(address));
    client.Send(Request("GET", "/x"));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_NE(addresses[0], addresses[1]);
}

TEST(ServerLifecycleTest, AddressInUseIsAnError) {
  TestHandler handler;
  auto first = StartServer(PlainOptions(), &handler);
  ASSERT_NE(first, nullptr);
  ServerOptions options = PlainOptions();
  options.listeners[0].address = first->BoundAddresses()[0];
  auto second = Server::Create(options, &handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(first->BoundAddresses()[0]), std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
}

TEST(ServerLifecycleTest, InvalidOptionsAreClearErrors) {
  TestHandler handler;
  struct Case {
    std::string address;
    bool tls;
    std::string cert, key, min_version;
    std::string expect_in_message;
  };
  std::vector<Case> cases = {
      {"nonsense", false, "", "", "tls12", "expected host:port"},
      {"127.0.0.1:99999", false, "", "", "tls12", "port must be a number"},
      {"::1:8200", false, "", "", "tls12", "brackets"},
      {"127.0.0.1:0", true, "/nonexistent/cert.pem", "/nonexistent/key.pem", "tls12",
       "/nonexistent/cert.pem"},
      {"127.0.0.1:0", true, "", "", "tls12", "cert_file"},
      {"127.0.0.1:0", true, "/nonexistent/cert.pem", "/nonexistent/key.pem", "tls14",
       "tls_min_version \"tls14\""},
  };
  for (const Case& c : cases) {
    ServerOptions options;
    ListenerOptions listener;
    listener.address = c.address;
    listener.tls = c.tls;
    listener.cert_file = c.cert;
    listener.key_file = c.key;
    listener.tls_min_version = c.min_version;
    options.listeners.push_back(listener);
    auto server = Server::Create(options, &handler);
    ASSERT_FALSE(server.ok()) << c.address;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument) << c.address;
    EXPECT_NE(server.status().message().find(c.expect_in_message), std::string::npos)
        << server.status().message();
  }
  ServerOptions none;
  EXPECT_FALSE(Server::Create(none, &handler).ok());
}

TEST(ServerLifecycleTest, ShutdownWithoutStartAndRepeatedShutdownAreSafe) {
  TestHandler handler;
  auto server = Server::Create(PlainOptions(), &handler);
  ASSERT_TRUE(server.ok());
  uint16_t port = PortOf((*server)->BoundAddresses()[0]);
  (*server)->Shutdown(1s);
  (*server)->Shutdown(1s);
  (*server)->Start();  // after Shutdown: does nothing
  TestClient client(port);
  EXPECT_FALSE(client.connected());
}

// ---------------------------------------------------------------------------------------------
// TLS

struct TempDir {
  TempDir() {
    char templ[] = "/tmp/coffer-http-test-XXXXXX";
    path = ::mkdtemp(templ);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// Writes a self-signed P-256 certificate for "localhost" and its key as PEM files.
void WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                            const_cast<char*>("DNS:localhost,IP:127.0.0.1"));
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  std::FILE* f = std::fopen(cert_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtx = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A client context that trusts exactly the test certificate.
SslCtx ClientContext(const std::string& cert_path, int min_version, int max_version) {
  SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_load_verify_locations(ctx.get(), cert_path.c_str(), nullptr);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  if (min_version < TLS1_2_VERSION) {
    // Let this client really offer old versions, so a refusal comes from the server.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  return ctx;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.path + "/cert.pem";
    key_ = dir_.path + "/key.pem";
    WriteSelfSignedCert(cert_, key_);
  }

  void StartTls(const std::string& min_version) {
    ServerOptions options;
    ListenerOptions tls;
    tls.address = "127.0.0.1:0";
    tls.tls = true;
    tls.cert_file = cert_;
    tls.key_file = key_;
    tls.tls_min_version = min_version;
    options.listeners.push_back(tls);
    ListenerOptions plain;
    plain.address = "127.0.0.1:0";
    options.listeners.push_back(plain);
    options.threads = 2;
    server_ = StartServer(options, &handler_);
    ASSERT_NE(server_, nullptr);
    tls_port_ = PortOf(server_->BoundAddresses()[0]);
    plain_port_ = PortOf(server_->BoundAddresses()[1]);
  }

  TempDir dir_;
  std::string cert_, key_;
  TestHandler handler_;
  std::unique_ptr<Server> server_;
  uint16_t tls_port_ = 0, plain_port_ = 0;
};

TEST_F(TlsServerTest, ServesRequestsOverTlsWithAlpn) {
  StartTls("tls12");
  SslCtx ctx = ClientContext(cert_, TLS1_2_VERSION, 0);
  TestClient client(tls_port_);
  ASSERT_TRUE(client.StartTls(ctx.get()));
  EXPECT_GE(SSL_version(client.ssl()), TLS1_2_VERSION);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(client.ssl(), &alpn, &alpn_length);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_length), "http/1.1");
  for (int i = 0; i < 3; ++i) {
    client.Send(Request("PUT", "/v1/secret/tls", "{\"a\":1}"));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "{\"path\":\"/v1/secret/tls\"}");
  }
  ApiRequest seen = handler_.Last();
  EXPECT_TRUE(seen.tls);
  EXPECT_EQ(seen.body, "{\"a\":1}");
  // The plaintext listener of the same server is not TLS.
  TestClient plain(plain_port_);
  plain.Send(Request("GET", "/plain"));
  ASSERT_TRUE(plain.Read().has_value());
  EXPECT_FALSE(handler_.Last().tls);
}

TEST_F(TlsServerTest, RefusesTls11WhenMinimumIsTls12) {
  StartTls("tls12");
  SslCtx old_client = ClientContext(cert_, TLS1_1_VERSION, TLS1_1_VERSION);
  TestClient client(tls_port_);
  EXPECT_FALSE(client.StartTls(old_client.get()));
  // The server keeps serving.
  SslCtx ctx = ClientContext(cert_, TLS1_2_VERSION, 0);
  TestClient good(tls_port_);
  ASSERT_TRUE(good.StartTls(ctx.get()));
  good.Send(Request("GET", "/ok"));
  EXPECT_TRUE(good.Read().has_value());
}

TEST_F(TlsServerTest, MinimumVersionSettingIsEnforced) {
  StartTls("tls13");
  SslCtx tls12_only = ClientContext(cert_, TLS1_2_VERSION, TLS1_2_VERSION);
  TestClient refused(tls_port_);
  EXPECT_FALSE(refused.StartTls(tls12_only.get()));
  SslCtx any = ClientContext(cert_, TLS1_2_VERSION, 0);
  TestClient accepted(tls_port_);
  ASSERT_TRUE(accepted.StartTls(any.get()));
  EXPECT_EQ(SSL_version(accepted.ssl()), TLS1_3_VERSION);
}

TEST_F(TlsServerTest, PlaintextRequestOnTlsPortGets400) {
  StartTls("tls12");
  TestClient client(tls_port_);
  client.Send(Request("GET", "/v1/sys/health"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->body, "{\"errors\":[\"client sent an HTTP request to an HTTPS server\"]}");
  EXPECT_TRUE(client.WaitForClose(5s));
  SslCtx ctx = ClientContext(cert_, TLS1_2_VERSION, 0);
  TestClient good(tls_port_);
  ASSERT_TRUE(good.StartTls(ctx.get()));
  good.Send(Request("GET", "/ok"));
  EXPECT_TRUE(good.Read().has_value());
  EXPECT_EQ(handler_.Requests().size(), 1u);
}

TEST_F(TlsServerTest, HandshakeTimesOut) {
  ServerOptions options;
  ListenerOptions tls;
  tls.address = "127.0.0.1:0";
  tls.tls = true;
  tls.cert_file = cert_;
  tls.key_file = key_;
  options.listeners.push_back(tls);
  options.header_timeout = 1s;
  server_ = StartServer(options, &handler_);
  ASSERT_NE(server_, nullptr);
  TestClient client(PortOf(server_->BoundAddresses()[0]));
  client.Send(std::string("\x16\x03\x01", 3));  // the start of a ClientHello, then silence
  auto start = Clock::now();
  EXPECT_TRUE(client.WaitForClose(5s));
  EXPECT_LT(Clock::now() - start, 4s);
}

TEST_F(TlsServerTest, CertificateProblemsAreClearErrors) {
  std::string other_cert = dir_.path + "/other-cert.pem";
  std::string other_key = dir_.path + "/other-key.pem";
  WriteSelfSignedCert(other_cert, other_key);
  std::string garbage = dir_.path + "/garbage.pem";
  {
    std::FILE* f = std::fopen(garbage.c_str(), "w");
    std::fputs("not a certificate\n", f);
    std::fclose(f);
  }
  struct Case {
    std::string cert, key, expect_in_message;
  };
  std::vector<Case> cases = {
      {cert_, other_key, "does not match"},
      {garbage, key_, garbage},
      {cert_, garbage, garbage},
      {cert_, dir_.path + "/missing.pem", "missing.pem"},
  };
  for (const Case& c : cases) {
    ServerOptions options;
    ListenerOptions tls;
    tls.address = "127.0.0.1:0";
    tls.tls = true;
    tls.cert_file = c.cert;
    tls.key_file = c.key;
    options.listeners.push_back(tls);
    auto server = Server::Create(options, &handler_);
    ASSERT_FALSE(server.ok()) << c.expect_in_message;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(server.status().message().find(c.expect_in_message), std::string::npos)
        << server.status().message();
    EXPECT_EQ(server.status().message().find("PRIVATE KEY"), std::string::npos);
  }
}

}  // namespace
}  // namespace coffer::http
