// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>; with g++ 12
// in C++20 mode it must be included before any Asio header.
#include "http/server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "http/target.h"

namespace coffer::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;
// Everything runs on concrete io_context executors: a connection never leaves its io thread,
// so the type-erased any_io_executor would only add an indirection to every operation.
using IoExecutor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, IoExecutor>;
using Acceptor = asio::basic_socket_acceptor<tcp, IoExecutor>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, IoExecutor>;
using TlsStream = beast::ssl_stream<Socket>;
template <class T>
using Task = asio::awaitable<T, IoExecutor>;
constexpr asio::use_awaitable_t<IoExecutor> kUseAwaitable;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kBodyReadChunk = 64 * 1024;
// Buffers that grew past this for one large request are released before the next one.
constexpr size_t kKeepBufferBytes = 256 * 1024;
// After a response that closes the connection: how long to wait for the peer's TLS
// close_notify or FIN, and how much unread input to discard meanwhile (so the kernel does
// not answer unread data with a reset that destroys the response in flight).
constexpr std::chrono::seconds kCloseGrace{2};
constexpr size_t kLingerMaxBytes = 1 << 20;
// A plain-TCP connection whose request went to the blocking pool stays with that pool thread
// while it keeps sending requests that may block: the thread writes the response itself and
// waits this long for the next request before handing the connection back to its io thread.
// Each hand-off between threads is a wake-up that costs more CPU than a durable write's own
// work (perf on bench/durable_write.sh), and a busy writer sends its next request well within
// this time.
// It lingers only while no other request waits for a pool thread, so busy connections cannot
// keep the pool to themselves.
constexpr std::chrono::microseconds kPoolLinger{5000};

constexpr std::string_view kBodyTooLarge = "http: request body too large";
constexpr std::string_view kHeaderTooLarge = "http: request header too large";
constexpr std::string_view kMalformed = "malformed HTTP request";
constexpr std::string_view kBadVersion = "unsupported HTTP version";

auto Await(ErrorCode& ec) { return asio::redirect_error(kUseAwaitable, ec); }

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const asio::ip::address addr = ep.address();
  std::string out;
  if (addr.is_v6()) {
    out = "[" + addr.to_string() + "]";
  } else {
    out = addr.to_string();
  }
  out += ':';
  out += std::to_string(ep.port());
  return out;
}

void AppendInt(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

ApiResponse ErrorResponse(int status, std::string_view message) {
  ApiResponse response;
  response.status = status;
  response.body = "{\"errors\":[";
  AppendJsonString(response.body, message);
  response.body += "]}";
  return response;
}

// RFC 9110 IMF-fixdate for the Date header, formatted at most once per second per thread.
std::string_view HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached_second = -1;
  thread_local char text[64];
  thread_local int length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                           kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12],
                           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = now;
  }
  return std::string_view(text, static_cast<size_t>(length));
}

bool EqualsNoCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool IsTokenChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsValidHeaderValue(std::string_view value) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// Headers whose framing or policy the transport owns; a handler cannot set them.
bool IsTransportOwnedHeader(std::string_view name) {
  for (std::string_view owned : {"content-length", "transfer-encoding", "connection", "keep-alive",
                                 "cache-control", "date", "content-type"}) {
    if (EqualsNoCase(name, owned)) return true;
  }
  return false;
}

std::string_view ReasonPhrase(int status) {
  bhttp::status s = bhttp::int_to_status(static_cast<unsigned>(status));
  if (s == bhttp::status::unknown) return "Unknown";
  beast::string_view reason = bhttp::obsolete_reason(s);
  return std::string_view(reason.data(), reason.size());
}

// Writes the status line and headers of `response` into *out (replacing its contents).
void SerializeHead(const ApiResponse& response, bool keep_alive, int request_version,
                   std::string* out) {
  out->clear();
  *out += "HTTP/1.1 ";
  AppendInt(*out, static_cast<uint64_t>(response.status));
  *out += ' ';
  *out += ReasonPhrase(response.status);
  *out += "\r\nCache-Control: no-store\r\n";
  if (response.status != 204 && response.status != 304) {
    if (!response.content_type.empty() && IsValidHeaderValue(response.content_type)) {
      *out += "Content-Type: ";
      *out += response.content_type;
      *out += "\r\n";
    }
    *out += "Content-Length: ";
    AppendInt(*out, response.body.size());
    *out += "\r\n";
  }
  *out += "Date: ";
  *out += HttpDate();
  *out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) continue;
    if (IsTransportOwnedHeader(name)) continue;
    *out += name;
    *out += ": ";
    *out += value;
    *out += "\r\n";
  }
  if (!keep_alive) {
    *out += "Connection: close\r\n";
  } else if (request_version == 10) {
    *out += "Connection: keep-alive\r\n";
  }
  *out += "\r\n";
}

// Parses one request straight into an ApiRequest (no intermediate header container). Header
// slots of the previous request on the connection are reused so steady-state keep-alive
// traffic does not allocate for headers.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  RequestParser(ApiRequest* request, std::string* target) : request_(request), target_(target) {}

  int version() const { return version_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, ErrorCode&) override {
    request_->method.assign(method.data(), method.size());
    target_->assign(target.data(), target.size());
    version_ = version;
  }

  void on_response_impl(int, beast::string_view, int, ErrorCode&) override {}

  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     ErrorCode&) override {
    auto& headers = request_->headers;
    if (count_ == headers.size()) headers.emplace_back();
    auto& [lower_name, header_value] = headers[count_++];
    lower_name.resize(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      lower_name[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    header_value.assign(value.data(), value.size());
  }

  void on_header_impl(ErrorCode&) override { request_->headers.resize(count_); }

  void on_body_init_impl(const boost::optional<uint64_t>& length, ErrorCode&) override {
    // The parser already rejected lengths over the body limit; still cap the up-front
    // reservation so a header alone cannot make us allocate the whole limit.
    if (length) request_->body.reserve(std::min<uint64_t>(*length, 1 << 20));
  }

  size_t on_body_impl(beast::string_view data, ErrorCode&) override {
    request_->body.append(data.data(), data.size());
    return data.size();
  }

  void on_chunk_header_impl(uint64_t, beast::string_view, ErrorCode&) override {}

  size_t on_chunk_body_impl(uint64_t, beast::string_view data, ErrorCode&) override {
    request_->body.append(data.data(), data.size());
    return data.size();
  }

  void on_finish_impl(ErrorCode&) override {}

  ApiRequest* request_;
  std::string* target_;
  size_t count_ = 0;
  int version_ = 11;
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Both are thread-safe: they post to the session's io thread.
  virtual void PostBeginShutdown() = 0;  // close now if idle, else after the current response
  virtual void PostForceClose() = 0;     // close now
};

// One io thread and the io_context only it runs. A connection lives on one IoThread from
// accept to close, so its handlers never hop threads and need no strand; concurrency hint 1
// lets Asio skip waking other threads. Posting to it from another thread (the blocking pool,
// Shutdown, the acceptor) stays safe: the hint does not turn Asio's locking off.
struct IoThread {
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
};

struct Listener {
  ListenerOptions options;
  ssl::context* tls = nullptr;  // owned by ServerState::tls_contexts_
  IoThread* home = nullptr;     // runs the accept loop
  std::optional<Acceptor> acceptor;
  size_t next_thread = 0;  // round-robin cursor; touched only by the accept loop
  std::string bound;
};

class ServerState {
 public:
  ServerState(ServerOptions options, Handler* handler)
      : options_(std::move(options)),
        handler_(handler),
        thread_count_(options_.threads > 0
                          ? options_.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
        blocking_pool_(static_cast<size_t>(std::max(1, options_.blocking_threads))) {
    for (int i = 0; i < thread_count_; ++i) io_threads_.push_back(std::make_unique<IoThread>());
  }

  ~ServerState() { Shutdown(std::chrono::seconds(30)); }

  const ServerOptions& options() const { return options_; }
  Handler* handler() const { return handler_; }
  // Runs `job` on the blocking pool, counting it from posting until it finishes.
  template <class Job>
  void PostBlocking(Job job) {
    pool_jobs_.fetch_add(1, std::memory_order_relaxed);
    asio::post(blocking_pool_, [this, job = std::move(job)]() mutable {
      job();
      pool_jobs_.fetch_sub(1, std::memory_order_relaxed);
    });
  }
  // More jobs posted and unfinished than the pool has threads: one of them waits for a thread.
  bool PoolHasWaitingJobs() const {
    return pool_jobs_.load(std::memory_order_relaxed) > std::max(1, options_.blocking_threads);
  }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  Status Bind();
  std::vector<std::string> BoundAddresses() const;
  void Start();
  void Shutdown(std::chrono::seconds deadline);

  void Unregister(SessionBase* session) {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
    if (sessions_.empty()) cv_.notify_all();
  }

 private:
  enum class State { kCreated, kRunning, kStopped };

  Task<void> AcceptLoop(Listener* listener);
  void StartSession(Listener* listener, Socket socket);
  bool Register(const std::shared_ptr<SessionBase>& session);
  std::vector<std::shared_ptr<SessionBase>> SessionSnapshot();
  bool WaitForSessions(Clock::time_point until);
  static void RunIoThread(asio::io_context& ioc);

  const ServerOptions options_;
  Handler* const handler_;
  const int thread_count_;
  std::atomic<bool> stopping_{false};

  std::mutex control_mu_;  // serializes Start and Shutdown
  State state_ = State::kCreated;

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;

  // Declaration order is destruction order in reverse: acceptors and pending handlers (which
  // own the sessions and their TLS streams) go before the io_contexts, the io_contexts before
  // the TLS contexts and the session registry they may still touch.
  std::vector<std::unique_ptr<ssl::context>> tls_contexts_;
  std::vector<std::unique_ptr<IoThread>> io_threads_;  // thread_count_ of them
  std::vector<std::unique_ptr<Listener>> listeners_;
  // Runs handlers that may block (durable writes waiting for a group commit), so they do not
  // occupy the io threads and many of them can share one commit. Destroyed before the
  // io_contexts.
  asio::thread_pool blocking_pool_;
  std::atomic<int> pool_jobs_{0};
};

// One connection. Stream is Socket or TlsStream. All members are touched only on the
// connection's io thread: the coroutine, the watchdog timer and posted shutdown requests;
// except that while ServeOnPool lends a plain connection to a pool thread, that thread alone
// uses the socket and the request state (buffer_, request_, parser_, target_, head_).
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(ServerState* server, Stream stream, std::string remote_address)
      : server_(server),
        stream_(std::move(stream)),
        executor_(RawSocket().get_executor()),
        timer_(executor_) {
    request_.remote_address = std::move(remote_address);
    request_.tls = kTls;
    const ServerOptions& options = server_->options();
    max_arm_ = std::min({options.header_timeout, options.idle_timeout, options.request_timeout});
  }

  static Task<void> Run(std::shared_ptr<Session> self) {
    try {
      co_await self->Serve();
    } catch (const std::exception& e) {
      spdlog::warn("http: connection from {} aborted: {}", self->request_.remote_address, e.what());
    } catch (...) {
      spdlog::warn("http: connection from {} aborted", self->request_.remote_address);
    }
    self->Finish();
  }

  void PostBeginShutdown() override {
    asio::post(executor_, [self = this->shared_from_this()] {
      self->shutting_down_ = true;
      if (self->phase_ != Phase::kActive) self->CloseSocket();
    });
  }

  void PostForceClose() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->CloseSocket(); });
  }

 private:
  enum class Phase { kIdle, kActive, kClosing };
  enum class ReadOutcome { kRequest, kGone, kRejected };

  Socket& RawSocket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void CloseSocket() {
    ErrorCode ec;
    if (on_pool_) {
      // A pool thread is using the descriptor: shutting the socket down makes its waits and
      // reads end at once, while the descriptor stays open (and its number unused by any new
      // connection) until the thread hands the connection back.
      ::shutdown(pool_fd_, SHUT_RDWR);
      return;
    }
    RawSocket().close(ec);
  }

  void Finish() {
    done_ = true;
    timer_.cancel();
    CloseSocket();
    server_->Unregister(this);
  }

  // Watchdog. deadline_ is the moment the connection must be closed; moving it later costs
  // nothing (the timer, armed at most max_arm_ ahead, re-arms itself when it fires early).
  void ArmTimer(Clock::time_point at) {
    armed_ = at;
    timer_.expires_at(at);
    timer_.async_wait([self = this->shared_from_this()](const ErrorCode&) { self->OnTimer(); });
  }

  void OnTimer() {
    if (done_) return;
    Clock::time_point now = Clock::now();
    if (now >= deadline_) {
      CloseSocket();  // pending reads and writes fail; the coroutine ends the connection
      return;
    }
    ArmTimer(std::min(deadline_, now + max_arm_));
  }

  void SetDeadline(Clock::time_point deadline) {
    deadline_ = deadline;
    if (deadline < armed_ && !done_) {
      armed_ = deadline;
      timer_.expires_at(deadline);  // cancels the pending wait; OnTimer re-arms
    }
  }

  Task<void> Serve() {
    const ServerOptions& options = server_->options();
    deadline_ = Clock::now() + options.header_timeout;
    ArmTimer(std::min(deadline_, Clock::now() + max_arm_));
    if constexpr (kTls) {
      if (!co_await Handshake()) co_return;
    }
    bool first = true;
    for (;;) {
      if (buffer_.size() == 0) {
        // Between requests: wait for the first byte of the next one.
        if (shutting_down_ || server_->stopping()) co_return;
        phase_ = Phase::kIdle;
        SetDeadline(Clock::now() + (first ? options.header_timeout : options.idle_timeout));
        ErrorCode ec;
        size_t n = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), Await(ec));
        if (ec) co_return;
        buffer_.commit(n);
      }
      phase_ = Phase::kActive;
      first = false;
      SetDeadline(Clock::now() + options.header_timeout);

      ReadOutcome outcome = co_await ReadRequest();
      if (outcome == ReadOutcome::kGone) co_return;
      if (outcome == ReadOutcome::kRejected) {
        ApiResponse response = ErrorResponse(reject_status_, reject_message_);
        SetDeadline(Clock::now() + options.request_timeout);
        if (co_await WriteResponse(response, /*keep_alive=*/false, /*head=*/false)) {
          co_await CloseAfterResponse();
        }
        co_return;
      }

      // (Not a ?: expression: g++ 12 miscompiles co_await inside a conditional operator. An
      // optional, not a default-constructed ApiResponse, to build the response only once.)
      std::optional<ApiResponse> response;
      if (server_->handler()->MayBlock(request_)) {
        if constexpr (kTls) {
          response.emplace(co_await CallHandlerOnPool());
        } else {
          ApiResponse pooled;
          PoolOutcome pool_outcome = co_await ServeOnPool(&pooled);
          if (pool_outcome == PoolOutcome::kGone) co_return;
          if (pool_outcome == PoolOutcome::kNext) continue;
          response.emplace(std::move(pooled));
        }
      } else {
        response.emplace(CallHandler());
      }
      // Checked after the handler so a response finished during Shutdown announces the close.
      bool keep_alive = parser_->keep_alive() && !shutting_down_ && !server_->stopping();
      bool head = request_.method == "HEAD";
      SetDeadline(Clock::now() + options.request_timeout);
      if (!co_await WriteResponse(*response, keep_alive, head)) co_return;
      if (!keep_alive || shutting_down_) {
        co_await CloseAfterResponse();
        co_return;
      }
      ReleaseLargeBuffers();
    }
  }

  // TLS only: reads the first bytes, answers a plaintext HTTP request with a 400 in
  // plaintext, otherwise runs the handshake on them. False when the connection is done.
  Task<bool> Handshake() {
    ErrorCode ec;
    size_t n = co_await RawSocket().async_read_some(buffer_.prepare(kReadChunk), Await(ec));
    if (ec) co_return false;
    buffer_.commit(n);
    const auto* first = static_cast<const unsigned char*>(buffer_.data().data());
    if (first[0] != 0x16) {  // not a TLS handshake record
      phase_ = Phase::kActive;
      ApiResponse response = ErrorResponse(400, "client sent an HTTP request to an HTTPS server");
      SerializeHead(response, /*keep_alive=*/false, 11, &head_);
      std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(response.body)};
      SetDeadline(Clock::now() + server_->options().request_timeout);
      co_await asio::async_write(RawSocket(), buffers, Await(ec));
      if (!ec) co_await DrainPlain();
      co_return false;
    }
    if constexpr (kTls) {
      co_await stream_.async_handshake(ssl::stream_base::server, buffer_.data(), Await(ec));
    }
    if (ec) co_return false;
    buffer_.consume(buffer_.size());
    co_return true;
  }

  // A fresh parser for the next request, filling request_ (whose body it empties).
  void StartParser() {
    const ServerOptions& options = server_->options();
    request_.body.clear();
    parser_.emplace(&request_, &target_);
    parser_->eager(true);
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(static_cast<uint64_t>(options.max_body_bytes));
  }

  // Reads one complete request into request_; buffer_ may already hold its first bytes.
  Task<ReadOutcome> ReadRequest() {
    const ServerOptions& options = server_->options();
    StartParser();
    bool header_checked = false;
    for (;;) {
      ErrorCode ec = bhttp::error::need_more;
      if (buffer_.size() > 0) {
        ec = {};
        size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
      }
      if (ec && ec != bhttp::error::need_more) co_return Reject(ec);
      if (!header_checked && parser_->is_header_done()) {
        header_checked = true;
        if (parser_->version() < 10) {  // HTTP/1.x with x > 1 is served as HTTP/1.1
          co_return Reject(400, kBadVersion);
        }
        Status target = ParseRequestTarget(target_, &request_.path, &request_.query);
        if (!target.ok()) co_return Reject(400, target.message());
        if (!parser_->is_done()) {
          SetDeadline(Clock::now() + options.request_timeout);
          if (parser_->version() == 11 && buffer_.size() == 0 &&
              EqualsNoCase(request_.Header("expect"), "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            ErrorCode write_ec;
            co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                                       Await(write_ec));
            if (write_ec) co_return ReadOutcome::kGone;
          }
        }
      }
      if (parser_->is_done()) co_return ReadOutcome::kRequest;
      if (!ec && buffer_.size() > 0) continue;  // stopped at a boundary with input left
      size_t chunk = parser_->is_header_done() ? kBodyReadChunk : kReadChunk;
      ErrorCode read_ec;
      size_t n = co_await stream_.async_read_some(buffer_.prepare(chunk), Await(read_ec));
      if (read_ec) co_return ReadOutcome::kGone;
      buffer_.commit(n);
    }
  }

  ReadOutcome Reject(const ErrorCode& ec) {
    if (ec == bhttp::error::body_limit) return Reject(413, kBodyTooLarge);
    if (ec == bhttp::error::header_limit) return Reject(431, kHeaderTooLarge);
    if (ec == bhttp::error::bad_version) return Reject(400, kBadVersion);
    return Reject(400, kMalformed);
  }

  ReadOutcome Reject(int status, std::string_view message) {
    reject_status_ = status;
    reject_message_.assign(message);
    return ReadOutcome::kRejected;
  }

  ApiResponse CallHandler() {
    try {
      ApiResponse response = server_->handler()->Handle(request_);
      if (response.status < 200 || response.status > 599) {
        return ErrorResponse(500, "internal error: invalid response status");
      }
      return response;
    } catch (...) {
      return ErrorResponse(500, "internal error");
    }
  }

  // Runs the handler on the blocking pool and resumes this coroutine on its own executor.
  Task<ApiResponse> CallHandlerOnPool() {
    ApiResponse response;
    co_await asio::async_initiate<const asio::use_awaitable_t<IoExecutor>&, void()>(
        [this, &response](auto resume) {
          server_->PostBlocking([this, &response, resume = std::move(resume)]() mutable {
            response = CallHandler();
            asio::post(std::move(resume));  // back to the connection's executor
          });
        },
        kUseAwaitable);
    co_return response;
  }

  // ---- a busy plain-TCP connection served by a blocking-pool thread ----
  // kRespond: *response answers request_ and the coroutine writes it as usual (it may close the
  // connection); kNext: every response so far was written, buffer_ holds what came after (maybe
  // nothing), the coroutine goes on reading; kGone: the connection broke.
  enum class PoolOutcome { kRespond, kNext, kGone };

  // Hands the connection to a pool thread (PoolLoop) and resumes on the io thread afterwards.
  // Meanwhile only that thread touches the descriptor, buffer_, request_ and parser_: the
  // socket releases it (so the io thread's epoll does not wake for every request the pool
  // thread reads), the watchdog is parked (the loop bounds its own waits) and CloseSocket only
  // shuts the descriptor down.
  Task<PoolOutcome> ServeOnPool(ApiResponse* response) {
    PoolOutcome outcome = PoolOutcome::kGone;
    ErrorCode ec;
    const auto protocol = RawSocket().local_endpoint(ec).protocol();
    const int fd = ec ? -1 : RawSocket().release(ec);
    if (ec || fd < 0) {
      *response = co_await CallHandlerOnPool();
      co_return PoolOutcome::kRespond;
    }
    pool_fd_ = fd;
    on_pool_ = true;
    deadline_ = Clock::time_point::max();
    co_await asio::async_initiate<const asio::use_awaitable_t<IoExecutor>&, void()>(
        [this, fd, response, &outcome](auto resume) {
          server_->PostBlocking([this, fd, response, &outcome, resume = std::move(resume)]() mutable {
            outcome = PoolLoop(fd, response);
            asio::post(std::move(resume));
          });
        },
        kUseAwaitable);
    on_pool_ = false;
    RawSocket().assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      co_return PoolOutcome::kGone;
    }
    co_return outcome;
  }

  // Runs on a pool thread: answers request_, then, as long as the next request arrives within
  // kPoolLinger, is complete in what was read and may block as well, answers it too. Anything
  // else (a request that does not block, a partial or malformed one, a response that closes the
  // connection, shutdown) goes back to the coroutine unconsumed, which handles it as ever.
  PoolOutcome PoolLoop(int fd, ApiResponse* response) {
    const ServerOptions& options = server_->options();
    for (;;) {
      *response = CallHandler();
      if (server_->stopping() || !parser_->keep_alive() || request_.method == "HEAD") return PoolOutcome::kRespond;
      SerializeHead(*response, /*keep_alive=*/true, parser_->version(), &head_);
      bool send_body = response->status != 204 && response->status != 304;
      if (!SendAll(fd, head_, send_body ? std::string_view(response->body) : std::string_view(),
                   Clock::now() + options.request_timeout)) {
        return PoolOutcome::kGone;
      }
      ReleaseLargeBuffers();
      if (buffer_.size() == 0) {
        if (server_->PoolHasWaitingJobs()) return PoolOutcome::kNext;  // make room for them
        pollfd p{fd, POLLIN, 0};
        timespec linger{0, static_cast<long>(std::chrono::nanoseconds(kPoolLinger).count())};
        int ready = ::ppoll(&p, 1, &linger, nullptr);
        if (ready <= 0) return PoolOutcome::kNext;  // idle (or interrupted): the io thread waits
        auto space = buffer_.prepare(kReadChunk);
        ssize_t n = ::recv(fd, space.data(), space.size(), MSG_DONTWAIT);
        if (n == 0) return PoolOutcome::kGone;
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? PoolOutcome::kNext : PoolOutcome::kGone;
        buffer_.commit(static_cast<size_t>(n));
      }
      if (!ParseBufferedBlockingRequest()) return PoolOutcome::kNext;
    }
  }

  // Parses the request at the front of buffer_ into request_ and consumes it, only when it is
  // complete, well-formed and one the handler may block on; otherwise leaves buffer_ as it was
  // (ReadRequest starts afresh from it) and returns false.
  bool ParseBufferedBlockingRequest() {
    StartParser();
    auto data = buffer_.data();
    size_t used = 0;
    while (!parser_->is_done() && used < data.size()) {
      ErrorCode ec;
      size_t n = parser_->put(asio::buffer(static_cast<const char*>(data.data()) + used, data.size() - used), ec);
      if (ec || n == 0) return false;
      used += n;
    }
    if (!parser_->is_done() || parser_->version() < 10) return false;
    if (!ParseRequestTarget(target_, &request_.path, &request_.query).ok()) return false;
    if (!server_->handler()->MayBlock(request_)) return false;
    buffer_.consume(used);
    return true;
  }

  // Writes head and body to the non-blocking socket, waiting for room until `deadline`.
  static bool SendAll(int fd, std::string_view head, std::string_view body, Clock::time_point deadline) {
    std::array<iovec, 2> parts{iovec{const_cast<char*>(head.data()), head.size()},
                               iovec{const_cast<char*>(body.data()), body.size()}};
    size_t first = 0;
    while (first < parts.size()) {
      if (parts[first].iov_len == 0) {
        ++first;
        continue;
      }
      msghdr msg{};
      msg.msg_iov = &parts[first];
      msg.msg_iovlen = parts.size() - first;
      ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000))) < 0 && errno != EINTR) return false;
        continue;
      }
      size_t sent = static_cast<size_t>(n);
      while (sent > 0 && first < parts.size()) {
        size_t take = std::min(sent, parts[first].iov_len);
        parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + take;
        parts[first].iov_len -= take;
        sent -= take;
        if (parts[first].iov_len == 0) ++first;
      }
    }
    return true;
  }

  // False when the connection broke or timed out.
  Task<bool> WriteResponse(const ApiResponse& response, bool keep_alive, bool head) {
    SerializeHead(response, keep_alive, parser_ ? parser_->version() : 11, &head_);
    bool send_body = !head && response.status != 204 && response.status != 304;
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head_), send_body ? asio::buffer(response.body) : asio::const_buffer()};
    ErrorCode ec;
    co_await asio::async_write(stream_, buffers, Await(ec));
    co_return !ec;
  }

  // The response said "Connection: close": end TLS politely or let the peer read everything
  // before the socket goes away.
  Task<void> CloseAfterResponse() {
    phase_ = Phase::kClosing;
    if (shutting_down_) co_return;  // Shutdown is waiting; the response is already sent
    SetDeadline(Clock::now() + kCloseGrace);
    if constexpr (kTls) {
      ErrorCode ec;
      co_await stream_.async_shutdown(Await(ec));
    } else {
      co_await DrainPlain();
    }
  }

  // Half-closes and discards input until the peer closes, bounded by the deadline and size.
  Task<void> DrainPlain() {
    phase_ = Phase::kClosing;
    SetDeadline(std::min(deadline_, Clock::now() + kCloseGrace));
    ErrorCode ec;
    RawSocket().shutdown(Socket::shutdown_send, ec);
    size_t discarded = 0;
    while (!ec && discarded < kLingerMaxBytes) {
      buffer_.clear();
      discarded += co_await RawSocket().async_read_some(buffer_.prepare(kReadChunk), Await(ec));
    }
  }

  void ReleaseLargeBuffers() {
    if (buffer_.size() == 0 && buffer_.capacity() > kKeepBufferBytes) {
      buffer_.clear();
      buffer_.shrink_to_fit();
    }
    if (request_.body.capacity() > kKeepBufferBytes) std::string().swap(request_.body);
  }

  ServerState* const server_;
  Stream stream_;
  IoExecutor executor_;
  Timer timer_;
  Clock::time_point deadline_{};
  Clock::time_point armed_{};
  Clock::duration max_arm_{};
  bool done_ = false;
  bool shutting_down_ = false;
  bool on_pool_ = false;  // a pool thread is serving the connection (ServeOnPool)
  int pool_fd_ = -1;      // the descriptor it holds meanwhile
  Phase phase_ = Phase::kIdle;

  beast::flat_buffer buffer_;
  ApiRequest request_;
  std::string target_;
  std::string head_;
  std::optional<RequestParser> parser_;
  int reject_status_ = 0;
  std::string reject_message_;
};

StatusOr<tcp::endpoint> ResolveListenAddress(const std::string& address) {
  const std::string where = "listener address \"" + address + "\"";
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return InvalidArgument(where + ": expected host:port");
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return InvalidArgument(where + ": an IPv6 host must be written in brackets, e.g. [::1]:8200");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return InvalidArgument(where + ": port must be a number from 0 to 65535");
  }
  if (host.empty()) return tcp::endpoint(asio::ip::address_v4::any(), static_cast<uint16_t>(port));
  ErrorCode parse_ec;
  asio::ip::address ip = asio::ip::make_address(host, parse_ec);
  if (!parse_ec) return tcp::endpoint(ip, static_cast<uint16_t>(port));
  asio::io_context resolver_context;
  tcp::resolver resolver(resolver_context);
  ErrorCode resolve_ec;
  auto results = resolver.resolve(host, port_text, resolve_ec);
  if (resolve_ec || results.empty()) {
    return InvalidArgument(where + ": cannot resolve host \"" + host + "\"");
  }
  return results.begin()->endpoint();
}

int NoPassword(char*, int, int, void*) { return 0; }  // never prompt on a terminal

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length, void*) {
  static const unsigned char kProtocols[] = "\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kProtocols, sizeof(kProtocols) - 1, offered,
                            offered_length) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;  // the client offers only other protocols: carry on without
}

Status CheckReadable(const std::string& where, const char* what, const std::string& path) {
  if (path.empty()) return InvalidArgument(where + ": TLS requires " + what);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    return InvalidArgument(where + ": cannot read " + what + " \"" + path +
                           "\": " + std::strerror(err));
  }
  std::fclose(f);
  return OkStatus();
}

StatusOr<std::unique_ptr<ssl::context>> MakeTlsContext(const ListenerOptions& listener) {
  const std::string where = "listener " + listener.address;
  int min_version = 0;
  if (listener.tls_min_version == "tls10") {
    min_version = TLS1_VERSION;
  } else if (listener.tls_min_version == "tls11") {
    min_version = TLS1_1_VERSION;
  } else if (listener.tls_min_version == "tls12") {
    min_version = TLS1_2_VERSION;
  } else if (listener.tls_min_version == "tls13") {
    min_version = TLS1_3_VERSION;
  } else {
    return InvalidArgument(where + ": invalid tls_min_version \"" + listener.tls_min_version +
                           "\" (expected tls10, tls11, tls12 or tls13)");
  }
  RETURN_IF_ERROR(CheckReadable(where, "cert_file", listener.cert_file));
  RETURN_IF_ERROR(CheckReadable(where, "key_file", listener.key_file));

  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  ErrorCode ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                           ssl::context::single_dh_use,
                       ec);
  if (ec || SSL_CTX_set_min_proto_version(native, min_version) != 1) {
    return InternalError(where + ": cannot configure TLS");
  }
  SSL_CTX_set_default_passwd_cb(native, NoPassword);
  // Key first: loading a certificate that does not match drops the key, which the check
  // below reports clearly (the other order fails with a vague "key values mismatch").
  context->use_private_key_file(listener.key_file, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgument(where + ": invalid TLS key in \"" + listener.key_file +
                           "\" (an unencrypted PEM private key is expected): " + ec.message());
  }
  context->use_certificate_chain_file(listener.cert_file, ec);
  if (ec) {
    return InvalidArgument(where + ": invalid TLS certificate in \"" + listener.cert_file +
                           "\": " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgument(where + ": TLS key \"" + listener.key_file +
                           "\" does not match certificate \"" + listener.cert_file + "\"");
  }
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  return context;
}

Status ServerState::Bind() {
  if (options_.listeners.empty()) return InvalidArgument("http server: no listeners configured");
  if (options_.threads < 0) return InvalidArgument("http server: threads must not be negative");
  if (options_.header_timeout.count() <= 0 || options_.idle_timeout.count() <= 0 ||
      options_.request_timeout.count() <= 0) {
    return InvalidArgument("http server: timeouts must be positive");
  }
  if (options_.max_header_bytes < 256) {
    return InvalidArgument("http server: max_header_bytes must be at least 256");
  }
  for (const ListenerOptions& listener_options : options_.listeners) {
    auto listener = std::make_unique<Listener>();
    listener->options = listener_options;
    ASSIGN_OR_RETURN(tcp::endpoint endpoint, ResolveListenAddress(listener_options.address));
    if (listener_options.tls) {
      ASSIGN_OR_RETURN(auto context, MakeTlsContext(listener_options));
      listener->tls = context.get();
      tls_contexts_.push_back(std::move(context));
    }
    const std::string where = "listener " + listener_options.address;
    ErrorCode ec;
    // Listeners spread over the io threads; each hands its connections out round-robin.
    listener->home = io_threads_[listeners_.size() % io_threads_.size()].get();
    listener->next_thread = listeners_.size();
    listener->acceptor.emplace(listener->home->ioc.get_executor());
    listener->acceptor->open(endpoint.protocol(), ec);
    if (!ec) listener->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) listener->acceptor->bind(endpoint, ec);
    if (!ec) listener->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Unavailable(where + ": cannot listen: " + ec.message());
    tcp::endpoint local = listener->acceptor->local_endpoint(ec);
    if (ec) return Unavailable(where + ": cannot listen: " + ec.message());
    listener->bound = FormatEndpoint(local);
    listeners_.push_back(std::move(listener));
  }
  return OkStatus();
}

std::vector<std::string> ServerState::BoundAddresses() const {
  std::vector<std::string> out;
  for (const auto& listener : listeners_) out.push_back(listener->bound);
  return out;
}

void ServerState::Start() {
  std::lock_guard control(control_mu_);
  if (state_ != State::kCreated) return;
  state_ = State::kRunning;
  for (auto& io : io_threads_) io->work.emplace(io->ioc.get_executor());
  for (auto& listener : listeners_) {
    asio::co_spawn(listener->home->ioc, AcceptLoop(listener.get()), asio::detached);
  }
  for (auto& io : io_threads_) {
    io->thread = std::thread([&ioc = io->ioc] { RunIoThread(ioc); });
  }
}

void ServerState::RunIoThread(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http: io thread error: {}", e.what());
    }
  }
}

Task<void> ServerState::AcceptLoop(Listener* listener) {
  for (;;) {
    ErrorCode ec;
    // The new socket belongs to the io thread that will serve the connection for its life.
    IoThread& target = *io_threads_[listener->next_thread++ % io_threads_.size()];
    Socket socket = co_await listener->acceptor->async_accept(target.ioc.get_executor(), Await(ec));
    if (stopping()) co_return;
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      if (ec == asio::error::connection_aborted) continue;
      spdlog::warn("http: accept on {} failed: {}", listener->bound, ec.message());
      // Out of descriptors and the like: back off instead of spinning.
      Timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(Await(ec));
      continue;
    }
    if (&target == listener->home) {
      StartSession(listener, std::move(socket));
    } else {
      // One cross-thread hand-off per connection; from here on it stays on `target`.
      asio::post(target.ioc, [this, listener, socket = std::move(socket)]() mutable {
        StartSession(listener, std::move(socket));
      });
    }
  }
}

void ServerState::StartSession(Listener* listener, Socket socket) {
  ErrorCode ec;
  socket.set_option(tcp::no_delay(true), ec);
  tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already disconnected
  IoExecutor executor = socket.get_executor();
  if (listener->tls != nullptr) {
    auto session = std::make_shared<Session<TlsStream>>(
        this, TlsStream(std::move(socket), *listener->tls), FormatEndpoint(remote));
    if (Register(session)) {
      asio::co_spawn(executor, Session<TlsStream>::Run(session), asio::detached);
    }
  } else {
    auto session =
        std::make_shared<Session<Socket>>(this, std::move(socket), FormatEndpoint(remote));
    if (Register(session)) {
      asio::co_spawn(executor, Session<Socket>::Run(session), asio::detached);
    }
  }
}

bool ServerState::Register(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(mu_);
  if (stopping()) return false;  // Shutdown already told every session to stop
  sessions_.emplace(session.get(), session);
  return true;
}

std::vector<std::shared_ptr<SessionBase>> ServerState::SessionSnapshot() {
  std::vector<std::shared_ptr<SessionBase>> out;
  std::lock_guard lock(mu_);
  for (auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;
}

bool ServerState::WaitForSessions(Clock::time_point until) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, until, [this] { return sessions_.empty(); });
}

void ServerState::Shutdown(std::chrono::seconds deadline) {
  std::lock_guard control(control_mu_);
  if (state_ == State::kStopped) return;
  const Clock::time_point until = Clock::now() + deadline;
  {
    std::lock_guard lock(mu_);  // orders the flag with Register
    stopping_.store(true, std::memory_order_release);
  }
  if (state_ == State::kCreated) {
    for (auto& listener : listeners_) {
      ErrorCode ec;
      listener->acceptor->close(ec);
    }
    state_ = State::kStopped;
    return;
  }
  for (auto& listener : listeners_) {
    asio::post(listener->home->ioc, [acceptor = &*listener->acceptor] {
      ErrorCode ec;
      acceptor->close(ec);
    });
  }
  for (auto& session : SessionSnapshot()) session->PostBeginShutdown();
  if (!WaitForSessions(until)) {
    for (auto& session : SessionSnapshot()) session->PostForceClose();
    // Closed sockets end their sessions at once, except one inside a handler call: that one
    // ends when the handler returns (the join below waits for it anyway).
    WaitForSessions(Clock::now() + std::chrono::seconds(1));
  }
  blocking_pool_.join();  // handlers still running finish and post their resumptions
  for (auto& io : io_threads_) {
    io->work.reset();
    io->ioc.stop();
  }
  for (auto& io : io_threads_) {
    if (io->thread.joinable()) io->thread.join();
  }
  state_ = State::kStopped;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Handler* handler) : state(std::move(options), handler) {}
  ServerState state;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() = default;  // ServerState's destructor shuts down

StatusOr<std::unique_ptr<Server>> Server::Create(ServerOptions options, Handler* handler) {
  if (handler == nullptr) return InvalidArgument("http server: handler is required");
  auto impl = std::make_unique<Impl>(std::move(options), handler);
  RETURN_IF_ERROR(impl->state.Bind());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::vector<std::string> Server::BoundAddresses() const { return impl_->state.BoundAddresses(); }

void Server::Start() { impl_->state.Start(); }

void Server::Shutdown(std::chrono::seconds deadline) { impl_->state.Shutdown(deadline); }

}  // namespace coffer::http
