#include "engines/auth/jwt/backend.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "engines/auth/jwt/claims.h"
#include "engines/auth/jwt/jose.h"
#include "engines/auth/jwt/role_util.h"
#include "logical/framework.h"
#include "logical/storage.h"
#include "logical/token_fields.h"

namespace coffer::jwt {
namespace {

using json = nlohmann::json;
using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

constexpr char kConfigKey[] = "config";
constexpr char kRolePrefix[] = "role/";
constexpr int64_t kJwksMaxAgeSeconds = 3600;

// ---- stored shapes ---------------------------------------------------------------------------

struct Config {
  std::vector<std::string> pubkeys;  // jwt_validation_pubkeys
  std::string jwks_url;
  std::string jwks_ca_pem;
  json jwks_json = nullptr;  // a local JWKS document (Coffer extension), or null
  std::string bound_issuer;
  std::vector<std::string> algs;  // jwt_supported_algs as configured (may be empty)
  std::string default_role;

  std::vector<std::string> EffectiveAlgs() const { return algs.empty() ? std::vector<std::string>{"RS256"} : algs; }

  json ToJson() const {
    return json{{"jwt_validation_pubkeys", pubkeys}, {"jwks_url", jwks_url},
                {"jwks_ca_pem", jwks_ca_pem},        {"jwks_json", jwks_json},
                {"bound_issuer", bound_issuer},      {"jwt_supported_algs", algs},
                {"default_role", default_role}};
  }
  static Config FromJson(const json& j) {
    Config c;
    c.pubkeys = JsonStrings(j.value("jwt_validation_pubkeys", json::array()));
    c.jwks_url = j.value("jwks_url", "");
    c.jwks_ca_pem = j.value("jwks_ca_pem", "");
    c.jwks_json = j.value("jwks_json", json(nullptr));
    c.bound_issuer = j.value("bound_issuer", "");
    c.algs = JsonStrings(j.value("jwt_supported_algs", json::array()));
    c.default_role = j.value("default_role", "");
    return c;
  }
};

struct Role {
  std::string role_type = "jwt";
  std::vector<std::string> bound_audiences;
  std::string bound_subject;
  std::string bound_claims_type = "string";
  json bound_claims = nullptr;
  std::map<std::string, std::string> claim_mappings;
  std::string user_claim;
  bool user_claim_json_pointer = false;
  std::string groups_claim;
  int64_t clock_skew_leeway = 0, expiration_leeway = 0, not_before_leeway = 0;
  std::vector<std::string> allowed_redirect_uris, oidc_scopes;
  bool verbose_oidc_logging = false;
  logical::TokenFields token;

  json ToJson() const {
    json j{{"role_type", role_type},
           {"bound_audiences", bound_audiences},
           {"bound_subject", bound_subject},
           {"bound_claims_type", bound_claims_type},
           {"bound_claims", bound_claims},
           {"claim_mappings", claim_mappings.empty() ? json(nullptr) : json(claim_mappings)},
           {"user_claim", user_claim},
           {"user_claim_json_pointer", user_claim_json_pointer},
           {"groups_claim", groups_claim},
           {"clock_skew_leeway", clock_skew_leeway},
           {"expiration_leeway", expiration_leeway},
           {"not_before_leeway", not_before_leeway},
           {"allowed_redirect_uris", allowed_redirect_uris},
           {"oidc_scopes", oidc_scopes},
           {"verbose_oidc_logging", verbose_oidc_logging}};
    token.AddToResponse(&j);
    return j;
  }
  static Role FromJson(const json& j) {
    Role r;
    r.role_type = j.value("role_type", "jwt");
    r.bound_audiences = JsonStrings(j.value("bound_audiences", json::array()));
    r.bound_subject = j.value("bound_subject", "");
    r.bound_claims_type = j.value("bound_claims_type", "string");
    r.bound_claims = j.value("bound_claims", json(nullptr));
    if (auto it = j.find("claim_mappings"); it != j.end() && it->is_object()) {
      for (const auto& [k, v] : it->items()) {
        if (v.is_string()) r.claim_mappings[k] = v.get<std::string>();
      }
    }
    r.user_claim = j.value("user_claim", "");
    r.user_claim_json_pointer = j.value("user_claim_json_pointer", false);
    r.groups_claim = j.value("groups_claim", "");
    r.clock_skew_leeway = j.value("clock_skew_leeway", int64_t{0});
    r.expiration_leeway = j.value("expiration_leeway", int64_t{0});
    r.not_before_leeway = j.value("not_before_leeway", int64_t{0});
    r.allowed_redirect_uris = JsonStrings(j.value("allowed_redirect_uris", json::array()));
    r.oidc_scopes = JsonStrings(j.value("oidc_scopes", json::array()));
    r.verbose_oidc_logging = j.value("verbose_oidc_logging", false);
    r.token = logical::TokenFields::FromStorage(j);
    return r;
  }
};

constexpr char kMethod[] = "jwt";

// The shared storage helpers (jwt/role_util.h), naming this method in their errors.
StatusOr<logical::Storage*> StorageOf(Request& req) { return jwt::StorageOf(req, kMethod); }
StatusOr<std::optional<json>> GetJson(logical::Storage* storage, const std::string& key) {
  return jwt::GetJson(storage, key, kMethod);
}

const jwt::RoleStore<Role>& Roles() {
  static const jwt::RoleStore<Role> roles(kRolePrefix, kMethod);
  return roles;
}
StatusOr<std::optional<Role>> LoadRole(logical::Storage* storage, const std::string& name) {
  return Roles().Load(storage, name);
}

// ---- the backend's state: caches of parsed keys ------------------------------------------------

class State {
 public:
  explicit State(JwtBackendOptions options) : options_(std::move(options)) {
    if (!options_.now) {
      options_.now = [] {
        return static_cast<int64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
      };
    }
    if (!options_.http) options_.http = net::Perform;
  }

  int64_t Now() const { return options_.now(); }

  // Parsed static keys (jwt_validation_pubkeys or jwks_json), cached by the config's text.
  StatusOr<std::vector<PublicKey>> StaticKeys(const Config& config) {
    std::string text = config.ToJson().dump(-1, ' ', false, json::error_handler_t::replace);
    std::lock_guard<std::mutex> lock(mu_);
    if (static_text_ == text) return static_keys_;
    std::vector<PublicKey> keys;
    if (!config.pubkeys.empty()) {
      for (const auto& pem : config.pubkeys) {
        auto key = ParsePemPublicKey(pem);
        if (!key.ok()) return InvalidArgument("error parsing public key: " + key.status().message());
        keys.push_back(std::move(*key));
      }
    } else {
      ASSIGN_OR_RETURN(keys, ParseJwks(config.jwks_json));
    }
    static_text_ = std::move(text);
    static_keys_ = keys;
    return keys;
  }

  StatusOr<std::vector<PublicKey>> FetchJwks(const std::string& url, const std::string& ca_pem) {
    net::HttpCall call;
    call.url = url;
    call.ca_pem = ca_pem;
    call.headers = {"Accept: application/json"};
    ASSIGN_OR_RETURN(net::HttpReply reply, options_.http(call));
    if (reply.status != 200) return Unavailable("JWKS URL answered HTTP " + std::to_string(reply.status));
    return ParseJwksText(reply.body);
  }

  // Keys from jwks_url: cached for an hour; `refresh` forces a new fetch (an unknown kid).
  StatusOr<std::vector<PublicKey>> RemoteKeys(const Config& config, bool refresh) {
    std::lock_guard<std::mutex> lock(fetch_mu_);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!refresh && jwks_valid_ && jwks_url_ == config.jwks_url && jwks_ca_ == config.jwks_ca_pem &&
          Now() - jwks_fetched_at_ < kJwksMaxAgeSeconds) {
        return jwks_keys_;
      }
    }
    ASSIGN_OR_RETURN(auto keys, FetchJwks(config.jwks_url, config.jwks_ca_pem));
    std::lock_guard<std::mutex> l(mu_);
    jwks_valid_ = true;
    jwks_url_ = config.jwks_url;
    jwks_ca_ = config.jwks_ca_pem;
    jwks_fetched_at_ = Now();
    jwks_keys_ = keys;
    return keys;
  }

  void ForgetRemoteKeys() {
    std::lock_guard<std::mutex> l(mu_);
    jwks_valid_ = false;
    jwks_keys_.clear();
  }

 private:
  JwtBackendOptions options_;
  std::mutex fetch_mu_;  // one JWKS fetch at a time
  std::mutex mu_;        // guards the caches below
  std::string static_text_;
  std::vector<PublicKey> static_keys_;
  bool jwks_valid_ = false;
  std::string jwks_url_, jwks_ca_;
  int64_t jwks_fetched_at_ = 0;
  std::vector<PublicKey> jwks_keys_;
};

// ---- config --------------------------------------------------------------------------------------

std::vector<Field> ConfigFields() {
  return {
      {"jwt_validation_pubkeys", FieldType::kStringSlice,
       "PEM public keys (or certificates) that verify JWT signatures locally."},
      {"jwks_url", FieldType::kString, "URL of a JWKS document whose keys verify JWT signatures."},
      {"jwks_ca_pem", FieldType::kString, "CA certificates (PEM) trusted when fetching jwks_url."},
      {"jwks_json", FieldType::kRaw,
       "A JWKS document (object or JSON text) whose keys verify JWT signatures (Coffer)."},
      {"bound_issuer", FieldType::kString, "The value the 'iss' claim must have."},
      {"jwt_supported_algs", FieldType::kStringSlice, "Accepted signing algorithms; defaults to RS256."},
      {"default_role", FieldType::kString, "Role used when a login names none."},
      {"oidc_discovery_url", FieldType::kString, "Not supported by Coffer."},
      {"oidc_discovery_ca_pem", FieldType::kString, "Not supported by Coffer."},
      {"oidc_client_id", FieldType::kString, "Not supported by Coffer."},
      {"oidc_client_secret", FieldType::kString, "Not supported by Coffer."},
      {"oidc_response_mode", FieldType::kString, "Not supported by Coffer."},
      {"oidc_response_types", FieldType::kStringSlice, "Not supported by Coffer."},
      {"jwks_pairs", FieldType::kRaw, "Not supported by Coffer."},
      {"provider_config", FieldType::kMap, "Not supported by Coffer."},
      {"namespace_in_state", FieldType::kBool, "Ignored (OIDC only)."},
  };
}

StatusOr<Response> ConfigRead(Request& req, const FieldData&) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  ASSIGN_OR_RETURN(auto stored, GetJson(storage, kConfigKey));
  if (!stored) return NotFound();
  Config c = Config::FromJson(*stored);
  json data = c.ToJson();
  data["oidc_discovery_url"] = "";
  data["oidc_discovery_ca_pem"] = "";
  data["oidc_client_id"] = "";
  data["oidc_response_mode"] = "";
  data["oidc_response_types"] = json::array();
  data["jwks_pairs"] = json::array();
  data["provider_config"] = json::object();
  data["namespace_in_state"] = true;
  return Response::WithData(std::move(data));
}

StatusOr<Response> ConfigWrite(State& state, Request& req, const FieldData& f) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  for (const char* oidc : {"oidc_discovery_url", "oidc_client_id", "oidc_client_secret"}) {
    if (!f.GetString(oidc).empty()) {
      return InvalidArgument(std::string("field \"") + oidc +
                             "\": OIDC discovery and the OIDC login flow are not supported by Coffer; configure "
                             "jwt_validation_pubkeys, jwks_url or jwks_json");
    }
  }
  json pairs = f.GetJson("jwks_pairs");
  if (pairs.is_array() && !pairs.empty()) {
    return InvalidArgument("field \"jwks_pairs\": not supported by Coffer; configure one jwks_url");
  }
  Config c;
  c.pubkeys = f.GetStringSlice("jwt_validation_pubkeys");
  c.jwks_url = f.GetString("jwks_url");
  c.jwks_ca_pem = f.GetString("jwks_ca_pem");
  json jwks = f.GetJson("jwks_json");
  if (jwks.is_string()) {
    if (!jwks.get_ref<const std::string&>().empty()) {
      json parsed = json::parse(jwks.get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_object()) return InvalidArgument("field \"jwks_json\": not a JSON object");
      c.jwks_json = std::move(parsed);
    }
  } else if (jwks.is_object()) {
    c.jwks_json = std::move(jwks);
  } else if (!jwks.is_null()) {
    return InvalidArgument("field \"jwks_json\": expected a JWKS document (object or JSON text)");
  }
  c.bound_issuer = f.GetString("bound_issuer");
  c.algs = f.GetStringSlice("jwt_supported_algs");
  c.default_role = AsciiLower(f.GetString("default_role"));

  int methods = (c.pubkeys.empty() ? 0 : 1) + (c.jwks_url.empty() ? 0 : 1) + (c.jwks_json.is_null() ? 0 : 1);
  if (methods != 1) {
    return InvalidArgument("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'jwks_json' must be set");
  }
  for (const auto& alg : c.algs) {
    if (!ParseAlg(alg)) {
      return InvalidArgument("invalid jwt_supported_algs: unsupported signing algorithm \"" + alg.substr(0, 32) +
                             "\" (supported: RS256, RS384, RS512, ES256, ES384, EdDSA)");
    }
  }
  if (!c.jwks_ca_pem.empty() && c.jwks_url.empty()) {
    return InvalidArgument("field \"jwks_ca_pem\": only used with jwks_url");
  }
  if (!c.jwks_ca_pem.empty() && c.jwks_ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgument("field \"jwks_ca_pem\": no PEM certificate found");
  }
  if (!c.pubkeys.empty()) {
    for (const auto& pem : c.pubkeys) {
      auto key = ParsePemPublicKey(pem);
      if (!key.ok()) return InvalidArgument("error parsing public key: " + key.status().message());
    }
  } else if (!c.jwks_json.is_null()) {
    auto keys = ParseJwks(c.jwks_json);
    if (!keys.ok()) return InvalidArgument("field \"jwks_json\": " + keys.status().message());
  } else {
    auto keys = state.FetchJwks(c.jwks_url, c.jwks_ca_pem);
    if (!keys.ok()) return InvalidArgument("error checking jwks URL: " + keys.status().message());
  }
  RETURN_IF_ERROR(storage->Put(kConfigKey, c.ToJson().dump(-1, ' ', false, json::error_handler_t::replace)));
  state.ForgetRemoteKeys();
  return Response();
}

// ---- roles -----------------------------------------------------------------------------------------

std::vector<Field> RoleFields() {
  std::vector<Field> fields = {
      {"name", FieldType::kString, "Name of the role."},
      {"role_type", FieldType::kString, "Type of the role: \"jwt\" (\"oidc\" is not supported by Coffer)."},
      {"bound_audiences", FieldType::kStringSlice, "'aud' values accepted for login; any match is sufficient."},
      {"bound_subject", FieldType::kString, "The 'sub' claim required for login."},
      {"bound_claims_type", FieldType::kString, "How bound_claims values match: \"string\" or \"glob\"."},
      {"bound_claims", FieldType::kMap, "Claims (names or JSON pointers) and the values they must have."},
      {"claim_mappings", FieldType::kKVPairs, "Claims copied into the alias and token metadata (claim → key)."},
      {"user_claim", FieldType::kString, "The claim whose value names the user (alias name)."},
      {"user_claim_json_pointer", FieldType::kBool, "Read user_claim as a JSON pointer."},
      {"groups_claim", FieldType::kString, "The claim listing the user's groups (group alias names)."},
      {"clock_skew_leeway", FieldType::kDuration, "Leeway for all time claims; 0 = 60s, -1 = none."},
      {"expiration_leeway", FieldType::kDuration, "Leeway for 'exp'; 0 = 150s, -1 = none."},
      {"not_before_leeway", FieldType::kDuration, "Leeway for 'nbf'; 0 = 150s, -1 = none."},
      {"allowed_redirect_uris", FieldType::kStringSlice, "OIDC only; stored, unused."},
      {"oidc_scopes", FieldType::kStringSlice, "OIDC only; stored, unused."},
      {"verbose_oidc_logging", FieldType::kBool, "OIDC only; stored, unused."},
  };
  logical::TokenFields::AddFieldsTo(&fields);
  AddLegacyTokenFieldsTo(&fields);
  return fields;
}

StatusOr<Response> RoleWrite(Request& req, const FieldData& f) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  std::string name = AsciiLower(f.GetString("name"));
  RETURN_IF_ERROR(CheckRoleName(name));
  ASSIGN_OR_RETURN(auto existing, LoadRole(storage, name));
  Role role = existing.value_or(Role());

  if (f.Has("role_type")) {
    std::string type = f.GetString("role_type");
    if (type == "oidc") {
      return InvalidArgument(
          "field \"role_type\": \"oidc\" roles are not supported by Coffer (no OIDC login "
          "flow); use \"jwt\"");
    }
    if (!type.empty() && type != "jwt") return InvalidArgument("invalid 'role_type': " + type.substr(0, 32));
    role.role_type = "jwt";
  }
  RETURN_IF_ERROR(UpdateTokenFields(f, &role.token));
  if (f.Has("clock_skew_leeway")) role.clock_skew_leeway = f.GetDurationSeconds("clock_skew_leeway");
  if (f.Has("expiration_leeway")) role.expiration_leeway = f.GetDurationSeconds("expiration_leeway");
  if (f.Has("not_before_leeway")) role.not_before_leeway = f.GetDurationSeconds("not_before_leeway");
  if (f.Has("bound_audiences")) role.bound_audiences = f.GetStringSlice("bound_audiences");
  if (f.Has("bound_subject")) role.bound_subject = f.GetString("bound_subject");
  if (f.Has("bound_claims_type")) {
    std::string t = f.GetString("bound_claims_type");
    if (t != "string" && t != "glob") return InvalidArgument("invalid 'bound_claims_type': " + t.substr(0, 32));
    role.bound_claims_type = t;
  }
  if (f.Has("bound_claims")) {
    json bc = f.GetJson("bound_claims");
    role.bound_claims = bc.is_object() && !bc.empty() ? bc : json(nullptr);
  }
  RETURN_IF_ERROR(CheckBoundClaimsShape(role.bound_claims, role.bound_claims_type == "glob"));
  if (f.Has("claim_mappings")) {
    auto mappings = f.GetKVPairs("claim_mappings");
    std::set<std::string> targets;
    for (const auto& [claim, key] : mappings) {
      if (key == "role")
        return InvalidArgument("metadata key \"role\" is reserved and may not be a mapping destination");
      if (!targets.insert(key).second) {
        return InvalidArgument("multiple keys are mapped to metadata key \"" + key.substr(0, 64) + "\"");
      }
    }
    role.claim_mappings = std::move(mappings);
  }
  if (f.Has("user_claim")) role.user_claim = f.GetString("user_claim");
  if (role.user_claim.empty()) return InvalidArgument("a user claim must be defined on the role");
  if (f.Has("user_claim_json_pointer")) role.user_claim_json_pointer = f.GetBool("user_claim_json_pointer");
  if (f.Has("groups_claim")) role.groups_claim = f.GetString("groups_claim");
  if (f.Has("allowed_redirect_uris")) role.allowed_redirect_uris = f.GetStringSlice("allowed_redirect_uris");
  if (f.Has("oidc_scopes")) role.oidc_scopes = f.GetStringSlice("oidc_scopes");
  if (f.Has("verbose_oidc_logging")) role.verbose_oidc_logging = f.GetBool("verbose_oidc_logging");
  if (role.bound_audiences.empty() && role.token.bound_cidrs.empty() && role.bound_subject.empty() &&
      role.bound_claims.is_null()) {
    return InvalidArgument("must have at least one bound constraint when creating/updating a role");
  }
  RETURN_IF_ERROR(storage->Put(kRolePrefix + name, role.ToJson().dump(-1, ' ', false, json::error_handler_t::replace)));
  return Response();
}

// ---- login ------------------------------------------------------------------------------------------

Status Invalid(const std::string& prefix, const Status& s) { return InvalidArgument(prefix + s.message()); }

StatusOr<Response> Login(State& state, Request& req, const FieldData& f) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  ASSIGN_OR_RETURN(auto stored_config, GetJson(storage, kConfigKey));
  if (!stored_config) return InvalidArgument("could not load configuration");
  Config config = Config::FromJson(*stored_config);

  std::string role_name = AsciiLower(f.GetString("role"));
  if (role_name.empty()) role_name = config.default_role;
  if (role_name.empty()) return InvalidArgument("missing role");
  ASSIGN_OR_RETURN(auto role, LoadRole(storage, role_name));
  if (!role) return InvalidArgument("role \"" + role_name.substr(0, 128) + "\" could not be found");
  if (role->role_type == "oidc") return InvalidArgument("role with oidc role_type is not allowed");

  std::string token = f.GetString("jwt");
  if (token.empty()) return InvalidArgument("missing token");
  RETURN_IF_ERROR(CheckLoginCidrs(role->token, req.remote_address));

  auto jws = ParseCompactJws(token);
  if (!jws.ok()) return Invalid("error parsing token: ", jws.status());

  Status verified;
  if (!config.jwks_url.empty()) {
    auto keys = state.RemoteKeys(config, /*refresh=*/false);
    if (!keys.ok()) return Invalid("error fetching jwks keyset: ", keys.status());
    verified = VerifyJwsSignature(*jws, *keys, config.EffectiveAlgs());
    if (verified.code() == StatusCode::kNotFound) {  // an unknown kid: the issuer may have rotated keys
      keys = state.RemoteKeys(config, /*refresh=*/true);
      if (!keys.ok()) return Invalid("error fetching jwks keyset: ", keys.status());
      verified = VerifyJwsSignature(*jws, *keys, config.EffectiveAlgs());
    }
  } else {
    auto keys = state.StaticKeys(config);
    if (!keys.ok()) return Invalid("error loading keys: ", keys.status());
    verified = VerifyJwsSignature(*jws, *keys, config.EffectiveAlgs());
  }
  if (!verified.ok()) return Invalid("error verifying token: ", verified);

  const json& claims = jws->claims;
  Leeways leeways{role->clock_skew_leeway, role->expiration_leeway, role->not_before_leeway};
  if (Status s = ValidateTimeClaims(claims, state.Now(), leeways); !s.ok())
    return Invalid("error validating claims: ", s);
  if (!config.bound_issuer.empty()) {
    const json* iss = GetClaim(claims, "iss");
    if (iss == nullptr || !iss->is_string() || *iss != config.bound_issuer) {
      return InvalidArgument("error validating claims: invalid issuer claim (iss)");
    }
  }
  if (!role->bound_subject.empty()) {
    const json* sub = GetClaim(claims, "sub");
    if (sub == nullptr || !sub->is_string() || *sub != role->bound_subject) {
      return InvalidArgument("error validating claims: invalid subject claim (sub)");
    }
  }
  auto aud = AudienceClaim(claims);
  if (!aud.ok()) return Invalid("error validating claims: ", aud.status());
  if (Status s = ValidateAudience(role->bound_audiences, *aud, /*strict=*/true); !s.ok()) {
    return Invalid("error validating claims: ", s);
  }
  if (Status s = ValidateBoundClaims(role->bound_claims, claims, role->bound_claims_type == "glob"); !s.ok()) {
    return Invalid("error validating claims: ", s);
  }

  auto user = UserClaimValue(claims, role->user_claim, role->user_claim_json_pointer);
  if (!user.ok()) return Invalid("", user.status());
  auto metadata = ExtractMetadata(claims, role->claim_mappings);
  if (!metadata.ok()) return Invalid("", metadata.status());
  std::vector<std::string> groups;
  if (!role->groups_claim.empty()) {
    auto g = GroupsClaimValues(claims, role->groups_claim);
    if (!g.ok()) return Invalid("", g.status());
    groups = std::move(*g);
  }

  logical::Auth auth;
  role->token.PopulateAuth(&auth);
  auth.display_name = *user;
  auth.alias.name = *user;
  auth.alias.metadata = *metadata;
  for (const auto& g : groups) auth.group_aliases.push_back(logical::Alias{g, {}});
  auth.metadata = *metadata;
  auth.metadata["role"] = role_name;
  Response resp;
  resp.login = std::move(auth);
  return resp;
}

constexpr char kHelp[] =
    "The JWT auth method authenticates callers that present a JWT signed by a trusted key: static PEM keys, "
    "a JWKS URL or a local JWKS document. Roles bind audiences, subjects and claims to token settings.";

}  // namespace

StatusOr<std::unique_ptr<logical::Backend>> NewJwtBackend(const logical::BackendConfig& config) {
  return NewJwtBackendWithOptions(config, JwtBackendOptions{});
}

StatusOr<std::unique_ptr<logical::Backend>> NewJwtBackendWithOptions(const logical::BackendConfig& config,
                                                                     JwtBackendOptions options) {
  (void)config;
  auto state = std::make_shared<State>(std::move(options));
  std::vector<logical::Path> paths;
  paths.push_back(logical::Path{
      .pattern = "config",
      .fields = ConfigFields(),
      .operations = {{Operation::kRead, ConfigRead},
                     {Operation::kUpdate,
                      [state](Request& r, const FieldData& f) { return ConfigWrite(*state, r, f); }},
                     {Operation::kCreate,
                      [state](Request& r, const FieldData& f) { return ConfigWrite(*state, r, f); }}},
      .help_synopsis = "Configures the JWT authentication backend.",
      .help_description = "Exactly one key source: jwt_validation_pubkeys, jwks_url or jwks_json.",
  });
  paths.push_back(logical::Path{
      .pattern = "role/?",
      .operations = {{Operation::kList, Roles().List()}},
      .help_synopsis = "Lists the roles.",
  });
  paths.push_back(logical::Path{
      .pattern = "role/{name}",
      .fields = RoleFields(),
      .operations = {{Operation::kRead, Roles().Read()},
                     {Operation::kCreate, RoleWrite},
                     {Operation::kUpdate, RoleWrite},
                     {Operation::kDelete, Roles().Delete()}},
      .existence_check = Roles().Exists(),
      .help_synopsis = "Registers a role with the backend.",
      .help_description = "A role binds JWT claims to the settings of the tokens a login gets.",
  });
  paths.push_back(logical::Path{
      .pattern = "login",
      .fields = {{"role", FieldType::kString, "The role to log in against."},
                 {"jwt", FieldType::kString, "The signed JWT to validate."}},
      .operations = {{Operation::kUpdate, [state](Request& r, const FieldData& f) { return Login(*state, r, f); }},
                     {Operation::kCreate, [state](Request& r, const FieldData& f) { return Login(*state, r, f); }}},
      .help_synopsis = "Authenticates with a JWT.",
  });
  auto backend = std::make_unique<logical::FrameworkBackend>(std::move(paths), kHelp);
  backend->SetUnauthenticatedPaths({"login"});
  return std::unique_ptr<logical::Backend>(std::move(backend));
}

}  // namespace coffer::jwt
