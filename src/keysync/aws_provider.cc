// AWS Secrets Manager over its JSON 1.1 protocol:
//   POST / Host: secretsmanager.<region>.amazonaws.com
//   Content-Type: application/x-amz-json-1.1, X-Amz-Target: secretsmanager.<Operation>, SigV4
//   GetSecretValue {"SecretId"} → {"ARN","Name","VersionId","SecretString"|"SecretBinary",...}
//   PutSecretValue {"SecretId","SecretString"} → {"ARN","Name","VersionId","VersionStages"}
//   CreateSecret   {"Name","SecretString"}     → {"ARN","Name","VersionId"}
//   errors: HTTP 4xx/5xx {"__type": "[prefix#]Name[:suffix]", "message"|"Message": ...}
// Every buffer that held a secret value, the secret access key, the session token or a signature
// is wiped after use.
#include "keysync/aws_provider.h"

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base/encoding.h"
#include "base/secret_bytes.h"

namespace coffer::keysync {
namespace {

using json = nlohmann::json;

constexpr char kService[] = "secretsmanager";
constexpr char kDefaultRegion[] = "us-east-1";  // envdrift's default
constexpr size_t kMaxNameLength = 512;
constexpr size_t kMaxArnLength = 2048;

void Wipe(std::string& s) {
  SecureWipe(s.data(), s.size());
  s.clear();
}

// One line, bounded: service messages go into our error lines.
std::string OneLine(std::string_view s, size_t max = 300) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c == '\n' || c == '\r') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (s.size() > max) out += "...";
  return out;
}

bool ValidRegion(std::string_view r) {
  if (r.empty() || r.size() > 64 || r.front() == '-' || r.back() == '-') return false;
  for (char c : r) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

struct Endpoint {
  std::string base;  // scheme://authority (no trailing slash)
  std::string host;  // authority, for the Host header
  std::string path;  // "/" or the endpoint's path
};

StatusOr<Endpoint> ParseEndpoint(const std::string& url, const std::string& setting) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(setting + ": " + why + " (expected http(s)://host[:port][/path])");
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return bad("\"" + OneLine(url, 200) + "\" is not a URL");
  std::string scheme = AsciiLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return bad("scheme \"" + scheme + "\" is not http or https");
  std::string rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) return bad("no host");
  if (authority.find('@') != std::string::npos) return bad("credentials in the URL are not supported");
  if (path.find_first_of("?#") != std::string::npos) return bad("a query or fragment is not supported");
  for (char c : authority + path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("spaces or control characters");
  }
  return Endpoint{scheme + "://" + authority, authority, path};
}

std::optional<std::string> NonEmpty(const s3::AwsEnvironment& env, const char* name) {
  std::optional<std::string> v = env.getenv(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

// SigV4 and the JSON protocol for one account/region/endpoint.
class AwsSecretsManager : public KeyProvider {
 public:
  AwsSecretsManager(Endpoint endpoint, std::string region, s3::Credentials creds, std::string ca_pem,
                    AwsHttpTransport http, sigv4::Signer::Clock clock)
      : endpoint_(std::move(endpoint)),
        source_(creds.source),
        signer_(
            sigv4::Credentials{creds.access_key_id, std::move(creds.secret_access_key), std::move(creds.session_token)},
            std::move(region), kService, std::move(clock)),
        ca_pem_(std::move(ca_pem)),
        http_(std::move(http)) {}

  StatusOr<SecretString> Fetch(const std::string& name, const std::string& /*vault_name*/) override {
    RETURN_IF_ERROR(CheckAwsSecretName(name));
    json body = {{"SecretId", name}};
    ASSIGN_OR_RETURN(json reply, Call("GetSecretValue", name, body.dump()));
    SecretString out;
    if (auto it = reply.find("SecretString"); it != reply.end() && it->is_string()) {
      std::string& s = it->get_ref<std::string&>();
      out.assign(s.data(), s.size());
    } else if (auto b = reply.find("SecretBinary"); b != reply.end() && b->is_string()) {
      StatusOr<std::string> raw = Base64Decode(b->get_ref<const std::string&>());
      if (!raw.ok()) {
        WipeJson(reply);
        return Unavailable("AWS Secrets Manager: secret " + name + ": SecretBinary is not base64");
      }
      out.assign(raw->data(), raw->size());
      Wipe(*raw);
    } else {
      WipeJson(reply);
      return NotFound("secret " + name + " has no SecretString or SecretBinary in AWS Secrets Manager");
    }
    WipeJson(reply);
    return out;
  }

  Status Store(const std::string& name, const std::string& /*vault_name*/, std::string_view value) override {
    RETURN_IF_ERROR(CheckAwsSecretName(name));
    json put = json::object();  // assigned, not initializer-listed, so the value is moved in and wiped below
    put["SecretId"] = name;
    put["SecretString"] = std::string(value);
    std::string body = put.dump();
    WipeJson(put);
    StatusOr<json> reply = Call("PutSecretValue", name, body);
    Wipe(body);
    if (reply.ok() || reply.status().code() != StatusCode::kNotFound) return reply.status();
    if (name.rfind("arn:", 0) == 0) return reply.status();  // an ARN names an existing secret
    json create = json::object();
    create["Name"] = name;
    create["SecretString"] = std::string(value);
    body = create.dump();
    WipeJson(create);
    reply = Call("CreateSecret", name, body);
    Wipe(body);
    return reply.status();
  }

 private:
  static void WipeJson(json& j) {
    if (j.is_string()) {
      std::string& s = j.get_ref<std::string&>();
      SecureWipe(s.data(), s.size());
    } else if (j.is_structured()) {
      for (auto& v : j) WipeJson(v);
    }
  }

  // One signed call; the parsed reply on HTTP 200, else the mapped error. `body` is not kept.
  StatusOr<json> Call(const std::string& operation, const std::string& name, const std::string& body) {
    sigv4::Request req;
    req.method = "POST";
    req.path = endpoint_.path;
    req.headers = {{"Host", endpoint_.host},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", std::string(kService) + "." + operation}};
    signer_.Sign(req, body);
    net::HttpCall call;
    call.method = "POST";
    call.url = endpoint_.base + sigv4::UriEncode(endpoint_.path, true);
    call.body = body;
    call.ca_pem = ca_pem_;
    for (auto& [n, v] : req.headers) {
      call.headers.push_back(n + ": " + v);
      Wipe(v);
    }
    StatusOr<net::HttpReply> reply = http_(call);
    Wipe(call.body);
    for (auto& h : call.headers) Wipe(h);
    if (!reply.ok()) return Unavailable("AWS Secrets Manager " + operation + ": " + reply.status().message());
    std::string& text = reply->body;
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    Wipe(text);
    if (reply->status == 200) {
      if (!parsed.is_object()) {
        return Unavailable("AWS Secrets Manager " + operation + ": the reply is not a JSON object");
      }
      return parsed;
    }
    return MapError(operation, name, reply->status, parsed);
  }

  Status MapError(const std::string& operation, const std::string& name, long status, const json& err) const {
    std::string type, message;
    if (err.is_object()) {
      if (auto t = err.find("__type"); t != err.end() && t->is_string()) type = AwsErrorType(t->get<std::string>());
      for (const char* key : {"message", "Message"}) {
        if (auto m = err.find(key); m != err.end() && m->is_string()) message = OneLine(m->get<std::string>());
      }
    }
    const std::string detail =
        type.empty() ? "HTTP " + std::to_string(status) : type + (message.empty() ? "" : ": " + message);
    const std::string where = "AWS Secrets Manager " + operation + " " + name + " (region " + signer_.region() + ")";
    if (type == "ResourceNotFoundException") {
      return NotFound("secret " + name + " not found in AWS Secrets Manager (region " + signer_.region() + ")");
    }
    if (type == "AccessDeniedException") return PermissionDenied(where + ": access denied (" + detail + ")");
    if (type == "UnrecognizedClientException" || type == "InvalidClientTokenId") {
      return PermissionDenied(where + ": AWS does not recognise the access key or session token (" + source_ + ") (" +
                              detail + ")");
    }
    if (type == "InvalidSignatureException" || type == "SignatureDoesNotMatch" ||
        type == "IncompleteSignatureException" || type == "MissingAuthenticationTokenException") {
      return PermissionDenied(where + ": AWS refused the request signature; check the region, the secret access key (" +
                              source_ + ") and the system clock (" + detail + ")");
    }
    if (type == "ExpiredTokenException") {
      return PermissionDenied(where + ": the AWS session token (" + source_ + ") has expired (" + detail + ")");
    }
    if (status == 401 || status == 403) return PermissionDenied(where + ": " + detail);
    return Unavailable(where + ": " + detail);
  }

  Endpoint endpoint_;
  std::string source_;
  sigv4::Signer signer_;
  std::string ca_pem_;
  AwsHttpTransport http_;
};

}  // namespace

std::string AwsErrorType(std::string_view type) {
  if (size_t hash = type.rfind('#'); hash != std::string_view::npos) type = type.substr(hash + 1);
  if (size_t colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  return std::string(type);
}

Status CheckAwsSecretName(std::string_view name) {
  const bool arn = name.rfind("arn:", 0) == 0;
  const size_t max = arn ? kMaxArnLength : kMaxNameLength;
  std::string_view why;
  if (name.empty()) {
    why = "is empty";
  } else if (name.size() > max) {
    why = arn ? "is longer than 2048 characters" : "is longer than 512 characters";
  } else {
    for (char c : name) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("/_+=.@-").find(c) != std::string_view::npos || (arn && c == ':');
      if (!ok) {
        why = "has a character other than letters, digits and /_+=.@-";
        break;
      }
    }
  }
  if (why.empty()) return OkStatus();
  return InvalidArgument("AWS Secrets Manager secret name \"" + OneLine(name, 80) + "\" " + std::string(why));
}

StatusOr<std::unique_ptr<KeyProvider>> NewAwsProvider(const ProviderSettings& settings, const s3::AwsEnvironment& env,
                                                      AwsHttpTransport http, sigv4::Signer::Clock clock) {
  std::string region = settings.region;
  std::string region_from = "--region / [vault.aws] region";
  if (region.empty()) {
    region = s3::ResolveRegion(env);
    region_from = "AWS_REGION / AWS_DEFAULT_REGION / the profile's region";
  }
  if (region.empty()) region = kDefaultRegion;
  if (!ValidRegion(region)) {
    return InvalidArgument(region_from + ": \"" + OneLine(region, 80) +
                           "\" is not an AWS region (lower-case letters, digits and '-', e.g. us-east-1)");
  }

  std::string url = "https://secretsmanager." + region + ".amazonaws.com" + (region.rfind("cn-", 0) == 0 ? ".cn" : "");
  std::string url_from = "the default endpoint";
  const bool ignore = AsciiLower(env.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true";
  if (!ignore) {
    for (const char* var : {"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"}) {
      if (auto v = NonEmpty(env, var)) {
        url = *v;
        url_from = var;
        break;
      }
    }
  }
  ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(url, url_from));

  StatusOr<s3::Credentials> creds = s3::ResolveCredentials(env);
  if (!creds.ok()) {
    if (creds.status().code() == StatusCode::kNotFound) {
      return InvalidArgument("-p aws: " + creds.status().message() + "; AWS_PROFILE selects a profile");
    }
    return InvalidArgument("-p aws: " + creds.status().message());
  }

  std::string ca_pem;
  if (auto bundle = NonEmpty(env, "AWS_CA_BUNDLE")) {
    std::optional<std::string> pem = env.read_file(*bundle);
    if (!pem) return InvalidArgument("AWS_CA_BUNDLE: cannot read " + *bundle);
    ca_pem = std::move(*pem);
  }
  if (!http) http = net::Perform;
  return std::unique_ptr<KeyProvider>(std::make_unique<AwsSecretsManager>(
      std::move(endpoint), std::move(region), std::move(*creds), std::move(ca_pem), std::move(http), std::move(clock)));
}

StatusOr<std::unique_ptr<KeyProvider>> MakeAwsProvider(const ProviderSettings& settings) {
  return NewAwsProvider(settings, s3::AwsEnvironment::Process(), net::Perform);
}

}  // namespace coffer::keysync
