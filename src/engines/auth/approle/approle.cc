// AppRole: the helpers, records and per-backend state shared by the paths (approle.h).
#include "engines/auth/approle/approle.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include "base/cidr.h"
#include "base/encoding.h"
#include "base/time_format.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace coffer::approle {

using logical::FieldData;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr size_t kSaltBytes = 32;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Readers of stored records: false when the member is missing or of the wrong type.
bool ReadString(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

bool ReadInt(const json& j, const char* name, int64_t* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return false;
  *out = it->get<int64_t>();
  return true;
}

bool ReadBool(const json& j, const char* name, bool* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_boolean()) return false;
  *out = it->get<bool>();
  return true;
}

bool ReadStrings(const json& j, const char* name, std::vector<std::string>* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) return false;
  out->clear();
  for (const auto& v : *it) {
    if (!v.is_string()) return false;
    out->push_back(v.get<std::string>());
  }
  return true;
}

bool ReadStringMap(const json& j, const char* name, std::map<std::string, std::string>* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_object()) return false;
  out->clear();
  for (auto m = it->begin(); m != it->end(); ++m) {
    if (!m.value().is_string()) return false;
    (*out)[m.key()] = m.value().get<std::string>();
  }
  return true;
}

// Go's %q of a []string: ["a" "b"].
std::string GoQuotedList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ' ';
    out += json(v[i]).dump();
  }
  return out + "]";
}

// Splits a normalized block "addr/prefix".
bool SplitBlock(const std::string& block, std::string* addr, int* prefix) {
  size_t slash = block.find('/');
  if (slash == std::string::npos) return false;
  *addr = block.substr(0, slash);
  std::string_view bits(block.data() + slash + 1, block.size() - slash - 1);
  auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), *prefix);
  return ec == std::errc() && ptr == bits.data() + bits.size();
}

// Vault's ParseKeyValues: comma-separated key=value pairs, lower-cased, trimmed.
Status ParseKeyValues(std::string_view input, std::map<std::string, std::string>* out) {
  size_t start = 0;
  while (start <= input.size()) {
    size_t comma = input.find(',', start);
    if (comma == std::string_view::npos) comma = input.size();
    std::string pair = AsciiLower(Trim(input.substr(start, comma - start)));
    start = comma + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string::npos || pair.find('=', eq + 1) != std::string::npos) {
      return InvalidArgument("failed to parse the input: invalid <key,value> format");
    }
    std::string key = Trim(std::string_view(pair).substr(0, eq));
    std::string value = Trim(std::string_view(pair).substr(eq + 1));
    if (key.empty() || value.empty()) {
      return InvalidArgument("failed to parse the input: invalid <key,value> pair: key: " + json(key).dump() +
                             " value: " + json(value).dump());
    }
    (*out)[key] = value;
  }
  return OkStatus();
}

bool StringObject(const json& j, std::map<std::string, std::string>* out) {
  if (!j.is_object()) return false;
  std::map<std::string, std::string> m;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) return false;
    m[it.key()] = it.value().get<std::string>();
  }
  *out = std::move(m);
  return true;
}

}  // namespace

// ---- Store -------------------------------------------------------------------------------------

UnixNanos Store::Now() const {
  auto now = clock_ ? clock_() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
}

StatusOr<const SecretBytes*> Store::Salt(logical::Storage& storage) {
  if (salt_ready_.load(std::memory_order_acquire)) return &salt_;
  std::lock_guard lock(salt_mu_);
  if (salt_ready_.load(std::memory_order_relaxed)) return &salt_;
  ASSIGN_OR_RETURN(std::optional<std::string> stored, storage.Get(kSaltKey));
  if (stored) {
    auto raw = HexDecode(*stored);
    if (!raw.ok() || raw->size() != kSaltBytes) return DataLoss("approle: the stored salt is malformed");
    salt_ = ToSecretBytes(*raw);
    SecureWipe(raw->data(), raw->size());
  } else {
    SecretBytes fresh = crypto::RandomSecret(kSaltBytes);
    std::string hex = HexEncode(AsStringView(fresh));
    Status put = storage.Put(kSaltKey, hex);
    SecureWipe(hex.data(), hex.size());
    RETURN_IF_ERROR(put);
    salt_ = std::move(fresh);
  }
  salt_ready_.store(true, std::memory_order_release);
  return &salt_;
}

StatusOr<std::string> Store::Hmac(logical::Storage& storage, std::string_view value) {
  ASSIGN_OR_RETURN(const SecretBytes* salt, Salt(storage));
  return HexEncode(crypto::HmacSha256(AsStringView(*salt), value));
}

std::shared_mutex& Store::RoleLock(std::string_view name) {
  return role_locks_[std::hash<std::string_view>{}(name) % role_locks_.size()];
}

std::shared_mutex& Store::SecretLock(std::string_view secret_id_hmac) {
  return secret_locks_[std::hash<std::string_view>{}(secret_id_hmac) % secret_locks_.size()];
}

// ---- Records -----------------------------------------------------------------------------------

std::string RoleKey(std::string_view lower_name) { return std::string(kRolePrefix) + std::string(lower_name); }

std::string SecretIdKey(std::string_view role_name_hmac, std::string_view secret_id_hmac) {
  return std::string(kSecretIdPrefix) + std::string(role_name_hmac) + "/" + std::string(secret_id_hmac);
}

std::string EncodeRole(const Role& r) {
  json j = {{"name", r.name},
            {"role_id", r.role_id},
            {"bind_secret_id", r.bind_secret_id},
            {"secret_id_bound_cidrs", r.secret_id_bound_cidrs},
            {"secret_id_num_uses", r.secret_id_num_uses},
            {"secret_id_ttl", r.secret_id_ttl},
            {"local_secret_ids", r.local_secret_ids},
            {"policies", r.policies},
            {"period", r.period},
            {"token", r.token.ToStorage()}};
  return j.dump();
}

StatusOr<std::optional<Role>> LoadRole(logical::Storage& storage, std::string_view lower_name) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(RoleKey(lower_name)));
  if (!raw) return std::optional<Role>();
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  Role r;
  if (!j.is_object() || !ReadString(j, "name", &r.name) || !ReadString(j, "role_id", &r.role_id) ||
      !ReadBool(j, "bind_secret_id", &r.bind_secret_id) ||
      !ReadStrings(j, "secret_id_bound_cidrs", &r.secret_id_bound_cidrs) ||
      !ReadInt(j, "secret_id_num_uses", &r.secret_id_num_uses) || !ReadInt(j, "secret_id_ttl", &r.secret_id_ttl) ||
      !ReadBool(j, "local_secret_ids", &r.local_secret_ids) || !ReadStrings(j, "policies", &r.policies) ||
      !ReadInt(j, "period", &r.period) || !j.contains("token") || !j["token"].is_object()) {
    return DataLoss("approle: the stored role is malformed");
  }
  r.token = logical::TokenFields::FromStorage(j["token"]);
  return std::optional<Role>(std::move(r));
}

std::string EncodeSecretId(const SecretIdEntry& e) {
  json j = {{"secret_id_accessor", e.accessor},
            {"secret_id_num_uses", e.num_uses},
            {"secret_id_ttl", e.ttl},
            {"creation_time", e.creation_time},
            {"expiration_time", e.expiration_time},
            {"last_updated_time", e.last_updated_time},
            {"metadata", e.metadata},
            {"cidr_list", e.cidr_list},
            {"token_bound_cidrs", e.token_bound_cidrs}};
  return j.dump();
}

StatusOr<std::optional<SecretIdEntry>> LoadSecretId(logical::Storage& storage, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(key));
  if (!raw) return std::optional<SecretIdEntry>();
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  SecretIdEntry e;
  if (!j.is_object() || !ReadString(j, "secret_id_accessor", &e.accessor) ||
      !ReadInt(j, "secret_id_num_uses", &e.num_uses) || !ReadInt(j, "secret_id_ttl", &e.ttl) ||
      !ReadInt(j, "creation_time", &e.creation_time) || !ReadInt(j, "expiration_time", &e.expiration_time) ||
      !ReadInt(j, "last_updated_time", &e.last_updated_time) || !ReadStringMap(j, "metadata", &e.metadata) ||
      !ReadStrings(j, "cidr_list", &e.cidr_list) || !ReadStrings(j, "token_bound_cidrs", &e.token_bound_cidrs)) {
    return DataLoss("approle: a stored secret ID entry is malformed");
  }
  return std::optional<SecretIdEntry>(std::move(e));
}

std::string EncodeAccessor(const AccessorEntry& e) {
  return json{{"secret_id_hmac", e.secret_id_hmac}, {"role_name_hmac", e.role_name_hmac}}.dump();
}

StatusOr<std::optional<AccessorEntry>> LoadAccessor(logical::Storage& storage, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(key));
  if (!raw) return std::optional<AccessorEntry>();
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  AccessorEntry e;
  if (!j.is_object() || !ReadString(j, "secret_id_hmac", &e.secret_id_hmac) ||
      !ReadString(j, "role_name_hmac", &e.role_name_hmac)) {
    return DataLoss("approle: a stored secret ID accessor entry is malformed");
  }
  return std::optional<AccessorEntry>(std::move(e));
}

StatusOr<std::optional<std::string>> LookupRoleId(Store& store, logical::Storage& storage, std::string_view role_id) {
  ASSIGN_OR_RETURN(std::string h, store.Hmac(storage, role_id));
  ASSIGN_OR_RETURN(std::optional<std::string> raw, storage.Get(kRoleIdPrefix + h));
  if (!raw) return std::optional<std::string>();
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  std::string name;
  if (!j.is_object() || !ReadString(j, "name", &name))
    return DataLoss("approle: a stored role_id index entry is malformed");
  return std::optional<std::string>(std::move(name));
}

bool HasConstraint(const Role& role) {
  return role.bind_secret_id || !role.secret_id_bound_cidrs.empty() || !role.token.bound_cidrs.empty();
}

// ---- Helpers -----------------------------------------------------------------------------------

StatusOr<logical::Storage*> StorageOf(Request& req) {
  if (req.storage == nullptr) return InternalError("approle: request has no storage view");
  return req.storage;
}

StatusOr<std::string> RoleNameOf(const FieldData& fields) {
  std::string name = fields.GetString("role_name");
  bool valid = !name.empty() && IsWordChar(name.front()) && IsWordChar(name.back());
  for (char c : name) valid = valid && (IsWordChar(c) || c == '-' || c == '.');
  if (!valid) return NotFound("unsupported path");
  if (name.size() > kMaxHmacInputLength) {
    return InvalidArgument("role_name is longer than maximum of " + std::to_string(kMaxHmacInputLength) + " bytes");
  }
  return AsciiLower(std::move(name));
}

StatusOr<std::vector<std::string>> ParseCidrs(const std::vector<std::string>& blocks, const std::string& field,
                                              const std::string& vault_text) {
  std::vector<std::string> out;
  for (const auto& b : blocks) {
    auto n = NormalizeCidr(Trim(b));
    if (!n.ok()) return InvalidArgument(vault_text + ": field \"" + field + "\": " + n.status().message());
    if (std::find(out.begin(), out.end(), *n) == out.end()) out.push_back(*n);
  }
  return out;
}

Status CheckCidrSubset(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
  if (inner.empty() || outer.empty()) return OkStatus();
  for (const auto& block : inner) {
    std::string addr;
    int prefix = 0;
    bool contained = false;
    if (SplitBlock(block, &addr, &prefix)) {
      for (const auto& o : outer) {
        std::string o_addr;
        int o_prefix = 0;
        if (SplitBlock(o, &o_addr, &o_prefix) && o_prefix <= prefix && CidrContains(o, addr)) {
          contained = true;
          break;
        }
      }
    }
    if (!contained) {
      return InvalidArgument("failed to verify subset relationship between CIDR blocks on the role " +
                             GoQuotedList(outer) + " and CIDR blocks on the secret ID " + GoQuotedList(inner));
    }
  }
  return OkStatus();
}

std::string RemoteIp(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    size_t close = remote.find(']');
    return std::string(remote.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  size_t colon = remote.find(':');
  if (colon != std::string_view::npos && remote.find(':', colon + 1) == std::string_view::npos) {
    return std::string(remote.substr(0, colon));
  }
  return std::string(remote);
}

std::string FormatTime(UnixNanos t) {
  if (t == 0) return "0001-01-01T00:00:00Z";
  int64_t secs = t / kNanosPerSecond;
  int64_t nanos = t % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  std::string out = FormatRfc3339(secs);
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out.insert(out.size() - 1, f);
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> ParseMetadata(const json& raw) {
  std::map<std::string, std::string> out;
  auto fail = [](const std::string& why) { return InvalidArgument("failed to parse metadata: " + why); };
  if (raw.is_null()) return out;
  if (raw.is_object()) {
    if (!StringObject(raw, &out)) return fail("every metadata value must be a string");
  } else if (raw.is_string()) {
    std::string input = Trim(raw.get<std::string>());
    if (input.empty()) return out;
    if (input.size() % 4 == 0) {  // Go's StdEncoding is padded: only then can it decode
      auto decoded = Base64Decode(input);
      if (decoded.ok()) input = *decoded;
    }
    json j = json::parse(input, nullptr, /*allow_exceptions=*/false);
    if (!StringObject(j, &out)) {
      out.clear();
      Status kv = ParseKeyValues(input, &out);
      if (!kv.ok()) return fail(kv.message());
    }
  } else {
    return fail("expected a JSON object of strings, as a string or an object");
  }
  for (const auto& [key, value] : out) {
    if (!key.empty() && value.empty()) return fail("invalid value for key " + json(key).dump());
  }
  return out;
}

Status DeleteSecretId(Store& store, logical::Storage& storage, const std::string& entry_key,
                      const std::string& accessor) {
  std::vector<logical::TxnOp> ops;
  if (!accessor.empty()) {
    ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(storage, accessor));
    ops.push_back({logical::TxnOp::Kind::kDelete, kAccessorPrefix + accessor_hmac, ""});
  }
  ops.push_back({logical::TxnOp::Kind::kDelete, entry_key, ""});
  return storage.Transaction(ops);
}

Response EnvelopeWithStatus(const Request& req, int status, std::vector<std::string> warnings) {
  json body = {{"request_id", req.id},
               {"lease_id", ""},
               {"renewable", false},
               {"lease_duration", 0},
               {"data", nullptr},
               {"wrap_info", nullptr},
               {"warnings", warnings.empty() ? json(nullptr) : json(std::move(warnings))},
               {"auth", nullptr},
               {"mount_type", req.mount_type}};
  return Response::Raw(status, std::move(body));
}

}  // namespace coffer::approle
