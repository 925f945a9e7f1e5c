// Azure Key Vault over its REST API, signed in with Entra ID client credentials.
//   token: POST {authority}/{tenant}/oauth2/v2.0/token (form: grant_type=client_credentials,
//          client_id, client_secret, scope) → {"token_type":"Bearer","expires_in":N,"access_token":...}
//          errors {"error": "invalid_client", "error_description": "AADSTS7000215: ...\r\nTrace ID: ..."}
//   read:  GET {vault}/secrets/{name}?api-version=7.4 → {"value", "id", "attributes"}
//   write: PUT {vault}/secrets/{name}?api-version=7.4 {"value": ...} → a new version
//          errors {"error": {"code": "SecretNotFound" | "Forbidden" | ..., "message", "innererror"}}
// Every buffer that held the client secret, the token or a secret value is wiped after use.
#include "keysync/azure_provider.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/secret_bytes.h"

namespace coffer::keysync {
namespace {

using json = nlohmann::json;

constexpr char kApiVersion[] = "7.4";
constexpr char kDefaultAuthority[] = "https://login.microsoftonline.com";
constexpr char kPublicCloudScope[] = "https://vault.azure.net/.default";
constexpr size_t kMaxCaBundleBytes = 4 << 20;
// A token is renewed this long before Entra ID says it expires.
constexpr std::chrono::seconds kExpiryMargin{60};

void Wipe(std::string& s) {
  SecureWipe(s.data(), s.size());
  s.clear();
}

void WipeCall(net::HttpCall& call) {
  Wipe(call.body);
  for (auto& h : call.headers) Wipe(h);
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = AsciiLower(host);
  return h == "127.0.0.1" || h == "::1" || h == "[::1]" || h == "localhost";
}

bool IsIpLiteral(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  for (char c : host) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

struct BaseUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets or port
  std::string base;    // scheme://authority, no trailing slash
};

// Parses an http(s) URL that names a host only (an optional trailing "/" is dropped). Anything
// else — no scheme, user info, a path, a query — is kInvalidArgument naming `setting`. Plain
// http is refused unless the host is loopback: a bearer token or client secret must not travel
// in clear.
StatusOr<BaseUrl> ParseBaseUrl(std::string_view url, const std::string& setting, const std::string& example) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(setting + ": " + why + " (expected " + example + ")");
  };
  BaseUrl out;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return bad("not a URL");
  out.scheme = AsciiLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") return bad("the scheme must be https");
  std::string_view rest = url.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) return bad("only the scheme and host are allowed, no path or query");
  if (rest.find('@') != std::string_view::npos) return bad("user info is not allowed");
  if (rest.empty()) return bad("no host");
  std::string_view host = rest;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.empty()) return bad("no host");
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':') {
      return bad("the host has an invalid character");
    }
  }
  out.host = std::string(host);
  if (out.scheme == "http" && !IsLoopbackHost(out.host)) {
    return bad("http is allowed only for a loopback host (127.0.0.1, ::1, localhost); use https");
  }
  out.base = out.scheme + "://" + std::string(rest);
  return out;
}

// The first line of an error text, bounded: Entra ID descriptions carry trace and correlation
// ids on further lines.
std::string FirstLine(std::string_view s) {
  size_t end = s.find_first_of("\r\n");
  std::string line(s.substr(0, end));
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

std::string StringField(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// Key Vault's {"error": {"code", "message", "innererror": {"code"}}}.
struct VaultError {
  std::string code, inner, message;
};

VaultError ParseVaultError(const std::string& body) {
  VaultError e;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return e;
  auto it = j.find("error");
  if (it == j.end() || !it->is_object()) return e;
  e.code = StringField(*it, "code");
  e.message = FirstLine(StringField(*it, "message"));
  auto inner = it->find("innererror");
  if (inner != it->end()) e.inner = StringField(*inner, "code");
  return e;
}

// The two bodies below hold a secret: each is built in one allocation, reserved up front, so no
// reallocation leaves an unwiped copy behind.

// {"value":"..."} with the value as a JSON string (bytes ≥ 0x80 pass through as UTF-8).
std::string JsonValueBody(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(16 + 6 * value.size());
  out.append("{\"value\":\"");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00").push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.append("\"}");
  return out;
}

// application/x-www-form-urlencoded: unreserved characters stay, space is '+', the rest %XX.
void AppendFormEncoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
}

class AzureKeyVaultProvider : public KeyProvider {
 public:
  AzureKeyVaultProvider(BaseUrl vault, std::string authority, std::string tenant, std::string client_id,
                        SecretString client_secret, std::string ca_pem, HttpTransport http)
      : vault_(std::move(vault)),
        authority_(std::move(authority)),
        tenant_(std::move(tenant)),
        client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)),
        ca_pem_(std::move(ca_pem)),
        http_(std::move(http)) {}

  StatusOr<SecretString> Fetch(const std::string& name, const std::string& /*vault_name*/) override {
    RETURN_IF_ERROR(CheckAzureSecretName(name));
    net::HttpCall call = VaultCall("GET", name);
    ASSIGN_OR_RETURN(net::HttpReply reply, Send(call));
    if (reply.status != 200) {
      Status s = VaultFailure("read", name, reply);
      Wipe(reply.body);
      return s;
    }
    json j = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    Wipe(reply.body);
    auto it = j.is_object() ? j.find("value") : j.end();
    if (it == j.end() || !it->is_string()) {
      return Unavailable("azure: reading secret " + name + " from " + vault_.base +
                         ": the answer has no string \"value\"");
    }
    std::string& value = it->get_ref<std::string&>();
    SecretString out(value.begin(), value.end());
    Wipe(value);
    return out;
  }

  Status Store(const std::string& name, const std::string& /*vault_name*/, std::string_view value) override {
    RETURN_IF_ERROR(CheckAzureSecretName(name));
    net::HttpCall call = VaultCall("PUT", name);
    call.body = JsonValueBody(value);
    call.headers.push_back("Content-Type: application/json");
    ASSIGN_OR_RETURN(net::HttpReply reply, Send(call));
    Status s = reply.status == 200 ? OkStatus() : VaultFailure("write", name, reply);
    Wipe(reply.body);  // a successful answer echoes the value
    return s;
  }

 private:
  net::HttpCall VaultCall(const std::string& method, const std::string& name) const {
    net::HttpCall call;
    call.method = method;
    call.url = vault_.base + "/secrets/" + name + "?api-version=" + kApiVersion;
    call.ca_pem = ca_pem_;
    call.headers.push_back("Accept: application/json");
    return call;
  }

  // Adds the bearer token and performs the call; the request is wiped either way.
  StatusOr<net::HttpReply> Send(net::HttpCall& call) {
    Status token = EnsureToken();
    if (!token.ok()) {
      WipeCall(call);
      return token;
    }
    std::string auth = "Authorization: Bearer ";
    auth.append(token_.data(), token_.size());
    call.headers.push_back(std::move(auth));
    StatusOr<net::HttpReply> reply = http_(call);
    WipeCall(call);
    if (!reply.ok()) return reply.status().WithContext("azure");
    return reply;
  }

  Status VaultFailure(const std::string& verb, const std::string& name, const net::HttpReply& reply) const {
    VaultError e = ParseVaultError(reply.body);
    std::string code = e.code.empty() ? "no Key Vault error code" : e.code;
    if (!e.inner.empty()) code += "/" + e.inner;
    std::string detail = "azure: " + verb + " secret " + name + " in " + vault_.base + ": HTTP " +
                         std::to_string(reply.status) + " " + code + (e.message.empty() ? "" : ": " + e.message);
    if (reply.status == 404 && e.code == "SecretNotFound") {
      return NotFound("azure: secret " + name + " not found in " + vault_.base);
    }
    if (reply.status == 401 || reply.status == 403) return PermissionDenied(detail);
    return Unavailable(detail);
  }

  // Signs in once; the token (or the failure, so a bad secret is not retried per mapping) is
  // kept until shortly before it expires.
  Status EnsureToken() {
    if (!token_status_.ok()) return token_status_;
    if (!token_.empty() && std::chrono::steady_clock::now() < token_expiry_) return OkStatus();
    token_status_ = RequestToken();
    return token_status_;
  }

  Status RequestToken() {
    const std::string where = "azure: sign-in to Microsoft Entra ID (" + authority_ + ", tenant " + tenant_ + ")";
    net::HttpCall call;
    call.method = "POST";
    call.url = authority_ + "/" + tenant_ + "/oauth2/v2.0/token";
    call.ca_pem = ca_pem_;
    call.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    const std::string client_id = PercentEncode(client_id_, "", true);
    const std::string scope = PercentEncode(AzureTokenScope(vault_.host), "", true);
    call.body.reserve(100 + client_id.size() + 3 * client_secret_.size() + scope.size());  // no reallocation
    call.body.append("grant_type=client_credentials&client_id=").append(client_id).append("&client_secret=");
    AppendFormEncoded(call.body, std::string_view(client_secret_.data(), client_secret_.size()));
    call.body.append("&scope=").append(scope);
    StatusOr<net::HttpReply> reply = http_(call);
    WipeCall(call);
    if (!reply.ok()) return reply.status().WithContext(where);
    json j = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    Wipe(reply->body);
    if (reply->status != 200) {
      std::string error = StringField(j, "error");
      if (error.empty()) {
        return Unavailable(where + ": HTTP " + std::to_string(reply->status) + " without an OAuth2 error");
      }
      std::string description = FirstLine(StringField(j, "error_description"));
      Redact(description);
      std::string msg = where + " failed: " + error + (description.empty() ? "" : ": " + description);
      return reply->status >= 500 ? Unavailable(msg) : PermissionDenied(msg);
    }
    auto token = j.is_object() ? j.find("access_token") : j.end();
    if (token == j.end() || !token->is_string() || token->get_ref<const std::string&>().empty()) {
      return Unavailable(where + ": the answer has no access_token");
    }
    std::string type = AsciiLower(StringField(j, "token_type"));
    std::string& raw = token->get_ref<std::string&>();
    if (type != "bearer") {
      Wipe(raw);
      return Unavailable(where + ": unexpected token_type (expected Bearer)");
    }
    token_.assign(raw.begin(), raw.end());
    Wipe(raw);
    // expires_in is a number in v2.0 answers (a string in v1.0 ones); default to an hour.
    long long expires_in = 3600;
    if (auto e = j.find("expires_in"); e != j.end()) {
      if (e->is_number_integer()) expires_in = e->get<long long>();
      if (e->is_string()) expires_in = std::atoll(e->get_ref<const std::string&>().c_str());
    }
    token_expiry_ = std::chrono::steady_clock::now() + std::chrono::seconds(expires_in) - kExpiryMargin;
    return OkStatus();
  }

  // Belt and braces: an error text from the network never repeats the client secret.
  void Redact(std::string& text) const {
    std::string_view secret(client_secret_.data(), client_secret_.size());
    if (secret.empty()) return;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
    }
  }

  BaseUrl vault_;
  std::string authority_, tenant_, client_id_;
  SecretString client_secret_;
  std::string ca_pem_;
  HttpTransport http_;
  SecretString token_;
  std::chrono::steady_clock::time_point token_expiry_{};
  Status token_status_;
};

// REQUESTS_CA_BUNDLE: the Azure CLI (and the Python SDK, through requests) trust the PEM bundle
// it names instead of the system store — for TLS-inspecting proxies and private CAs.
StatusOr<std::string> ReadCaBundle(const EnvLookup& env) {
  const char* path = env("REQUESTS_CA_BUNDLE");
  if (path == nullptr || *path == '\0') return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(std::string("REQUESTS_CA_BUNDLE: cannot read ") + path);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (pem.size() > kMaxCaBundleBytes || pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgument(std::string("REQUESTS_CA_BUNDLE: ") + path + " is not a PEM certificate bundle");
  }
  return pem;
}

}  // namespace

std::string AzureTokenScope(std::string_view host) {
  std::string h = AsciiLower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  size_t dot = h.find('.');
  if (IsLoopbackHost(h) || IsIpLiteral(h) || dot == std::string::npos || h.find('.', dot + 1) == std::string::npos) {
    return kPublicCloudScope;
  }
  return "https://" + h.substr(dot + 1) + "/.default";
}

Status CheckAzureSecretName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 127;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
  if (ok) return OkStatus();
  std::string shown(name.substr(0, 140));
  std::string msg = "secret name \"" + shown +
                    "\": Azure Key Vault secret names are 1-127 characters of letters, digits and dashes";
  if (name.find('_') != std::string_view::npos) {
    msg += "; underscores are not allowed: store the key under a name with dashes and use that name in the mapping";
  }
  return InvalidArgument(msg);
}

StatusOr<std::unique_ptr<KeyProvider>> NewAzureProvider(const ProviderSettings& settings, const EnvLookup& env,
                                                        HttpTransport http) {
  if (settings.vault_url.empty()) {
    return InvalidArgument("--vault-url (or [vault.azure] vault_url) is required for the azure provider");
  }
  ASSIGN_OR_RETURN(BaseUrl vault, ParseBaseUrl(settings.vault_url, "--vault-url (or [vault.azure] vault_url)",
                                               "https://<vault-name>.vault.azure.net"));

  auto get = [&](const char* name) -> std::string_view {
    const char* v = env(name);
    return v == nullptr ? std::string_view() : std::string_view(v);
  };
  std::vector<std::string> missing;
  for (const char* name : {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"}) {
    if (get(name).empty()) missing.push_back(name);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return InvalidArgument("azure: " + list + (missing.size() == 1 ? " is" : " are") +
                           " not set (the azure provider signs in as a service principal with "
                           "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET)");
  }
  std::string tenant(get("AZURE_TENANT_ID"));
  for (char c : tenant) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
      return InvalidArgument("AZURE_TENANT_ID: expected a tenant ID (a GUID) or a domain such as contoso.onmicrosoft.com");
    }
  }

  std::string authority(get("AZURE_AUTHORITY_HOST"));
  if (authority.empty()) authority = kDefaultAuthority;
  if (authority.find("://") == std::string::npos) authority = "https://" + authority;  // as the SDKs accept it
  ASSIGN_OR_RETURN(BaseUrl auth_url, ParseBaseUrl(authority, "AZURE_AUTHORITY_HOST",
                                                  "https://login.microsoftonline.com"));

  ASSIGN_OR_RETURN(std::string ca_pem, ReadCaBundle(env));
  std::string_view secret = get("AZURE_CLIENT_SECRET");
  return std::unique_ptr<KeyProvider>(std::make_unique<AzureKeyVaultProvider>(
      std::move(vault), auth_url.base, tenant, std::string(get("AZURE_CLIENT_ID")),
      SecretString(secret.begin(), secret.end()), std::move(ca_pem), std::move(http)));
}

StatusOr<std::unique_ptr<KeyProvider>> MakeAzureProvider(const ProviderSettings& settings) {
  return NewAzureProvider(
      settings, [](const char* name) -> const char* { return std::getenv(name); }, net::Perform);
}

}  // namespace coffer::keysync
