#include "server/api_handler.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/status.h"
#include "core/core.h"
#include "crypto/random.h"
#include "logical/request.h"

namespace coffer::server {
namespace {

using logical::Operation;
using nlohmann::json;

// Never throws: invalid UTF-8 (e.g. from a percent-decoded path) is replaced, not fatal.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

http::ApiResponse ErrorResponse(int status, const std::string& message) {
  http::ApiResponse r;
  r.status = status;
  json errors = json::array();
  if (!message.empty()) errors.push_back(message);
  r.body = Dump(json{{"errors", errors}});
  return r;
}

http::ApiResponse FromStatus(const Status& s) {
  int code = HttpStatusFor(s.code());
  if (code >= 500 && s.code() != StatusCode::kSealed && s.code() != StatusCode::kUnavailable) {
    spdlog::error("request failed: {}", s.message());
  }
  return ErrorResponse(code, s.message());
}

bool IsTrue(const std::string& v) { return v == "true" || v == "1" || v == "t" || v == "True"; }

// Deeper documents are refused before parsing: serializing them recurses once per level.
constexpr int kMaxJsonDepth = 1000;

// True when arrays/objects in `body` nest deeper than `limit` (strings are skipped).
bool NestsDeeperThan(std::string_view body, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// Parses a JSON request body into an object. The error never quotes the body (it may hold secrets).
StatusOr<json> ParseBody(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return InvalidArgument("failed to parse JSON input: nesting exceeds the maximum depth of " +
                           std::to_string(kMaxJsonDepth));
  }
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return InvalidArgument("failed to parse JSON input: syntax error at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    return InvalidArgument("failed to parse JSON input");
  }
  if (!j.is_object()) return InvalidArgument("failed to parse JSON input: the body must be a JSON object");
  return j;
}

std::string TokenFrom(const http::ApiRequest& req) {
  const std::string& t = req.Header("x-vault-token");
  if (!t.empty()) return t;
  const std::string& auth = req.Header("authorization");
  if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
    return auth.substr(7);
  }
  return "";
}

bool HasRelativeSegment(std::string_view p) {
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(start, end - start);
    if (seg == ".." || seg == ".") return true;
    start = end + 1;
  }
  return false;
}

// Vault's response envelope. Written piecewise so the (possibly large) data is serialized once
// and never copied into a temporary document.
std::string RenderEnvelope(const logical::Request& req, const logical::Response& resp) {
  // Vault copies the data of sys/ responses to the top level; clients rely on it.
  json top_level = json::object();
  if (req.mount_type == "system" && resp.data.is_object()) top_level = resp.data;
  for (const char* k : {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings",
                        "auth", "mount_type"}) {
    top_level.erase(k);
  }
  std::string out;
  out.reserve(256);
  out += "{\"request_id\":";
  out += Dump(req.id);
  out += ",\"lease_id\":";
  out += Dump(resp.lease_id);
  out += ",\"renewable\":";
  out += resp.renewable ? "true" : "false";
  out += ",\"lease_duration\":";
  out += std::to_string(resp.lease_duration);
  out += ",\"data\":";
  if (resp.raw_data.empty()) {
    out += Dump(resp.data);
  } else {
    out += resp.raw_data;  // already the exact bytes Dump(data) would give
  }
  out += ",\"wrap_info\":null,\"warnings\":";
  out += resp.warnings.empty() ? "null" : Dump(resp.warnings);
  out += ",\"auth\":";
  out += Dump(resp.auth);
  out += ",\"mount_type\":";
  out += Dump(req.mount_type);
  for (const auto& [k, v] : top_level.items()) {
    out += ',';
    out += Dump(k);
    out += ':';
    out += Dump(v);
  }
  out += '}';
  return out;
}

}  // namespace

bool ApiHandler::MayBlock(const http::ApiRequest& req) const {
  const std::string& m = req.method;
  return !(m == "GET" || m == "HEAD" || m == "LIST");
}

namespace {

// "10.0.0.1:5000" → "10.0.0.1", "[::1]:5000" → "::1": engines and CIDR checks see the address.
std::string AddressWithoutPort(std::string_view endpoint) {
  if (!endpoint.empty() && endpoint.front() == '[') {
    size_t close = endpoint.find(']');
    return std::string(endpoint.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  size_t colon = endpoint.rfind(':');
  if (colon != std::string_view::npos && endpoint.find(':') == colon) return std::string(endpoint.substr(0, colon));
  return std::string(endpoint);
}

}  // namespace

http::ApiResponse ApiHandler::Handle(const http::ApiRequest& in) {
  constexpr std::string_view kPrefix = "/v1/";
  if (in.path.compare(0, kPrefix.size(), kPrefix) != 0) return ErrorResponse(404, "");
  logical::Request req;
  req.path = in.path.substr(kPrefix.size());
  if (HasRelativeSegment(req.path)) return ErrorResponse(400, "invalid request path: relative segments are not allowed");
  req.remote_address = AddressWithoutPort(in.remote_address);
  req.content_type = in.Header("content-type");
  req.client_token = TokenFrom(in);

  bool list = false, help = false;
  json query = json::object();
  for (const auto& [k, v] : in.query) {
    if (k == "list") list = IsTrue(v);
    else if (k == "help") help = IsTrue(v);
    else query[k] = v;
  }

  const std::string& m = in.method;
  bool head = false;
  if (m == "GET" || m == "HEAD") {
    head = m == "HEAD";
    req.operation = list ? Operation::kList : Operation::kRead;
    req.data = std::move(query);
  } else if (m == "LIST") {
    req.operation = Operation::kList;
    req.data = std::move(query);
  } else if (m == "POST" || m == "PUT" || m == "PATCH") {
    if (m == "PATCH") {
      std::string ct = req.content_type.substr(0, req.content_type.find(';'));
      if (ct != "application/merge-patch+json") {
        return ErrorResponse(415, "PATCH requires Content-Type application/merge-patch+json");
      }
      req.operation = Operation::kPatch;
    } else {
      req.operation = Operation::kUpdate;
    }
    auto body = ParseBody(in.body);
    if (!body.ok()) return FromStatus(body.status());
    req.data = std::move(*body);
  } else if (m == "DELETE") {
    req.operation = Operation::kDelete;
    req.data = std::move(query);
  } else {
    return ErrorResponse(405, "unsupported HTTP method " + m.substr(0, 16));
  }
  if (help) req.operation = Operation::kHelp;
  req.id = crypto::GenerateUuid();

  auto result = core_->HandleRequest(req);
  if (!result.ok()) return FromStatus(result.status());
  logical::Response& resp = *result;

  http::ApiResponse out;
  if (resp.raw_status) {
    out.status = *resp.raw_status;
    if (!head) out.body = resp.raw_body.is_null() ? "" : Dump(resp.raw_body);
    return out;
  }
  if (resp.Empty()) {
    out.status = 204;
    return out;
  }
  out.status = 200;
  if (!head) out.body = RenderEnvelope(req, resp);
  return out;
}

}  // namespace coffer::server
