// The boundary between the HTTP transport and the API: the server parses the wire into an
// ApiRequest, calls a Handler, and writes the ApiResponse back. No Beast/Asio types here.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace coffer::http {

struct ApiRequest {
  std::string method;       // "GET", "POST", "LIST", ... as sent
  std::string path;         // percent-decoded path without the query, e.g. "/v1/secret/foo"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
  std::string body;
  std::string remote_address;  // "ip:port"
  bool tls = false;

  // First header with this lower-case name, or "" when absent.
  const std::string& Header(const std::string& lower_name) const;
};

struct ApiResponse {
  int status = 200;
  std::string body;                          // empty for 204
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called concurrently from the server's threads; must be thread-safe and must not throw.
  virtual ApiResponse Handle(const ApiRequest& req) = 0;
  // True when Handle may block for a while (e.g. waiting for a durable write); the server then
  // runs it on a separate pool instead of an io thread. Must be cheap.
  virtual bool MayBlock(const ApiRequest& req) const { return false; }
};

}  // namespace coffer::http
