// The token auth method's endpoints, following Vault's vault/token_store.go: the same request
// fields, the same policy/TTL/orphan rules, the same response shapes and error texts.
#include "core/token_backend.h"

#include "base/encoding.h"
#include "base/time_format.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "logical/framework.h"

namespace coffer::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;
using nlohmann::json;

// ---- Small helpers ----------------------------------------------------------------------

// Never throws on strings that are not valid UTF-8 (they get U+FFFD replacements).
std::string Serialize(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string TrimSpace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n\r");
  return s.substr(b, e - b + 1);
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Sorted, lowercased, without duplicates or empty entries (Vault's strutil.RemoveDuplicates).
std::vector<std::string> RemoveDuplicates(const std::vector<std::string>& items) {
  std::set<std::string> set;
  for (const auto& item : items) {
    std::string v = AsciiLower(TrimSpace(item));
    if (!v.empty()) set.insert(std::move(v));
  }
  return {set.begin(), set.end()};
}

// Vault's policyutil.SanitizePolicies: trimmed, lowercased, deduplicated and sorted; "root"
// swallows every other policy; "default" is added when asked (never next to "root").
std::vector<std::string> SanitizePolicies(const std::vector<std::string>& policies, bool add_default) {
  std::vector<std::string> out = RemoveDuplicates(policies);
  if (Contains(out, "root")) return {"root"};
  if (add_default && !Contains(out, "default")) out.push_back("default");
  std::sort(out.begin(), out.end());
  return out;
}

// Glob with '*' matching any run of characters (Vault's go-glob).
bool GlobMatch(std::string_view pattern, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && pattern[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ContainsGlob(const std::vector<std::string>& patterns, const std::string& item) {
  for (const auto& p : patterns)
    if (GlobMatch(p, item)) return true;
  return false;
}

// Go's %q of a []string: ["a" "b"].
std::string GoQuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ' ';
    out += Serialize(json(items[i]));
  }
  return out + "]";
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Vault's framework.GenericNameRegex: \w(([\w-.]+)?\w)?
bool IsValidName(const std::string& name) {
  if (name.empty() || !IsWordChar(name.front()) || !IsWordChar(name.back())) return false;
  for (char c : name)
    if (!IsWordChar(c) && c != '-' && c != '.') return false;
  return name.find("..") == std::string::npos;  // never a parent reference in a storage key
}

// An IP address or a CIDR block (Vault's parseutil.ParseAddrs).
bool IsValidAddr(const std::string& text) {
  std::string addr = text;
  int max_prefix = -1;
  size_t slash = text.find('/');
  std::string prefix;
  if (slash != std::string::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 3 || prefix.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
    max_prefix = 128;
  } else {
    return false;
  }
  return prefix.empty() || std::stoi(prefix) <= max_prefix;
}

Status CheckAddrs(const std::string& field, const std::vector<std::string>& addrs) {
  for (const auto& a : addrs) {
    if (!IsValidAddr(TrimSpace(a))) {
      return InvalidArgument("field \"" + field + "\": \"" + a.substr(0, 64) + "\" is not an IP address or CIDR block");
    }
  }
  return OkStatus();
}

std::vector<std::string> TrimAll(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) {
    std::string t = TrimSpace(i);
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

json MetaOrNull(const std::map<std::string, std::string>& meta) { return meta.empty() ? json(nullptr) : json(meta); }

}  // namespace

json AuthBlock(const TokenEntry& e, const std::string& client_token, int64_t lease_duration, bool renewable,
               const std::vector<std::string>& identity_policies) {
  // "policies" is the union Vault reports: token policies, then identity policies not among them.
  std::vector<std::string> all = e.policies;
  for (const auto& p : identity_policies) {
    if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
  }
  return {{"client_token", client_token},
          {"accessor", e.accessor},
          {"policies", all},
          {"token_policies", e.policies},
          {"identity_policies", identity_policies.empty() ? json(nullptr) : json(identity_policies)},
          {"metadata", MetaOrNull(e.meta)},
          {"lease_duration", lease_duration},
          {"renewable", renewable},
          {"entity_id", e.entity_id},
          {"token_type", e.type},
          {"orphan", e.Orphan()},
          {"mfa_requirement", nullptr},
          {"num_uses", e.num_uses}};
}

namespace {

// The data of lookup, lookup-self and lookup-accessor. `id` is the token string, or "" when
// looked up by accessor. Lease fields appear only for tokens with a lease, as in Vault.
json LookupData(const TokenEntry& e, const std::string& id, int64_t now) {
  json d = {{"id", id},
            {"accessor", e.accessor},
            {"policies", e.policies},
            {"path", e.path},
            {"meta", MetaOrNull(e.meta)},
            {"display_name", e.display_name},
            {"num_uses", e.num_uses},
            {"orphan", e.Orphan()},
            {"creation_time", e.creation_time},
            {"creation_ttl", e.ttl},
            {"expire_time", nullptr},
            {"ttl", 0},
            {"explicit_max_ttl", e.explicit_max_ttl},
            {"entity_id", e.entity_id},
            {"type", e.type}};
  if (!e.role.empty()) d["role"] = e.role;
  if (e.period != 0) d["period"] = e.period;
  if (!e.bound_cidrs.empty()) d["bound_cidrs"] = e.bound_cidrs;
  if (e.has_lease) {
    if (e.last_renewal_time != 0) {
      d["last_renewal_time"] = e.last_renewal_time;
      d["last_renewal"] = FormatRfc3339(e.last_renewal_time);
    }
    if (e.expire_time != 0) {
      d["expire_time"] = FormatRfc3339(e.expire_time);
      d["ttl"] = std::max<int64_t>(0, e.expire_time - now);
    }
    d["renewable"] = e.renewable && e.expire_time != 0 && !e.ExpiredAt(now);
    d["issue_time"] = FormatRfc3339(e.creation_time);
  }
  return d;
}

// ---- Roles ------------------------------------------------------------------------------

struct TokenRole {
  std::string name;
  std::vector<std::string> allowed_policies, disallowed_policies;
  std::vector<std::string> allowed_policies_glob, disallowed_policies_glob;
  bool orphan = false;
  bool renewable = true;
  std::string path_suffix;
  int64_t period = 0;            // deprecated field, kept to read back what was written
  int64_t explicit_max_ttl = 0;  // deprecated field, kept to read back what was written
  int64_t token_period = 0;
  int64_t token_explicit_max_ttl = 0;
  std::string token_type = "default-service";
  bool token_no_default_policy = false;
  int64_t token_num_uses = 0;
  std::vector<std::string> token_bound_cidrs;
  std::vector<std::string> bound_cidrs;  // deprecated field
  std::vector<std::string> allowed_entity_aliases;
};

json RoleToJson(const TokenRole& r) {
  return {{"name", r.name},
          {"allowed_policies", r.allowed_policies},
          {"disallowed_policies", r.disallowed_policies},
          {"allowed_policies_glob", r.allowed_policies_glob},
          {"disallowed_policies_glob", r.disallowed_policies_glob},
          {"orphan", r.orphan},
          {"renewable", r.renewable},
          {"path_suffix", r.path_suffix},
          {"period", r.period},
          {"explicit_max_ttl", r.explicit_max_ttl},
          {"token_period", r.token_period},
          {"token_explicit_max_ttl", r.token_explicit_max_ttl},
          {"token_type", r.token_type},
          {"token_no_default_policy", r.token_no_default_policy},
          {"token_num_uses", r.token_num_uses},
          {"token_bound_cidrs", r.token_bound_cidrs},
          {"bound_cidrs", r.bound_cidrs},
          {"allowed_entity_aliases", r.allowed_entity_aliases}};
}

StatusOr<TokenRole> RoleFromJson(const std::string& text) {
  auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLoss("token role is not valid JSON");
  try {
    TokenRole r;
    r.name = j.value("name", "");
    r.allowed_policies = j.value("allowed_policies", std::vector<std::string>{});
    r.disallowed_policies = j.value("disallowed_policies", std::vector<std::string>{});
    r.allowed_policies_glob = j.value("allowed_policies_glob", std::vector<std::string>{});
    r.disallowed_policies_glob = j.value("disallowed_policies_glob", std::vector<std::string>{});
    r.orphan = j.value("orphan", false);
    r.renewable = j.value("renewable", true);
    r.path_suffix = j.value("path_suffix", "");
    r.period = j.value("period", int64_t{0});
    r.explicit_max_ttl = j.value("explicit_max_ttl", int64_t{0});
    r.token_period = j.value("token_period", int64_t{0});
    r.token_explicit_max_ttl = j.value("token_explicit_max_ttl", int64_t{0});
    r.token_type = j.value("token_type", "default-service");
    r.token_no_default_policy = j.value("token_no_default_policy", false);
    r.token_num_uses = j.value("token_num_uses", int64_t{0});
    r.token_bound_cidrs = j.value("token_bound_cidrs", std::vector<std::string>{});
    r.bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
    r.allowed_entity_aliases = j.value("allowed_entity_aliases", std::vector<std::string>{});
    // Older roles only had the deprecated fields; they apply as the token_ ones (Vault's upgrade).
    if (r.period > 0 && r.token_period == 0) r.token_period = r.period;
    if (r.explicit_max_ttl > 0 && r.token_explicit_max_ttl == 0) r.token_explicit_max_ttl = r.explicit_max_ttl;
    if (!r.bound_cidrs.empty() && r.token_bound_cidrs.empty()) r.token_bound_cidrs = r.bound_cidrs;
    return r;
  } catch (const json::exception&) {
    return DataLoss("token role has an unexpected shape");
  }
}

json RoleReadData(const TokenRole& r) {
  json d = {{"period", r.period},
            {"token_period", r.token_period},
            {"explicit_max_ttl", r.explicit_max_ttl},
            {"token_explicit_max_ttl", r.token_explicit_max_ttl},
            {"disallowed_policies", r.disallowed_policies},
            {"allowed_policies", r.allowed_policies},
            {"disallowed_policies_glob", r.disallowed_policies_glob},
            {"allowed_policies_glob", r.allowed_policies_glob},
            {"name", r.name},
            {"orphan", r.orphan},
            {"path_suffix", r.path_suffix},
            {"renewable", r.renewable},
            {"token_type", r.token_type},
            {"allowed_entity_aliases", r.allowed_entity_aliases},
            {"token_no_default_policy", r.token_no_default_policy}};
  if (!r.token_bound_cidrs.empty()) d["token_bound_cidrs"] = r.token_bound_cidrs;
  if (!r.bound_cidrs.empty()) d["bound_cidrs"] = r.bound_cidrs;
  if (r.token_num_uses > 0) d["token_num_uses"] = r.token_num_uses;
  return d;
}

// Role path suffixes: word characters, '-', '.' and '/', starting and ending with a word
// character, never a "..", "//" or empty segment (stricter than Vault's unanchored regex,
// so a suffix can never climb out of auth/token/create/<role>/).
bool IsValidPathSuffix(const std::string& s) {
  if (s.size() < 3 || !IsWordChar(s.front()) || !IsWordChar(s.back())) return false;
  for (char c : s)
    if (!IsWordChar(c) && c != '-' && c != '.' && c != '/') return false;
  return s.find("..") == std::string::npos && s.find("//") == std::string::npos;
}

// ---- The backend ------------------------------------------------------------------------

class TokenBackend {
 public:
  TokenBackend(TokenStore* store, TokenBackendOptions opts) : store_(store), opts_(std::move(opts)) {}

  std::vector<Path> Paths();

 private:
  // The limits of the mount a token is (or is being) created through; a token from a login
  // is further capped by the auth method's max TTL for it (TokenEntry::backend_max_ttl).
  LeaseLimits Limits(const std::string& creation_path = "auth/token/create", int64_t backend_max_ttl = 0) const {
    LeaseLimits l = opts_.limits_for ? opts_.limits_for(creation_path)
                                     : LeaseLimits{opts_.default_lease_ttl, opts_.max_lease_ttl};
    if (backend_max_ttl > 0 && backend_max_ttl < l.max_ttl) l.max_ttl = backend_max_ttl;
    return l;
  }

  StatusOr<std::optional<TokenRole>> ReadRole(const std::string& name) const;
  StatusOr<Response> CreateToken(Request& req, const FieldData& f, bool orphan, const TokenRole* role);
  StatusOr<Response> HandleCreateAgainstRole(Request& req, const FieldData& f);
  StatusOr<Response> Lookup(const std::string& token, int64_t now);
  StatusOr<Response> RenewEntry(const TokenEntry& entry, const std::string& client_token, int64_t increment);
  StatusOr<Response> HandleRoleWrite(Request& req, const FieldData& f);
  StatusOr<Response> HandleTidy(Request& req);

  TokenStore* store_;
  TokenBackendOptions opts_;
  std::atomic<bool> tidy_running_{false};
};

StatusOr<std::optional<TokenRole>> TokenBackend::ReadRole(const std::string& name) const {
  if (!IsValidName(name)) return std::optional<TokenRole>();
  ASSIGN_OR_RETURN(auto raw, store_->RoleStorage()->Get(name));
  if (!raw) return std::optional<TokenRole>();
  ASSIGN_OR_RETURN(TokenRole role, RoleFromJson(*raw));
  role.name = name;
  return std::optional<TokenRole>(std::move(role));
}

std::vector<Field> CreateFields() {
  return {
      {"id", FieldType::kString, "Value for the token (root or sudo only)."},
      {"role_name", FieldType::kString, "Name of the role."},
      {"policies", FieldType::kStringSlice, "List of policies for the token."},
      {"meta", FieldType::kKVPairs, "Arbitrary key=value metadata to associate with the token."},
      {"metadata", FieldType::kKVPairs, "Alias of \"meta\"."},
      {"no_parent", FieldType::kBool, "Create the token with no parent (root or sudo only)."},
      {"no_default_policy", FieldType::kBool, "Do not include the default policy."},
      {"renewable", FieldType::kBool, "Allow the token to be renewed up to the max TTL.", true},
      {"ttl", FieldType::kDuration, "Time to live for this token."},
      {"lease", FieldType::kDuration, "Deprecated alias of \"ttl\"."},
      {"explicit_max_ttl", FieldType::kDuration, "Explicit max TTL of this token."},
      {"display_name", FieldType::kString, "Name to associate with this token."},
      {"num_uses", FieldType::kInt, "Max number of uses for this token."},
      {"period", FieldType::kDuration, "Renew period (root or sudo only)."},
      {"type", FieldType::kString, "Token type: only \"service\" is supported."},
      {"entity_alias", FieldType::kString, "Name of the entity alias (not supported)."},
      {"format", FieldType::kString, "Accepted for compatibility."},
  };
}

std::string DisplayNameFor(const std::string& requested) {
  // Vault: "token-" + name, every character outside [a-zA-Z0-9-] replaced by '-', one
  // trailing '-' trimmed.
  std::string full = "token-" + requested;
  for (char& c : full) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  }
  if (!full.empty() && full.back() == '-') full.pop_back();
  return full;
}

StatusOr<Response> TokenBackend::CreateToken(Request& req, const FieldData& f, bool orphan, const TokenRole* role) {
  ASSIGN_OR_RETURN(auto parent, store_->Lookup(req.client_token));
  if (!parent) return InvalidArgument("parent token lookup failed: no parent found");
  // A limited-use token could escape its limit through children.
  if (parent->num_uses > 0) return InvalidArgument("restricted use token cannot generate child tokens");
  const bool is_sudo = req.client_sudo || req.client_root;

  bool renewable = f.GetBool("renewable");
  std::string type = f.GetString("type");
  if (role != nullptr) {
    const std::string& role_type = role->token_type;
    if (role_type == "default-batch") {
      if (type.empty()) type = "batch";
    } else if (role_type == "service" || role_type == "batch") {
      type = role_type;
    } else if (role_type != "default-service" && role_type != "default") {
      return InvalidArgument("role being used for token creation contains invalid token type \"" + role_type + "\"");
    }
  }
  if (type == "batch") return InvalidArgument("batch tokens are not supported by this server");
  if (!type.empty() && type != "service") {
    return InvalidArgument("field \"type\": invalid 'token_type' value \"" + type.substr(0, 32) +
                           "\"; only \"service\" is supported");
  }

  int64_t num_uses = f.GetInt("num_uses");
  if (num_uses < 0) return InvalidArgument("number of uses cannot be negative");

  if (!f.GetString("entity_alias").empty()) {
    if (role == nullptr) return InvalidArgument("'entity_alias' is only allowed in combination with token role");
    return InvalidArgument("field \"entity_alias\": entity aliases are not supported by this server");
  }

  TokenCreateParams params;
  params.path = "auth/token/" + req.RelativePath();
  params.display_name = "token";
  params.meta = f.Has("meta") ? f.GetKVPairs("meta") : f.GetKVPairs("metadata");
  if (role != nullptr) {
    params.role = role->name;
    if (renewable && !role->renewable) renewable = false;
    // 0 means unlimited, so any role limit is stricter than none.
    if (role->token_num_uses > 0 && (num_uses == 0 || role->token_num_uses < num_uses)) {
      num_uses = role->token_num_uses;
    }
    if (!role->path_suffix.empty()) params.path += "/" + role->path_suffix;
  }
  params.num_uses = num_uses;
  if (!f.GetString("display_name").empty()) params.display_name = DisplayNameFor(f.GetString("display_name"));

  std::string id = f.GetString("id");
  if (!id.empty() && !is_sudo) return InvalidArgument("root or sudo privileges required to specify token id");
  params.id = id;

  // Policies: the same decision tree as Vault's handleCreateCommon.
  const bool no_default = f.GetBool("no_default_policy");
  std::vector<std::string> requested = f.GetStringSlice("policies");
  bool add_default = false;
  if (role != nullptr && (!role->allowed_policies.empty() || !role->disallowed_policies.empty() ||
                          !role->allowed_policies_glob.empty() || !role->disallowed_policies_glob.empty())) {
    // Roles with allowed/disallowed lists grant policies independently of the parent's.
    bool local_add_default = !no_default && !role->token_no_default_policy &&
                             !Contains(role->disallowed_policies, "default") &&
                             !ContainsGlob(role->disallowed_policies_glob, "default");
    std::vector<std::string> final_policies;
    if (!requested.empty()) final_policies = SanitizePolicies(requested, local_add_default);
    if (!role->allowed_policies.empty() || !role->allowed_policies_glob.empty()) {
      std::vector<std::string> allowed = SanitizePolicies(role->allowed_policies, local_add_default);
      if (final_policies.empty()) {
        final_policies = allowed;
      } else {
        std::vector<std::string> allowed_glob = SanitizePolicies(role->allowed_policies_glob, false);
        for (const auto& p : final_policies) {
          if (!Contains(allowed, p) && !ContainsGlob(allowed_glob, p)) {
            return InvalidArgument("token policies (" + GoQuotedList(final_policies) +
                                   ") must be subset of the role's allowed policies (" + GoQuotedList(allowed) +
                                   ") or glob policies (" + GoQuotedList(allowed_glob) + ")");
          }
        }
      }
    } else if (final_policies.empty()) {
      final_policies = SanitizePolicies(parent->policies, local_add_default);
    }
    if (!role->disallowed_policies.empty() || !role->disallowed_policies_glob.empty()) {
      std::vector<std::string> disallowed = RemoveDuplicates(role->disallowed_policies);
      std::vector<std::string> disallowed_glob = RemoveDuplicates(role->disallowed_policies_glob);
      for (const auto& p : final_policies) {
        if (Contains(disallowed, p) || ContainsGlob(disallowed_glob, p)) {
          return InvalidArgument("token policy \"" + p + "\" is disallowed by this role");
        }
      }
    }
    requested = std::move(final_policies);
  } else if (requested.empty()) {
    // Inherit the parent's policies ("default" only if the parent has it).
    requested = SanitizePolicies(parent->policies, false);
  } else if (!is_sudo) {
    std::vector<std::string> input = SanitizePolicies(requested, false);
    std::vector<std::string> parent_policies = SanitizePolicies(parent->policies, false);
    for (const auto& p : input) {
      if (!Contains(parent_policies, p)) return InvalidArgument("child policies must be subset of parent");
    }
    add_default = !no_default && Contains(parent->policies, "default");
  } else {
    add_default = !no_default;
  }
  params.policies = SanitizePolicies(requested, add_default);
  if (no_default) {
    params.policies.erase(std::remove(params.policies.begin(), params.policies.end(), "default"),
                          params.policies.end());
  }
  for (const char* internal : {"response-wrapping", "control-group"}) {
    if (Contains(params.policies, internal)) {
      return InvalidArgument(std::string("cannot assign policy \"") + internal + "\"");
    }
  }
  if (Contains(params.policies, "root") && !parent->IsRoot()) {
    return InvalidArgument("root tokens may not be created without parent token being root");
  }

  // Orphans.
  bool make_orphan = false;
  if (role != nullptr) {
    make_orphan = role->orphan;
    params.bound_cidrs = role->token_bound_cidrs;
  } else if (f.GetBool("no_parent")) {
    if (!is_sudo) return InvalidArgument("root or sudo privileges required to create orphan token");
    make_orphan = true;
  } else {
    make_orphan = orphan;
  }
  if (!make_orphan) {
    params.entity_id = parent->entity_id;
    // A child keeps its parent's CIDR binding unless a role (which may widen it) decides.
    if (role == nullptr) params.bound_cidrs = parent->bound_cidrs;
  }

  // TTLs.
  std::vector<std::string> warnings;
  int64_t explicit_max_ttl = f.GetDurationSeconds("explicit_max_ttl");
  if (explicit_max_ttl < 0) return InvalidArgument("explicit_max_ttl must be positive");
  int64_t period = f.GetDurationSeconds("period");
  if (period < 0) return InvalidArgument("period must be positive");
  if (period > 0 && !is_sudo) return InvalidArgument("root or sudo privileges required to create periodic token");
  int64_t ttl = f.Has("ttl") ? f.GetDurationSeconds("ttl") : f.GetDurationSeconds("lease");
  if (ttl < 0) return InvalidArgument(f.Has("ttl") ? "ttl must be positive" : "lease must be positive");
  if (role != nullptr) {
    if (role->token_explicit_max_ttl != 0) {
      if (explicit_max_ttl == 0) {
        explicit_max_ttl = role->token_explicit_max_ttl;
      } else {
        explicit_max_ttl = std::min(explicit_max_ttl, role->token_explicit_max_ttl);
        warnings.push_back(
            "Explicit max TTL specified both during creation call and in role; using the lesser value of " +
            std::to_string(explicit_max_ttl) + " seconds");
      }
    }
    if (role->token_period != 0) {
      if (period == 0) {
        period = role->token_period;
      } else {
        period = std::min(period, role->token_period);
        warnings.push_back("Period specified both during creation call and in role; using the lesser value of " +
                           std::to_string(period) + " seconds");
      }
    }
  }
  int64_t now = store_->Now();
  // A root token without a TTL or period never expires; everything else gets one.
  if (period > 0 || ttl > 0 || !Contains(params.policies, "root")) {
    ASSIGN_OR_RETURN(TtlResult computed, CalculateTtl(Limits(), 0, ttl, period, explicit_max_ttl, now, now));
    ttl = computed.ttl;
    for (auto& w : computed.warnings) warnings.push_back(std::move(w));
  }
  if (ttl == 0 && explicit_max_ttl > 0) ttl = explicit_max_ttl;  // root tokens too
  if (ttl == 0) {
    if (parent->ttl != 0) return InvalidArgument("expiring root tokens cannot create non-expiring root tokens");
    renewable = false;
    params.bound_cidrs.clear();
  }
  params.ttl = ttl;
  params.explicit_max_ttl = explicit_max_ttl;
  params.period = period;
  params.renewable = renewable;

  ASSIGN_OR_RETURN(CreatedToken created, store_->Create(params, make_orphan ? nullptr : &*parent));

  Response resp;
  resp.auth = AuthBlock(created.entry, created.token, created.entry.ttl, renewable);
  resp.warnings = std::move(warnings);
  if (opts_.policy_exists) {
    for (const auto& p : created.entry.policies) {
      if (p != "root" && !opts_.policy_exists(p)) resp.warnings.push_back("Policy \"" + p + "\" does not exist");
    }
  }
  return resp;
}

StatusOr<Response> TokenBackend::HandleCreateAgainstRole(Request& req, const FieldData& f) {
  std::string name = f.GetString("role_name");
  ASSIGN_OR_RETURN(auto role, ReadRole(name));
  if (!role) return InvalidArgument("unknown role " + name.substr(0, 64));
  return CreateToken(req, f, false, &*role);
}

StatusOr<Response> TokenBackend::Lookup(const std::string& token, int64_t now) {
  ASSIGN_OR_RETURN(auto entry, store_->Lookup(token));
  if (!entry) return PermissionDenied("bad token");
  return Response::WithData(LookupData(*entry, token, now));
}

StatusOr<Response> TokenBackend::RenewEntry(const TokenEntry& entry, const std::string& client_token,
                                            int64_t increment) {
  ASSIGN_OR_RETURN(RenewResult renewed, store_->Renew(entry, increment, Limits(entry.path, entry.backend_max_ttl)));
  Response resp;
  resp.auth = AuthBlock(renewed.entry, client_token, renewed.ttl, renewed.entry.renewable);
  resp.warnings = std::move(renewed.warnings);
  return resp;
}

StatusOr<Response> TokenBackend::HandleRoleWrite(Request& req, const FieldData& f) {
  std::string name = f.GetString("role_name");
  if (name.empty()) return InvalidArgument("role name cannot be empty");
  if (!IsValidName(name)) {
    return InvalidArgument("field \"role_name\": \"" + name.substr(0, 64) +
                           "\" is not a valid role name (letters, digits, '_', '-' and '.', starting and ending "
                           "with a letter, digit or '_')");
  }
  ASSIGN_OR_RETURN(auto existing, ReadRole(name));
  // An update of a role that does not exist yet is a creation: defaults apply.
  bool creating = !existing.has_value();
  TokenRole role = creating ? TokenRole{} : *existing;
  role.name = name;
  std::vector<std::string> warnings;

  if (f.Has("orphan")) role.orphan = f.GetBool("orphan");
  if (f.Has("renewable") || creating) role.renewable = f.GetBool("renewable");
  if (f.Has("path_suffix")) {
    std::string suffix = f.GetString("path_suffix");
    if (!suffix.empty() && !IsValidPathSuffix(suffix)) {
      if (suffix.find("..") != std::string::npos) {
        return InvalidArgument("error registering path suffix: path cannot contain parent references");
      }
      return InvalidArgument("given role path suffix contains invalid characters; must match \\w[\\w-.]+\\w");
    }
    role.path_suffix = suffix;
  }
  if (f.Has("allowed_policies")) {
    role.allowed_policies = SanitizePolicies(f.GetStringSlice("allowed_policies"), false);
  }
  if (f.Has("disallowed_policies")) {
    role.disallowed_policies = RemoveDuplicates(f.GetStringSlice("disallowed_policies"));
  }
  if (f.Has("allowed_policies_glob")) {
    role.allowed_policies_glob = SanitizePolicies(f.GetStringSlice("allowed_policies_glob"), false);
  }
  if (f.Has("disallowed_policies_glob")) {
    role.disallowed_policies_glob = RemoveDuplicates(f.GetStringSlice("disallowed_policies_glob"));
  }
  if (f.Has("token_type")) {
    std::string type = f.GetString("token_type");
    if (type != "service" && type != "batch" && type != "default-service" && type != "default-batch") {
      return InvalidArgument("field \"token_type\": invalid 'token_type' value \"" + type.substr(0, 32) + "\"");
    }
    role.token_type = type;
  }
  if (f.Has("token_no_default_policy")) role.token_no_default_policy = f.GetBool("token_no_default_policy");

  // token_ fields win over their deprecated twins; the deprecated value is kept only when it
  // alone was given, so a read returns what was written.
  if (f.Has("token_period")) {
    role.token_period = f.GetDurationSeconds("token_period");
    if (f.Has("period")) {
      warnings.push_back("Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value");
    }
    role.period = 0;
  } else if (f.Has("period")) {
    role.period = role.token_period = f.GetDurationSeconds("period");
  }
  if (role.token_period < 0) return InvalidArgument("error parsing role fields: 'token_period' cannot be negative");

  if (f.Has("token_bound_cidrs")) {
    std::vector<std::string> cidrs = TrimAll(f.GetStringSlice("token_bound_cidrs"));
    RETURN_IF_ERROR(CheckAddrs("token_bound_cidrs", cidrs));
    role.token_bound_cidrs = cidrs;
    if (f.Has("bound_cidrs")) {
      warnings.push_back(
          "Both 'token_bound_cidrs' and deprecated 'bound_cidrs' value supplied, ignoring the deprecated value");
    }
    role.bound_cidrs.clear();
  } else if (f.Has("bound_cidrs")) {
    std::vector<std::string> cidrs = TrimAll(f.GetStringSlice("bound_cidrs"));
    RETURN_IF_ERROR(CheckAddrs("bound_cidrs", cidrs));
    role.bound_cidrs = role.token_bound_cidrs = cidrs;
  }

  if (f.Has("token_explicit_max_ttl")) {
    role.token_explicit_max_ttl = f.GetDurationSeconds("token_explicit_max_ttl");
    if (f.Has("explicit_max_ttl")) {
      warnings.push_back(
          "Both 'token_explicit_max_ttl' and deprecated 'explicit_max_ttl' value supplied, ignoring the deprecated "
          "value");
    }
    role.explicit_max_ttl = 0;
  } else if (f.Has("explicit_max_ttl")) {
    role.explicit_max_ttl = role.token_explicit_max_ttl = f.GetDurationSeconds("explicit_max_ttl");
  }
  if (role.token_explicit_max_ttl < 0) {
    return InvalidArgument("error parsing role fields: 'token_explicit_max_ttl' cannot be negative");
  }
  if (role.token_explicit_max_ttl > opts_.max_lease_ttl) {
    warnings.push_back("Given explicit max TTL of " + std::to_string(role.token_explicit_max_ttl) +
                       " is greater than system/mount allowed value of " + std::to_string(opts_.max_lease_ttl) +
                       " seconds; until this is fixed attempting to create tokens against this role will result in "
                       "an error");
  }

  if (f.Has("token_num_uses")) role.token_num_uses = f.GetInt("token_num_uses");
  if (role.token_num_uses < 0) return InvalidArgument("error parsing role fields: 'token_num_uses' cannot be negative");

  if (role.token_type == "batch") {
    if (!role.orphan) {
      return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
    }
    if (role.token_period != 0) {
      return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate periodic tokens");
    }
    if (role.renewable) {
      return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate renewable tokens");
    }
    if (role.token_explicit_max_ttl != 0) {
      return InvalidArgument(
          "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL");
    }
  }
  if (f.Has("allowed_entity_aliases")) {
    role.allowed_entity_aliases = RemoveDuplicates(f.GetStringSlice("allowed_entity_aliases"));
  }

  RETURN_IF_ERROR(store_->RoleStorage()->Put(name, Serialize(RoleToJson(role))));
  Response resp;
  resp.warnings = std::move(warnings);
  return resp;
}

StatusOr<Response> TokenBackend::HandleTidy(Request& req) {
  if (tidy_running_.exchange(true)) {
    Response resp;
    resp.warnings.push_back("Tidy operation already in progress.");
    return resp;
  }
  // Runs inline: the request returns once the tidy is done, with Vault's 202 answer.
  auto counts = store_->Tidy();
  tidy_running_.store(false);
  if (!counts.ok()) return counts.status();
  json body = {{"request_id", req.id},
               {"lease_id", ""},
               {"renewable", false},
               {"lease_duration", 0},
               {"data", nullptr},
               {"wrap_info", nullptr},
               {"warnings",
                {"Tidy operation successfully started. Any information from the operation will be printed to "
                 "Vault's server logs."}},
               {"auth", nullptr},
               {"mount_type", req.mount_type}};
  return Response::Raw(202, std::move(body));
}

// Registers `handler` for both write operations: POST/PUT arrive as update (or as create when
// a path has an existence check that says the target is new).
void OnWrite(Path& p, logical::Handler handler) {
  p.operations[Operation::kCreate] = handler;
  p.operations[Operation::kUpdate] = std::move(handler);
}

std::vector<Path> TokenBackend::Paths() {
  std::vector<Path> paths;
  auto add = [&paths](Path p) { paths.push_back(std::move(p)); };

  {
    Path p;
    p.pattern = "roles/?";
    p.help_synopsis = "List the token roles.";
    p.operations[Operation::kList] = [this](Request&, const FieldData&) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->RoleStorage()->List(""));
      if (keys.empty()) return NotFound();
      return Response::WithData({{"keys", keys}});
    };
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "roles/{role_name}";
    p.fields = {
        {"role_name", FieldType::kString, "Name of the role."},
        {"allowed_policies", FieldType::kStringSlice, "Policies tokens of this role may have."},
        {"disallowed_policies", FieldType::kStringSlice, "Policies tokens of this role may not have."},
        {"allowed_policies_glob", FieldType::kStringSlice, "Glob patterns of allowed policies."},
        {"disallowed_policies_glob", FieldType::kStringSlice, "Glob patterns of disallowed policies."},
        {"orphan", FieldType::kBool, "Tokens created against this role are orphans."},
        {"renewable", FieldType::kBool, "Tokens created against this role may be renewed.", true},
        {"path_suffix", FieldType::kString, "Suffix appended to the creation path of the tokens."},
        {"period", FieldType::kDuration, "Deprecated: use token_period."},
        {"explicit_max_ttl", FieldType::kDuration, "Deprecated: use token_explicit_max_ttl."},
        {"bound_cidrs", FieldType::kStringSlice, "Deprecated: use token_bound_cidrs."},
        {"allowed_entity_aliases", FieldType::kStringSlice, "Allowed entity aliases (stored only)."},
        {"token_period", FieldType::kDuration, "Period of the tokens (periodic tokens)."},
        {"token_explicit_max_ttl", FieldType::kDuration, "Hard lifetime limit of the tokens."},
        {"token_type", FieldType::kString, "service, batch, default-service or default-batch."},
        {"token_no_default_policy", FieldType::kBool, "Do not add the default policy."},
        {"token_num_uses", FieldType::kInt, "Max number of uses of the tokens (0: unlimited)."},
        {"token_bound_cidrs", FieldType::kStringSlice, "CIDR blocks the tokens may be used from."},
    };
    p.help_synopsis = "Create, read, update or delete a token role.";
    p.help_description =
        "Tokens created with auth/token/create/<role> take the role's policies, orphan, renewable, period, "
        "explicit max TTL, number of uses and bound CIDRs.";
    p.existence_check = [this](Request&, const FieldData& f) -> StatusOr<bool> {
      ASSIGN_OR_RETURN(auto role, ReadRole(f.GetString("role_name")));
      return role.has_value();
    };
    p.operations[Operation::kRead] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(auto role, ReadRole(f.GetString("role_name")));
      if (!role) return NotFound();
      return Response::WithData(RoleReadData(*role));
    };
    OnWrite(p, [this](Request& req, const FieldData& f) { return HandleRoleWrite(req, f); });
    p.operations[Operation::kDelete] = [this](Request&, const FieldData& f) -> StatusOr<Response> {
      std::string name = f.GetString("role_name");
      if (IsValidName(name)) RETURN_IF_ERROR(store_->RoleStorage()->Delete(name));
      return Response();
    };
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "accessors/?";
    p.help_synopsis = "List the accessors of all tokens (sudo).";
    p.operations[Operation::kList] = [this](Request&, const FieldData&) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->ListAccessors());
      if (keys.empty()) return NotFound();
      return Response::WithData({{"keys", keys}});
    };
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "create-orphan";
    p.fields = CreateFields();
    p.help_synopsis = "Create an orphan token: no parent, so it outlives its creator's revocation.";
    OnWrite(p, [this](Request& req, const FieldData& f) { return CreateToken(req, f, true, nullptr); });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "create/{role_name}";
    p.fields = CreateFields();
    p.help_synopsis = "Create a token with the settings of a token role.";
    OnWrite(p, [this](Request& req, const FieldData& f) { return HandleCreateAgainstRole(req, f); });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "create";
    p.fields = CreateFields();
    // The role only ever comes from the URL: a body role_name is ignored (and reported), as in
    // Vault, so the ACL on auth/token/create/<role> cannot be sidestepped.
    p.fields.erase(
        std::remove_if(p.fields.begin(), p.fields.end(), [](const Field& field) { return field.name == "role_name"; }),
        p.fields.end());
    p.help_synopsis = "Create a child token of the calling token.";
    p.help_description =
        "Policies default to the parent's and must be a subset of them unless the caller has sudo; \"default\" is "
        "added unless no_default_policy is set.";
    OnWrite(p, [this](Request& req, const FieldData& f) { return CreateToken(req, f, false, nullptr); });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "lookup";
    p.fields = {{"token", FieldType::kString, "Token to look up."}};
    p.help_synopsis = "Look up the properties of a token.";
    auto handler = [this](Request& req, const FieldData& f) -> StatusOr<Response> {
      std::string token = f.GetString("token");
      if (token.empty()) token = req.client_token;
      if (token.empty()) return InvalidArgument("missing token ID");
      return Lookup(token, store_->Now());
    };
    p.operations[Operation::kRead] = handler;
    OnWrite(p, handler);
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "lookup-self";
    p.fields = {{"token", FieldType::kString, "Unused: the calling token is looked up."}};
    p.help_synopsis = "Look up the properties of the calling token.";
    auto handler = [this](Request& req, const FieldData&) -> StatusOr<Response> {
      if (req.client_token.empty()) return InvalidArgument("missing token ID");
      return Lookup(req.client_token, store_->Now());
    };
    p.operations[Operation::kRead] = handler;
    OnWrite(p, handler);
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "lookup-accessor";
    p.fields = {{"accessor", FieldType::kString, "Accessor of the token to look up."}};
    p.help_synopsis = "Look up the properties of a token by its accessor.";
    OnWrite(p, [this](Request&, const FieldData& f) -> StatusOr<Response> {
      std::string accessor = f.GetString("accessor");
      if (accessor.empty()) return InvalidArgument("missing accessor");
      ASSIGN_OR_RETURN(auto entry, store_->LookupByAccessor(accessor));
      if (!entry) return InvalidArgument("invalid accessor");
      return Response::WithData(LookupData(*entry, "", store_->Now()));
    });
    add(std::move(p));
  }
  std::vector<Field> renew_fields = {
      {"token", FieldType::kString, "Token to renew."},
      {"increment", FieldType::kDuration, "The requested lease extension.", 0},
  };
  {
    Path p;
    p.pattern = "renew";
    p.fields = renew_fields;
    p.help_synopsis = "Renew a token's lease.";
    OnWrite(p, [this](Request&, const FieldData& f) -> StatusOr<Response> {
      std::string token = f.GetString("token");
      if (token.empty()) return InvalidArgument("missing token ID");
      ASSIGN_OR_RETURN(auto entry, store_->Lookup(token));
      if (!entry) return InvalidArgument("token not found");
      return RenewEntry(*entry, token, f.GetDurationSeconds("increment"));
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "renew-self";
    p.fields = renew_fields;
    p.help_synopsis = "Renew the calling token's lease.";
    OnWrite(p, [this](Request& req, const FieldData& f) -> StatusOr<Response> {
      if (req.client_token.empty()) return InvalidArgument("missing token ID");
      ASSIGN_OR_RETURN(auto entry, store_->Lookup(req.client_token));
      if (!entry) return InvalidArgument("token not found");
      return RenewEntry(*entry, req.client_token, f.GetDurationSeconds("increment"));
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "renew-accessor";
    p.fields = {{"accessor", FieldType::kString, "Accessor of the token to renew."},
                {"increment", FieldType::kDuration, "The requested lease extension.", 0}};
    p.help_synopsis = "Renew a token's lease by its accessor.";
    OnWrite(p, [this](Request&, const FieldData& f) -> StatusOr<Response> {
      std::string accessor = f.GetString("accessor");
      if (accessor.empty()) return InvalidArgument("missing accessor");
      ASSIGN_OR_RETURN(auto entry, store_->LookupByAccessor(accessor));
      if (!entry) return InvalidArgument("invalid accessor");
      return RenewEntry(*entry, "", f.GetDurationSeconds("increment"));
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "revoke";
    p.fields = {{"token", FieldType::kString, "Token to revoke, with all its children."}};
    p.help_synopsis = "Revoke a token and all its children.";
    OnWrite(p, [this](Request&, const FieldData& f) -> StatusOr<Response> {
      std::string token = f.GetString("token");
      if (token.empty()) return InvalidArgument("missing token ID");
      ASSIGN_OR_RETURN(auto entry, store_->Lookup(token));
      if (entry) RETURN_IF_ERROR(store_->RevokeTree(entry->id_hash));
      return Response();
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "revoke-self";
    p.help_synopsis = "Revoke the calling token and all its children.";
    OnWrite(p, [this](Request& req, const FieldData&) -> StatusOr<Response> {
      ASSIGN_OR_RETURN(auto entry, store_->Lookup(req.client_token));
      if (entry) RETURN_IF_ERROR(store_->RevokeTree(entry->id_hash));
      return Response();
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "revoke-accessor";
    p.fields = {{"accessor", FieldType::kString, "Accessor of the token to revoke."}};
    p.help_synopsis = "Revoke a token and all its children by the token's accessor.";
    OnWrite(p, [this](Request&, const FieldData& f) -> StatusOr<Response> {
      std::string accessor = f.GetString("accessor");
      if (accessor.empty()) return InvalidArgument("missing accessor");
      ASSIGN_OR_RETURN(auto entry, store_->LookupByAccessor(accessor));
      if (!entry) {
        Response resp;
        resp.warnings.push_back("No token found with this accessor");
        return resp;
      }
      RETURN_IF_ERROR(store_->RevokeTree(entry->id_hash));
      return Response();
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "revoke-orphan";
    p.fields = {{"token", FieldType::kString, "Token to revoke; its children become orphans."}};
    p.help_synopsis = "Revoke a token but not its children, which become orphans (sudo).";
    OnWrite(p, [this](Request& req, const FieldData& f) -> StatusOr<Response> {
      std::string token = f.GetString("token");
      if (token.empty()) return InvalidArgument("missing token ID");
      if (!req.client_sudo && !req.client_root) {
        return InvalidArgument("root or sudo privileges required to revoke and orphan");
      }
      ASSIGN_OR_RETURN(auto entry, store_->Lookup(token));
      if (!entry) return InvalidArgument("token to revoke not found");
      RETURN_IF_ERROR(store_->RevokeOrphan(entry->id_hash));
      return Response();
    });
    add(std::move(p));
  }
  {
    Path p;
    p.pattern = "tidy";
    p.help_synopsis = "Clean up expired tokens and dangling token indexes.";
    OnWrite(p, [this](Request& req, const FieldData&) { return HandleTidy(req); });
    add(std::move(p));
  }
  return paths;
}

// The FrameworkBackend owns its paths, whose handlers point at the TokenBackend: keep both
// alive together.
class OwningTokenBackend : public logical::Backend {
 public:
  OwningTokenBackend(TokenStore* store, TokenBackendOptions opts)
      : impl_(std::make_unique<TokenBackend>(store, std::move(opts))),
        framework_(impl_->Paths(),
                   "The token store: creates, looks up, renews and revokes service tokens, and manages token "
                   "roles.") {}

  StatusOr<Response> HandleRequest(Request& req) override { return framework_.HandleRequest(req); }
  StatusOr<std::optional<bool>> ExistenceCheck(Request& req) override { return framework_.ExistenceCheck(req); }

 private:
  std::unique_ptr<TokenBackend> impl_;
  logical::FrameworkBackend framework_;
};

}  // namespace

std::unique_ptr<logical::Backend> NewTokenBackend(TokenStore* store, TokenBackendOptions opts) {
  return std::make_unique<OwningTokenBackend>(store, std::move(opts));
}

}  // namespace coffer::core
