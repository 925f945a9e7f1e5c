#include "engines/auth/kubernetes/backend.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/file_io.h"
#include "base/secret_bytes.h"
#include "engines/auth/jwt/claims.h"
#include "engines/auth/jwt/jose.h"
#include "engines/auth/jwt/role_util.h"
#include "logical/framework.h"
#include "logical/storage.h"
#include "logical/token_fields.h"

namespace coffer::kubernetes {
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
constexpr char kDefaultIssuer[] = "kubernetes/serviceaccount";
constexpr char kAliasUid[] = "serviceaccount_uid";
constexpr char kAliasName[] = "serviceaccount_name";
// Kubernetes signs service-account tokens with RSA or ECDSA (the algorithms its OIDC
// validation allows that this library verifies).
const std::vector<std::string> kAllowedAlgs = {"RS256", "RS384", "RS512", "ES256", "ES384"};

struct Config {
  std::string host, ca_cert, reviewer_jwt, issuer;
  std::vector<std::string> pem_keys;
  bool disable_iss_validation = true;
  bool disable_local_ca_jwt = false;

  json ToJson() const {
    return json{{"kubernetes_host", host},
                {"kubernetes_ca_cert", ca_cert},
                {"token_reviewer_jwt", reviewer_jwt},
                {"pem_keys", pem_keys},
                {"issuer", issuer},
                {"disable_iss_validation", disable_iss_validation},
                {"disable_local_ca_jwt", disable_local_ca_jwt}};
  }
  static Config FromJson(const json& j) {
    Config c;
    c.host = j.value("kubernetes_host", "");
    c.ca_cert = j.value("kubernetes_ca_cert", "");
    c.reviewer_jwt = j.value("token_reviewer_jwt", "");
    c.issuer = j.value("issuer", "");
    c.pem_keys = jwt::JsonStrings(j.value("pem_keys", json::array()));
    c.disable_iss_validation = j.value("disable_iss_validation", true);
    c.disable_local_ca_jwt = j.value("disable_local_ca_jwt", false);
    return c;
  }
};

struct Role {
  std::vector<std::string> names, namespaces;
  std::string audience;
  std::string alias_name_source = kAliasUid;
  logical::TokenFields token;

  json ToJson() const {
    json j{{"bound_service_account_names", names},
           {"bound_service_account_namespaces", namespaces},
           {"bound_service_account_namespace_selector", ""},
           {"audience", audience},
           {"alias_name_source", alias_name_source}};
    token.AddToResponse(&j);
    return j;
  }
  static Role FromJson(const json& j) {
    Role r;
    r.names = jwt::JsonStrings(j.value("bound_service_account_names", json::array()));
    r.namespaces = jwt::JsonStrings(j.value("bound_service_account_namespaces", json::array()));
    r.audience = j.value("audience", "");
    r.alias_name_source = j.value("alias_name_source", kAliasUid);
    r.token = logical::TokenFields::FromStorage(j);
    return r;
  }
};

constexpr char kMethod[] = "kubernetes";

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

struct ServiceAccount {
  std::string name, uid, ns, secret_name;
  std::vector<std::string> audiences;
};

class State {
 public:
  explicit State(KubernetesBackendOptions options) : options_(std::move(options)) {
    if (!options_.now) {
      options_.now = [] {
        return static_cast<int64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
      };
    }
    if (!options_.http) options_.http = net::Perform;
  }
  const KubernetesBackendOptions& options() const { return options_; }

 private:
  KubernetesBackendOptions options_;
};

bool HasCertificate(const std::string& pem) { return pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos; }

// ---- config ----------------------------------------------------------------------------------

StatusOr<Response> ConfigRead(Request& req, const FieldData&) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  ASSIGN_OR_RETURN(auto stored, GetJson(storage, kConfigKey));
  if (!stored) return NotFound();
  Config c = Config::FromJson(*stored);
  json d = c.ToJson();
  d.erase("token_reviewer_jwt");  // never read back; only whether it is set
  d["token_reviewer_jwt_set"] = !c.reviewer_jwt.empty();
  d["use_annotations_as_alias_metadata"] = false;
  return Response::WithData(std::move(d));
}

StatusOr<Response> ConfigWrite(Request& req, const FieldData& f) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  Config c;
  c.host = f.GetString("kubernetes_host");
  if (c.host.empty()) return InvalidArgument("no host provided");
  if (c.host.rfind("http://", 0) != 0 && c.host.rfind("https://", 0) != 0) {
    c.host = "https://" + c.host;  // Vault accepts a host or host:port and speaks https to it
  }
  c.ca_cert = f.GetString("kubernetes_ca_cert");
  if (!c.ca_cert.empty() && !HasCertificate(c.ca_cert)) {
    return InvalidArgument("The provided CA PEM data contains no valid certificates");
  }
  c.reviewer_jwt = f.GetString("token_reviewer_jwt");
  c.pem_keys = f.GetStringSlice("pem_keys");
  for (const auto& pem : c.pem_keys) {
    auto key = jwt::ParsePemPublicKey(pem);
    if (!key.ok()) return InvalidArgument("field \"pem_keys\": " + key.status().message());
    if (key->type() == jwt::KeyType::kEd25519) {
      return InvalidArgument("field \"pem_keys\": data does not contain any valid RSA or ECDSA public keys");
    }
  }
  c.issuer = f.GetString("issuer");
  c.disable_iss_validation = f.GetBool("disable_iss_validation");
  c.disable_local_ca_jwt = f.GetBool("disable_local_ca_jwt");
  RETURN_IF_ERROR(storage->Put(kConfigKey, c.ToJson().dump(-1, ' ', false, json::error_handler_t::replace)));
  return Response();
}

std::vector<Field> ConfigFields() {
  return {
      {"kubernetes_host", FieldType::kString, "Host, host:port or URL of the Kubernetes API server."},
      {"kubernetes_ca_cert", FieldType::kString, "PEM CA certificate(s) trusted for the Kubernetes API."},
      {"token_reviewer_jwt", FieldType::kString, "Bearer token for the TokenReview API; else the login's JWT."},
      {"pem_keys", FieldType::kStringSlice, "PEM public keys or certificates that verify service-account JWTs."},
      {"issuer", FieldType::kString, "Expected 'iss' (default kubernetes/serviceaccount) when validated."},
      {"disable_iss_validation", FieldType::kBool, "Skip the issuer check (default true, as in Vault).", true},
      {"disable_local_ca_jwt", FieldType::kBool, "Do not fall back to the pod's own CA and token.", false},
      {"use_annotations_as_alias_metadata", FieldType::kBool, "Not supported by Coffer; ignored."},
  };
}

// ---- roles ------------------------------------------------------------------------------------

std::vector<Field> RoleFields() {
  std::vector<Field> fields = {
      {"name", FieldType::kString, "Name of the role."},
      {"bound_service_account_names", FieldType::kStringSlice, "Service account names allowed (globs, or \"*\")."},
      {"bound_service_account_namespaces", FieldType::kStringSlice, "Namespaces allowed (globs, or \"*\")."},
      {"bound_service_account_namespace_selector", FieldType::kString, "Not supported by Coffer."},
      {"audience", FieldType::kString, "An 'aud' value the JWT must carry."},
      {"alias_name_source", FieldType::kString, "serviceaccount_uid (default) or serviceaccount_name."},
  };
  logical::TokenFields::AddFieldsTo(&fields);
  jwt::AddLegacyTokenFieldsTo(&fields);
  return fields;
}

Status CheckStarNotMixed(const std::vector<std::string>& values) {
  if (values.size() > 1 && std::find(values.begin(), values.end(), "*") != values.end()) {
    return InvalidArgument("can not mix \"*\" with values");
  }
  return OkStatus();
}

StatusOr<Response> RoleWrite(Request& req, const FieldData& f) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  std::string name = AsciiLower(f.GetString("name"));
  RETURN_IF_ERROR(jwt::CheckRoleName(name));
  ASSIGN_OR_RETURN(auto existing, LoadRole(storage, name));
  Role role = existing.value_or(Role());
  RETURN_IF_ERROR(jwt::UpdateTokenFields(f, &role.token));
  if (!f.GetString("bound_service_account_namespace_selector").empty()) {
    return InvalidArgument(
        "field \"bound_service_account_namespace_selector\": not supported by Coffer; list the "
        "namespaces in bound_service_account_namespaces");
  }
  if (f.Has("bound_service_account_names")) role.names = f.GetStringSlice("bound_service_account_names");
  if (role.names.empty()) return InvalidArgument("\"bound_service_account_names\" can not be empty");
  RETURN_IF_ERROR(CheckStarNotMixed(role.names));
  if (f.Has("bound_service_account_namespaces")) role.namespaces = f.GetStringSlice("bound_service_account_namespaces");
  if (role.namespaces.empty()) return InvalidArgument("\"bound_service_account_namespaces\" can not be empty");
  RETURN_IF_ERROR(CheckStarNotMixed(role.namespaces));
  if (f.Has("audience")) role.audience = f.GetString("audience");
  if (f.Has("alias_name_source")) {
    std::string source = f.GetString("alias_name_source");
    if (source.empty()) source = kAliasUid;
    if (source != kAliasUid && source != kAliasName) {
      return InvalidArgument("invalid alias_name_source \"" + source.substr(0, 32) +
                             "\", must be one of: " + kAliasUid + ", " + kAliasName);
    }
    role.alias_name_source = source;
  }
  RETURN_IF_ERROR(storage->Put(kRolePrefix + name, role.ToJson().dump(-1, ' ', false, json::error_handler_t::replace)));
  return Response();
}

// ---- login -------------------------------------------------------------------------------------

std::string ClaimString(const json& claims, std::string_view pointer_or_name) {
  const json* v = jwt::GetClaim(claims, pointer_or_name);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

// The service account a token names: projected tokens carry {"kubernetes.io": {"namespace",
// "serviceaccount": {"name", "uid"}}}; legacy secret tokens flat "kubernetes.io/..." claims.
ServiceAccount FromClaims(const json& claims) {
  ServiceAccount sa;
  sa.name = ClaimString(claims, "kubernetes.io/serviceaccount/service-account.name");
  sa.uid = ClaimString(claims, "kubernetes.io/serviceaccount/service-account.uid");
  sa.ns = ClaimString(claims, "kubernetes.io/serviceaccount/namespace");
  sa.secret_name = ClaimString(claims, "kubernetes.io/serviceaccount/secret.name");
  auto k8s = claims.find("kubernetes.io");
  if (k8s != claims.end() && k8s->is_object()) {
    sa.ns = ClaimString(*k8s, "namespace");
    if (auto acct = k8s->find("serviceaccount"); acct != k8s->end() && acct->is_object()) {
      sa.name = ClaimString(*acct, "name");
      sa.uid = ClaimString(*acct, "uid");
    }
  }
  auto aud = jwt::AudienceClaim(claims);
  if (aud.ok()) sa.audiences = *aud;
  return sa;
}

bool Allowed(const std::vector<std::string>& patterns, const std::string& value) {
  for (const auto& p : patterns) {
    if (jwt::GlobMatch(p, value)) return true;
  }
  return false;
}

struct ReviewResult {
  std::string name, ns, uid;
};

// POSTs a TokenReview (authentication.k8s.io/v1) for `token` and reads its status.
StatusOr<ReviewResult> Review(const State& state, const Config& config, const std::string& ca_pem,
                              const std::string& bearer, const std::string& token,
                              const std::vector<std::string>& audiences) {
  json review = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", {{"token", token}}}};
  if (!audiences.empty()) review["spec"]["audiences"] = audiences;
  net::HttpCall call;
  call.method = "POST";
  std::string host = config.host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  call.url = host + "/apis/authentication.k8s.io/v1/tokenreviews";
  call.body = review.dump(-1, ' ', false, json::error_handler_t::replace);
  call.ca_pem = ca_pem;
  call.headers = {"Authorization: Bearer " + bearer, "Content-Type: application/json", "Accept: application/json"};
  auto reply = state.options().http(call);
  SecureWipe(call.body.data(), call.body.size());
  for (auto& h : call.headers) SecureWipe(h.data(), h.size());
  if (!reply.ok()) return PermissionDenied("lookup failed: " + reply.status().message());
  if (reply->status == 401) {
    return PermissionDenied(
        "lookup failed: service account unauthorized; this could mean it has been deleted or "
        "recreated with a new token");
  }
  // The answer comes from the network: read it without assuming any field's type.
  json body = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  auto str = [](const json& obj, const char* key) -> std::string {
    if (!obj.is_object()) return "";
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (reply->status < 200 || reply->status > 206) {
    std::string why = str(body, "message").substr(0, 200);
    return PermissionDenied("lookup failed: " + (why.empty() ? "HTTP " + std::to_string(reply->status) : why));
  }
  if (!body.is_object()) return PermissionDenied("lookup failed: the TokenReview answer is not JSON");
  if (str(body, "kind") == "Status" && str(body, "status") != "Success") {
    std::string why = str(body, "message").substr(0, 200);
    return PermissionDenied("lookup failed: " + (why.empty() ? std::string("TokenReview refused") : why));
  }
  auto status_it = body.find("status");
  if (status_it == body.end() || !status_it->is_object()) {
    return PermissionDenied("lookup failed: the TokenReview answer has no status");
  }
  const json& status = *status_it;
  if (std::string error = str(status, "error"); !error.empty()) {
    return PermissionDenied("lookup failed: " + error.substr(0, 200));
  }
  auto authenticated = status.find("authenticated");
  if (authenticated == status.end() || !authenticated->is_boolean() || !authenticated->get<bool>()) {
    return PermissionDenied("lookup failed: service account jwt not valid");
  }
  auto user_it = status.find("user");
  const json user = user_it != status.end() && user_it->is_object() ? *user_it : json::object();
  std::string username = str(user, "username");
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = username.find(':', start);
    parts.push_back(username.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 4) return PermissionDenied("lookup failed: unexpected username format");
  if (parts[0] != "system" || parts[1] != "serviceaccount") {
    return PermissionDenied("lookup failed: username returned is not a service account");
  }
  ReviewResult r{parts[3], parts[2], str(user, "uid")};
  return r;
}

StatusOr<Response> Login(const State& state, Request& req, const FieldData& f) {
  ASSIGN_OR_RETURN(auto* storage, StorageOf(req));
  std::string role_name = AsciiLower(f.GetString("role"));
  if (role_name.empty()) return InvalidArgument("missing role");
  std::string token = f.GetString("jwt");
  if (token.empty()) return InvalidArgument("missing jwt");
  ASSIGN_OR_RETURN(auto role, LoadRole(storage, role_name));
  if (!role) return InvalidArgument("invalid role name \"" + role_name.substr(0, 128) + "\"");
  RETURN_IF_ERROR(jwt::CheckLoginCidrs(role->token, req.remote_address));
  ASSIGN_OR_RETURN(auto stored_config, GetJson(storage, kConfigKey));
  if (!stored_config) return InvalidArgument("could not load backend configuration");
  Config config = Config::FromJson(*stored_config);

  auto jws = jwt::ParseCompactJws(token);
  if (!jws.ok()) return PermissionDenied(jws.status().message());
  if (std::find(kAllowedAlgs.begin(), kAllowedAlgs.end(), jws->alg) == kAllowedAlgs.end()) {
    return PermissionDenied("unsupported signing algorithm \"" + jws->alg.substr(0, 16) + "\"");
  }
  if (!config.pem_keys.empty()) {
    std::vector<jwt::PublicKey> keys;
    for (const auto& pem : config.pem_keys) {
      auto key = jwt::ParsePemPublicKey(pem);
      if (key.ok()) keys.push_back(std::move(*key));
    }
    Status verified = jwt::VerifyJwsSignature(*jws, keys, kAllowedAlgs);
    if (!verified.ok()) return PermissionDenied();
  }
  const json& claims = jws->claims;
  if (claims.contains("exp") || claims.contains("nbf") || claims.contains("iat")) {
    // Vault checks exp/nbf/iat only when present (legacy secret tokens have none, and a token
    // without exp does not expire), with a 60 s clock skew and no further leeway.
    int64_t now = state.options().now();
    json times = json::object();
    for (const char* k : {"exp", "nbf", "iat"}) {
      if (claims.contains(k)) times[k] = claims[k];
    }
    if (!times.contains("exp")) times["exp"] = now + 3600;
    Status s = jwt::ValidateTimeClaims(times, now, jwt::Leeways{0, -1, -1});
    if (!s.ok()) return PermissionDenied(s.message());
  }
  if (!config.disable_iss_validation) {
    std::string expected = config.issuer.empty() ? kDefaultIssuer : config.issuer;
    if (ClaimString(claims, "iss") != expected) return PermissionDenied("invalid issuer (iss) claim");
  }
  ServiceAccount sa = FromClaims(claims);
  if (!role->audience.empty() &&
      std::find(sa.audiences.begin(), sa.audiences.end(), role->audience) == sa.audiences.end()) {
    return PermissionDenied("invalid audience (aud) claim: audience claim does not match any expected audience");
  }
  if (sa.uid.empty()) return PermissionDenied("could not parse UID from claims");
  if (!(role->names.size() == 1 && role->names[0] == "*") && !Allowed(role->names, sa.name)) {
    return PermissionDenied("service account name not authorized");
  }
  if (!(role->namespaces.size() == 1 && role->namespaces[0] == "*") && !Allowed(role->namespaces, sa.ns)) {
    return PermissionDenied("namespace not authorized");
  }

  // The TokenReview: with a reviewer token, or whenever there is no local key to trust.
  std::string reviewer = config.reviewer_jwt;
  std::string ca_pem = config.ca_cert;
  if (!config.disable_local_ca_jwt) {
    if (reviewer.empty()) {
      auto local = ReadFileIfExists(state.options().local_jwt_path);
      if (local.ok() && *local) reviewer = **local;
      while (!reviewer.empty() && (reviewer.back() == '\n' || reviewer.back() == ' ')) reviewer.pop_back();
    }
    if (ca_pem.empty()) {
      auto local = ReadFileIfExists(state.options().local_ca_path);
      if (local.ok() && *local) ca_pem = **local;
    }
  }
  if (!reviewer.empty() || config.pem_keys.empty()) {
    std::vector<std::string> audiences =
        role->audience.empty() ? sa.audiences : std::vector<std::string>{role->audience};
    auto result = Review(state, config, ca_pem, reviewer.empty() ? token : reviewer, token, audiences);
    SecureWipe(reviewer.data(), reviewer.size());
    if (!result.ok()) return result.status();
    if (result->name != sa.name) return PermissionDenied("JWT names did not match");
    if (result->uid != sa.uid) return PermissionDenied("JWT UIDs did not match");
    if (result->ns != sa.ns) return PermissionDenied("JWT namespaces did not match");
  }

  std::string alias = sa.uid;
  if (role->alias_name_source == kAliasName) {
    if (sa.ns.empty() || sa.name.empty()) return PermissionDenied("service account namespace and name must be set");
    alias = sa.ns + "/" + sa.name;
  }
  std::map<std::string, std::string> metadata = {{"service_account_uid", sa.uid},
                                                 {"service_account_name", sa.name},
                                                 {"service_account_namespace", sa.ns},
                                                 {"service_account_secret_name", sa.secret_name}};
  logical::Auth auth;
  role->token.PopulateAuth(&auth);
  auth.alias.name = alias;
  auth.alias.metadata = metadata;
  auth.metadata = metadata;
  auth.metadata["role"] = role_name;
  auth.display_name = sa.ns + "-" + sa.name;
  Response resp;
  resp.login = std::move(auth);
  return resp;
}

constexpr char kHelp[] =
    "The Kubernetes auth method authenticates Kubernetes service accounts with their JWTs, checked locally "
    "and through the cluster's TokenReview API.";

}  // namespace

StatusOr<std::unique_ptr<logical::Backend>> NewKubernetesBackend(const logical::BackendConfig& config) {
  return NewKubernetesBackendWithOptions(config, KubernetesBackendOptions{});
}

StatusOr<std::unique_ptr<logical::Backend>> NewKubernetesBackendWithOptions(const logical::BackendConfig& config,
                                                                            KubernetesBackendOptions options) {
  (void)config;
  auto state = std::make_shared<const State>(std::move(options));
  std::vector<logical::Path> paths;
  paths.push_back(logical::Path{
      .pattern = "config",
      .fields = ConfigFields(),
      .operations = {{Operation::kRead, ConfigRead},
                     {Operation::kUpdate, ConfigWrite},
                     {Operation::kCreate, ConfigWrite}},
      .help_synopsis = "Configures the Kubernetes API access and the keys that verify service-account JWTs.",
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
      .help_synopsis = "Registers a role: which service accounts may log in, and their token settings.",
  });
  auto login = [state](Request& r, const FieldData& f) { return Login(*state, r, f); };
  paths.push_back(logical::Path{
      .pattern = "login",
      .fields = {{"role", FieldType::kString, "The role to log in against."},
                 {"jwt", FieldType::kString, "The service account's JWT."}},
      .operations = {{Operation::kUpdate, login}, {Operation::kCreate, login}},
      .help_synopsis = "Authenticates a Kubernetes service account.",
  });
  auto backend = std::make_unique<logical::FrameworkBackend>(std::move(paths), kHelp);
  backend->SetUnauthenticatedPaths({"login"});
  return std::unique_ptr<logical::Backend>(std::move(backend));
}

}  // namespace coffer::kubernetes
