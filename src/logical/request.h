// logical::Request and logical::Response: what an engine receives and returns. Transport-free:
// the HTTP layer builds a Request from the wire and renders a Response into Vault's envelope.
#pragma once

#include <cstdint>
#include <map>
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

// An identity alias an auth method reports for a login: the name the method knows the caller
// by (a userpass user name, an AppRole role_id, a JWT user_claim value, a service account's
// uid) and metadata shown on the alias. The core maps (mount accessor, name) to an entity.
struct Alias {
  std::string name{};
  std::map<std::string, std::string> metadata{};
};

// What an auth method's login handler returns instead of `data`: who logged in and what token
// they get. The core turns it into a token (an orphan whose creation path is the login path)
// and renders Vault's `auth` block. Mirrors Vault's logical.Auth.
struct Auth {
  std::vector<std::string> policies{};          // the role's/user's token_policies
  std::map<std::string, std::string> metadata{};  // token meta, returned as auth.metadata
  std::string display_name{};  // e.g. the user name; the core prefixes the mount ("userpass-alice")
  int64_t ttl = 0;             // token_ttl; 0 = the mount's default lease TTL
  int64_t max_ttl = 0;         // token_max_ttl; 0 = the mount's max; caps this lease and renewals
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  int64_t num_uses = 0;
  bool renewable = true;
  bool no_default_policy = false;
  std::vector<std::string> bound_cidrs{};
  std::string token_type{};  // "", "default", "service" (batch tokens are refused at role write)
  Alias alias{};             // required: the core refuses a login without an alias name
  std::vector<Alias> group_aliases{};
};

struct Response {
  nlohmann::json data = nullptr;  // null, or an object rendered as "data"
  // Instead of `data`, for engines that store JSON objects: the object's JSON text exactly as
  // nlohmann's compact dump() writes it (what rendering `data` would produce), spliced into the
  // envelope verbatim so a read need not parse and re-serialize it. Set one or the other.
  std::string raw_data{};
  std::vector<std::string> warnings{};
  nlohmann::json auth = nullptr;  // null, or Vault's auth block
  // Set by an auth method's login handler; the core replaces it by a token and `auth`.
  std::optional<Auth> login{};
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
    return !raw_status && data.is_null() && raw_data.empty() && auth.is_null() && !login && warnings.empty() && lease_id.empty();
  }
  // `data`, or `raw_data` parsed (for tests and callers that need the document).
  nlohmann::json DataJson() const {
    if (raw_data.empty()) return data;
    return nlohmann::json::parse(raw_data, nullptr, /*allow_exceptions=*/false);
  }
};

}  // namespace coffer::logical
