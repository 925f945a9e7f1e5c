// The sys endpoints that work without a token and while sealed: init, seal-status, unseal,
// health and leader. They answer with bare JSON documents, not the envelope, as Vault does.
#include <ctime>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/core.h"

#ifndef COFFER_BUILD_DATE  // set by CMake; builds outside it (fuzz/run) do not know the date
#define COFFER_BUILD_DATE ""
#endif

namespace coffer::core {
namespace {

using logical::Operation;
using logical::Response;
using nlohmann::json;

bool IsWrite(Operation op) { return op == Operation::kUpdate || op == Operation::kCreate; }

// Reads an integer from a body field (JSON number) or a query parameter (string).
StatusOr<int64_t> IntField(const json& data, const char* name, int64_t fallback) {
  if (!data.contains(name) || data[name].is_null()) return fallback;
  const json& v = data[name];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
  }
  return InvalidArgument(std::string("field \"") + name + "\": expected an integer");
}

StatusOr<bool> BoolField(const json& data, const char* name) {
  if (!data.contains(name) || data[name].is_null()) return false;
  const json& v = data[name];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "true" || s == "1" || s == "" ) return true;  // "?standbyok" alone means true
    if (s == "false" || s == "0") return false;
  }
  return InvalidArgument(std::string("field \"") + name + "\": expected a boolean");
}

json SealStatusJson(const SealState& s, const std::string& storage_type, const char* version) {
  json j = {{"type", "shamir"},
            {"initialized", s.initialized},
            {"sealed", s.sealed},
            {"t", s.threshold},
            {"n", s.shares},
            {"progress", s.progress},
            {"nonce", s.nonce},
            {"version", version},
            {"build_date", COFFER_BUILD_DATE},
            {"migration", false},
            {"recovery_seal", false},
            {"storage_type", storage_type}};
  if (!s.sealed) {
    j["cluster_name"] = s.cluster_name;
    j["cluster_id"] = s.cluster_id;
  }
  return j;
}

// An unseal key arrives as hex (Vault's "keys") or base64 ("keys_base64").
StatusOr<SecretBytes> DecodeKey(const std::string& text) {
  auto hex = HexDecode(text);
  if (hex.ok()) {
    SecretBytes out = ToSecretBytes(*hex);
    SecureWipe(hex->data(), hex->size());
    return out;
  }
  auto b64 = Base64Decode(text);
  if (b64.ok()) {
    SecretBytes out = ToSecretBytes(*b64);
    SecureWipe(b64->data(), b64->size());
    return out;
  }
  return InvalidArgument("'key' must be a valid hex or base64 string");
}

}  // namespace

StatusOr<Response> Core::HandleUnauthenticated(logical::Request& req, bool* handled) {
  const std::string& p = req.path;
  *handled = true;
  const std::string version = std::string(kVaultApiVersion) + "+coffer." + kCofferVersion;

  if (p == "sys/init") {
    if (req.operation == Operation::kRead) {
      ASSIGN_OR_RETURN(bool initialized, Initialized());
      return Response::Raw(200, {{"initialized", initialized}});
    }
    if (!IsWrite(req.operation)) return UnsupportedOperation();
    for (const char* unsupported : {"pgp_keys", "root_token_pgp_key", "recovery_pgp_keys"}) {
      if (req.data.contains(unsupported) && !req.data[unsupported].is_null() &&
          !(req.data[unsupported].is_array() && req.data[unsupported].empty()) &&
          !(req.data[unsupported].is_string() && req.data[unsupported].get<std::string>().empty())) {
        return InvalidArgument(std::string("field \"") + unsupported +
                               "\": PGP-encrypted key shares are not supported by this server");
      }
    }
    ASSIGN_OR_RETURN(int64_t shares, IntField(req.data, "secret_shares", -1));
    ASSIGN_OR_RETURN(int64_t threshold, IntField(req.data, "secret_threshold", -1));
    if (shares < 0) return InvalidArgument("missing required field \"secret_shares\"");
    if (threshold < 0) return InvalidArgument("missing required field \"secret_threshold\"");
    if (shares > 255 || threshold > 255) {
      return InvalidArgument("invalid seal configuration: number of shares must be at most 255");
    }
    ASSIGN_OR_RETURN(InitResult init, Initialize(static_cast<int>(shares), static_cast<int>(threshold)));
    json keys = json::array(), keys_b64 = json::array();
    for (const auto& k : init.keys) {
      keys.push_back(HexEncode(AsStringView(k)));
      keys_b64.push_back(Base64Encode(AsStringView(k)));
    }
    return Response::Raw(200, {{"keys", keys}, {"keys_base64", keys_b64}, {"root_token", init.root_token}});
  }

  if (p == "sys/seal-status") {
    if (req.operation != Operation::kRead) return UnsupportedOperation();
    return Response::Raw(200, SealStatusJson(GetSealState(), storage_type_, version.c_str()));
  }

  if (p == "sys/unseal") {
    if (!IsWrite(req.operation)) return UnsupportedOperation();
    ASSIGN_OR_RETURN(bool reset, BoolField(req.data, "reset"));
    if (reset) {
      ResetUnsealProgress();
      return Response::Raw(200, SealStatusJson(GetSealState(), storage_type_, version.c_str()));
    }
    if (!req.data.contains("key") || !req.data["key"].is_string() || req.data["key"].get<std::string>().empty()) {
      return InvalidArgument("'key' must be specified in request body as JSON, or 'reset' set to true");
    }
    ASSIGN_OR_RETURN(SecretBytes key, DecodeKey(req.data["key"].get<std::string>()));
    ASSIGN_OR_RETURN(SealState state, SubmitUnsealKey(key));
    return Response::Raw(200, SealStatusJson(state, storage_type_, version.c_str()));
  }

  if (p == "sys/health") {
    if (req.operation != Operation::kRead) return UnsupportedOperation();
    SealState s = GetSealState();
    ASSIGN_OR_RETURN(int64_t active_code, IntField(req.data, "activecode", 200));
    ASSIGN_OR_RETURN(int64_t standby_code, IntField(req.data, "standbycode", 429));
    ASSIGN_OR_RETURN(int64_t sealed_code, IntField(req.data, "sealedcode", 503));
    ASSIGN_OR_RETURN(int64_t uninit_code, IntField(req.data, "uninitcode", 501));
    ASSIGN_OR_RETURN(int64_t perf_code, IntField(req.data, "performancestandbycode", 473));
    ASSIGN_OR_RETURN(int64_t dr_code, IntField(req.data, "drsecondarycode", 472));
    ASSIGN_OR_RETURN(bool standby_ok, BoolField(req.data, "standbyok"));
    (void)standby_ok;  // accepted for compatibility: without HA there are no standbys
    for (int64_t c : {active_code, standby_code, sealed_code, uninit_code, perf_code, dr_code}) {
      if (c < 100 || c > 599) return InvalidArgument("health status codes must be between 100 and 599");
    }
    int64_t code = !s.initialized ? uninit_code : s.sealed ? sealed_code : active_code;
    json body = {{"initialized", s.initialized},
                 {"sealed", s.sealed},
                 {"standby", false},
                 {"performance_standby", false},
                 {"replication_performance_mode", "disabled"},
                 {"replication_dr_mode", "disabled"},
                 {"server_time_utc", static_cast<int64_t>(std::time(nullptr))},
                 {"version", version},
                 {"enterprise", false}};
    if (!s.sealed) {
      body["cluster_name"] = s.cluster_name;
      body["cluster_id"] = s.cluster_id;
    }
    return Response::Raw(static_cast<int>(code), body);
  }

  if (p == "sys/leader") {
    if (req.operation != Operation::kRead) return UnsupportedOperation();
    // Without HA there is nothing to ask the storage, so Vault answers even while sealed.
    return Response::Raw(200, {{"ha_enabled", false},
                               {"is_self", false},
                               {"active_time", "0001-01-01T00:00:00Z"},
                               {"leader_address", ""},
                               {"leader_cluster_address", ""},
                               {"performance_standby", false},
                               {"performance_standby_last_remote_wal", 0}});
  }

  *handled = false;
  return Response();
}

}  // namespace coffer::core
