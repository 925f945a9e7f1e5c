// The HTTP/1.1 (+TLS) transport of `coffer server`. It reads requests from the wire into an
// ApiRequest, calls Handler::Handle on the connection's own io thread, and writes the
// ApiResponse back. It knows nothing of Vault semantics; it only parses, enforces limits and
// dispatches. No Boost or OpenSSL types leak out of this header.
//
// Wire behaviour:
//   - HTTP/1.1 keep-alive (and HTTP/1.0 with "Connection: keep-alive"), "Connection: close",
//     pipelined requests, "Expect: 100-continue". Any method token is passed through as sent
//     (Vault's LIST included). HEAD responses carry the headers only.
//   - The request-target is split and percent-decoded (see http/target.h); a malformed
//     target is answered 400.
//   - Every response carries Cache-Control: no-store and Date; Content-Type (from the
//     ApiResponse) and Content-Length unless the status is 204 or 304, which never carry a
//     body. Extra headers from the handler are added, except Content-Length,
//     Transfer-Encoding, Connection, Keep-Alive, Cache-Control, Date and Content-Type, which
//     the transport owns, and any header whose name or value contains a control character.
//   - Errors produced by the transport itself use Vault's shape {"errors":["..."]} with
//     Content-Type application/json, and close the connection: malformed HTTP 400, an HTTP
//     version other than 1.x 400, header block over max_header_bytes 431, body over max_body_bytes
//     413 (announced by Content-Length or found while reading a chunked body), an invalid
//     ApiResponse status or a throwing handler 500. A plaintext request on a TLS port gets a 400 in
//     plaintext.
//   - Timeouts close the connection silently: header_timeout from a request's first byte (or
//     from accept for a new connection, including the TLS handshake) until its header is
//     complete; request_timeout for reading the body, and again for writing the response;
//     idle_timeout between keep-alive requests.
//   - Nothing is logged per request. Accept failures are logged by spdlog at warn level.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/handler.h"

namespace coffer::http {

struct ListenerOptions {
  // "host:port" or "[v6]:port"; the host may be an IP literal or a resolvable name, empty
  // means all IPv4 interfaces. Port 0 picks a free port (see Server::BoundAddresses).
  std::string address = "127.0.0.1:8200";
  bool tls = false;
  std::string cert_file;  // PEM certificate chain, leaf first (TLS only)
  std::string key_file;   // PEM private key, unencrypted (TLS only)
  // "tls10", "tls11", "tls12" or "tls13". The system OpenSSL security level may still
  // refuse versions below TLS 1.2 even when allowed here. ALPN offers http/1.1 only.
  std::string tls_min_version = "tls12";
};

struct ServerOptions {
  std::vector<ListenerOptions> listeners;
  // io threads; 0 means std::thread::hardware_concurrency(). Each runs its own event loop;
  // accepted connections are dealt to them round-robin and stay on one for their whole life.
  // Handlers run on these threads, so a handler that blocks holds up that thread's
  // connections for that long.
  int threads = 0;
  // Threads for handlers whose Handler::MayBlock says so; they wait there instead of on an
  // io thread, so up to this many blocking requests (e.g. durable writes) run at once.
  int blocking_threads = 64;
  size_t max_body_bytes = size_t{32} << 20;
  size_t max_header_bytes = size_t{64} << 10;  // request line plus all header fields
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds request_timeout{90};
};

// Thread-safe: BoundAddresses may be called from any thread; Start and Shutdown from one
// controlling thread (not from inside a handler).
class Server {
 public:
  // Validates the options and binds every listener now, so errors surface before Start.
  // Errors: InvalidArgument for a malformed address, an unknown tls_min_version, a missing
  // or unreadable certificate or key file, or a key that does not match the certificate;
  // Unavailable when a listener cannot bind (e.g. address already in use). Messages name
  // the listener address or the file, never file contents. `handler` is borrowed and must
  // outlive the Server.
  static StatusOr<std::unique_ptr<Server>> Create(ServerOptions options, Handler* handler);

  ~Server();  // Shutdown() with the default deadline if still running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The actual "ip:port" of each listener, in the order of ServerOptions::listeners, with
  // port 0 resolved; IPv6 as "[ip]:port".
  std::vector<std::string> BoundAddresses() const;

  // Starts accepting on the io threads and returns. Calling it again, or after Shutdown, does
  // nothing.
  void Start();

  // Graceful stop: stops accepting at once, closes idle keep-alive connections, lets
  // requests already being read, handled or written finish (their responses say
  // "Connection: close"), then joins the io threads. Connections still open when `deadline`
  // expires (e.g. a slow client) are closed forcibly. A handler call cannot be interrupted:
  // Shutdown returns once running handlers have returned. Idempotent.
  void Shutdown(std::chrono::seconds deadline = std::chrono::seconds(30));

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::http
