// http_echo_bench: serves a fixed JSON body (default 1200 bytes, the size of a typical KV
// read response) on every path through http::Server, so the transport alone can be measured
// with wrk against a baseline such as nginx serving a static file of the same size.
//
//   http_echo_bench [--address 127.0.0.1:8200] [--threads N] [--body-bytes 1200]
//                   [--cert cert.pem --key key.pem]
//
// Prints the bound address on stdout, then runs until SIGINT or SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http/server.h"

namespace {

class FixedBodyHandler : public coffer::http::Handler {
 public:
  explicit FixedBodyHandler(size_t body_bytes) {
    // {"request_id":"...","data":{"value":"xxxx..."}} padded to exactly body_bytes.
    std::string head =
        "{\"request_id\":\"00000000-0000-0000-0000-000000000000\",\"lease_id\":\"\","
        "\"renewable\":false,\"lease_duration\":0,\"data\":{\"value\":\"";
    std::string tail = "\"},\"wrap_info\":null,\"warnings\":null,\"auth\":null}";
    size_t fill =
        body_bytes > head.size() + tail.size() ? body_bytes - head.size() - tail.size() : 0;
    body_ = head + std::string(fill, 'x') + tail;
  }

  coffer::http::ApiResponse Handle(const coffer::http::ApiRequest&) override {
    coffer::http::ApiResponse response;
    response.body = body_;
    return response;
  }

 private:
  std::string body_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: http_echo_bench [--address host:port] [--threads N] [--body-bytes N] "
               "[--cert FILE --key FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  coffer::http::ServerOptions options;
  coffer::http::ListenerOptions listener;
  listener.address = "127.0.0.1:8200";
  size_t body_bytes = 1200;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[++i];
    if (flag == "--address") {
      listener.address = value;
    } else if (flag == "--threads") {
      options.threads = std::atoi(value);
    } else if (flag == "--body-bytes") {
      body_bytes = static_cast<size_t>(std::atol(value));
    } else if (flag == "--cert") {
      listener.tls = true;
      listener.cert_file = value;
    } else if (flag == "--key") {
      listener.tls = true;
      listener.key_file = value;
    } else {
      return Usage();
    }
  }
  options.listeners.push_back(listener);

  // Block the stop signals before any io thread exists, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  FixedBodyHandler handler(body_bytes);
  auto server = coffer::http::Server::Create(options, &handler);
  if (!server.ok()) {
    std::fprintf(stderr, "http_echo_bench: %s\n", server.status().message().c_str());
    return 1;
  }
  (*server)->Start();
  std::printf("%s\n", (*server)->BoundAddresses()[0].c_str());
  std::fflush(stdout);

  int received = 0;
  sigwait(&signals, &received);
  (*server)->Shutdown(std::chrono::seconds(5));
  return 0;
}
