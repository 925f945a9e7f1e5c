// logical::Request and logical::Response: what an engine receives and returns. Transport-free:
// the HTTP layer builds a Request from the wire and renders a Response into Vault's envelope.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace coffer::logical {

class Storage;

enum class Operation { kRead, kList, kCreate, kUpdate, kPatch, kDelete, kHelp };
// "read", "list", "create", "update", "patch", "delete", "help" (the ACL capability names).
const char* OperationName(Operation op);

struct Request {
  std::string id{};  // request_id, fresh per request
  Operation operation = Operation::kRead;
  std::string path{};                              // full path from the API root, e.g. "secret/foo" (no "/v1/")
  std::string mount_point{};                       // set by the router, e.g. "secret/"
  std::string mount_type{};                        // set by the router, e.g. "kv"
  std::string mount_accessor{};                    // set by the router
  nlohmann::json data = nlohmann::json::object();  // body (writes) or query parameters (reads)
  std::string client_token{};                      // never log it
  std::string client_token_accessor{};
  // Set by the core after the ACL check: does the caller hold sudo on this request's path (or
  // the root policy)? Endpoints with root-only options (orphan tokens, custom ids) consult it.
  bool client_sudo = false;
  bool client_root = false;  // the caller's token carries the root policy
  std::string remote_address{};
  std::string content_type{};  // for PATCH (merge-patch) checks
  Storage* storage = nullptr;  // the mount's barrier view, set by the router

  // Path relative to the mount point: what an engine's path patterns match. `path` equal to the
  // mount point, or to it without its trailing '/', gives "". A path outside the mount point
  // (a router bug) is returned unchanged.
  std::string RelativePath() const;
};

struct Response {
  nlohmann::json data = nullptr;  // null, or an object rendered as "data"
  // Instead of `data`, for engines that store JSON objects: the object's JSON text exactly as
  // nlohmann's compact dump() writes it (what rendering `data` would produce), spliced into the
  // envelope verbatim so a read need not parse and re-serialize it. Set one or the other.
  std::string raw_data{};
  std::vector<std::string> warnings{};
  nlohmann::json auth = nullptr;  // null, or Vault's auth block
  std::string lease_id{};
  bool renewable = false;
  int64_t lease_duration = 0;

  // Some Vault endpoints (sys/health, sys/init, sys/seal-status ...) answer with a bare JSON
  // document and a chosen status instead of the envelope; set raw_status to do that.
  std::optional<int> raw_status{};
  nlohmann::json raw_body = nullptr;

  static Response WithData(nlohmann::json d) {
    Response r;
    r.data = std::move(d);
    return r;
  }
  static Response Raw(int status, nlohmann::json body) {
    Response r;
    r.raw_status = status;
    r.raw_body = std::move(body);
    return r;
  }
  // True when there is nothing to render: Vault answers such requests with 204 No Content.
  bool Empty() const {
    return !raw_status && data.is_null() && raw_data.empty() && auth.is_null() && warnings.empty() && lease_id.empty();
  }
  // `data`, or `raw_data` parsed (for tests and callers that need the document).
  nlohmann::json DataJson() const {
    if (raw_data.empty()) return data;
    return nlohmann::json::parse(raw_data, nullptr, /*allow_exceptions=*/false);
  }
};

}  // namespace coffer::logical
