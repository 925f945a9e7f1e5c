// coffer::client over libcurl. curl types stay in this file.
//
// Connection reuse: the client keeps a pool of curl easy handles. A request borrows one handle
// (creating it when the pool is empty) and returns it afterwards; each handle keeps its own
// keep-alive connection cache, so sequential requests share one TCP/TLS connection and
// concurrent requests each get their own.
#include <coffer/client.h>
#include <curl/curl.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "base/duration.h"
#include "base/encoding.h"
#include "client/retry.h"

namespace coffer::client {

// ---------------------------------------------------------------------------------------------
// Retry policy

bool IsRetryableStatus(int status) {
  if (status == 412 || status == 429) return true;
  return status >= 500 && status != 501;
}

std::chrono::milliseconds RetryWait(std::chrono::milliseconds min_wait, std::chrono::milliseconds max_wait, int attempt,
                                    double random_unit) {
  if (max_wait < min_wait) max_wait = min_wait;
  double base = static_cast<double>(min_wait.count()) * std::pow(2.0, std::min(attempt, 30));
  double wait = base + base * 0.5 * std::clamp(random_unit, 0.0, 1.0);
  wait = std::clamp(wait, static_cast<double>(min_wait.count()), static_cast<double>(max_wait.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(wait));
}

namespace {

// ---------------------------------------------------------------------------------------------
// Environment

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Go's strconv.ParseBool, which Vault uses for VAULT_SKIP_VERIFY.
std::optional<bool> ParseGoBool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return std::nullopt;
}

void SetError(std::string* error, std::string message) {
  if (error && error->empty()) *error = std::move(message);
}

// ---------------------------------------------------------------------------------------------
// URLs

// Percent-encodes a path the way Go's url.URL.EscapedPath does: '/' and the sub-delimiters Go
// leaves alone stay as they are.
std::string EscapePath(std::string_view path) { return PercentEncode(path, "/$&+,:;=@"); }

// Query values like Go's url.QueryEscape (space becomes '+').
std::string EscapeQuery(std::string_view s) { return PercentEncode(s, "", /*space_as_plus=*/true); }

struct HostPort {
  std::string scheme;
  std::string host;  // without brackets
  std::string port;
};

// Splits "scheme://host[:port][/...]"; scheme is empty when the address has none.
HostPort ParseAddress(std::string_view address) {
  HostPort hp;
  size_t p = address.find("://");
  std::string_view rest = address;
  if (p != std::string_view::npos) {
    hp.scheme = std::string(address.substr(0, p));
    std::transform(hp.scheme.begin(), hp.scheme.end(), hp.scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    rest = address.substr(p + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    hp.host = std::string(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    if (close != std::string_view::npos && close + 1 < rest.size() && rest[close + 1] == ':') {
      hp.port = std::string(rest.substr(close + 2));
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    hp.host = std::string(rest.substr(0, colon));
    hp.port = std::string(rest.substr(colon + 1));
  } else {
    hp.host = std::string(rest);
  }
  if (hp.port.empty()) hp.port = hp.scheme == "http" ? "80" : "443";
  return hp;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// "GET" -> "Get", as Go's url.Error prints the operation.
std::string GoOp(std::string_view method) {
  std::string op(method);
  for (size_t i = 1; i < op.size(); ++i) op[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[i])));
  return op;
}

std::string LowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string Seconds(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + "s";
  std::ostringstream o;
  o << static_cast<double>(ms.count()) / 1000.0 << "s";
  return o.str();
}

// Reads every regular file in `dir` into one PEM bundle (Vault's VAULT_CAPATH loads every
// certificate in the directory; OpenSSL's CApath would need hashed names).
bool ReadCaDirectory(const std::string& dir, std::string* bundle) {
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string full = dir + "/" + n;
    struct stat st {};
    if (stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::ifstream in(full, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bundle->append(ss.str());
    bundle->push_back('\n');
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// curl plumbing

struct CurlHandleDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using CurlHandle = std::unique_ptr<CURL, CurlHandleDeleter>;

struct CurlListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct HeaderState {
  std::optional<int64_t> retry_after_seconds;
};

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string head(line.substr(0, kName.size()));
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    if (head == kName) {
      std::string v = Trim(std::string(line.substr(kName.size())));
      if (!v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }) &&
          v.size() < 10) {
        static_cast<HeaderState*>(user)->retry_after_seconds = std::stoll(v);
      }
    }
  }
  return size * n;
}

// One attempt's outcome before it becomes a Response.
struct Attempt {
  CURLcode code = CURLE_OK;
  long status = 0;
  long os_errno = 0;
  std::string body;
  std::string curl_error;  // CURLOPT_ERRORBUFFER text (never contains headers)
  HeaderState headers;
};

bool IsRetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_OK:
    case CURLE_PEER_FAILED_VERIFICATION:  // wrong CA or name: retrying cannot help
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OPERATION_TIMEDOUT:  // the timeout covers all attempts, as in Vault's client
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

Config Config::FromEnvironment(std::string* error) {
  Config c;
  if (error) error->clear();
  if (auto v = Env("VAULT_ADDR"); !v.empty()) c.address = v;
  c.token = Env("VAULT_TOKEN");
  if (c.token.empty()) {
    std::string home = Env("HOME");
    if (!home.empty()) {
      std::ifstream in(home + "/.vault-token", std::ios::binary);
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        c.token = Trim(ss.str());
      }
    }
  }
  c.namespace_ = Env("VAULT_NAMESPACE");
  c.ca_cert = Env("VAULT_CACERT");
  c.ca_path = Env("VAULT_CAPATH");
  c.client_cert = Env("VAULT_CLIENT_CERT");
  c.client_key = Env("VAULT_CLIENT_KEY");
  c.proxy_address = Env("VAULT_PROXY_ADDR");
  if (c.proxy_address.empty()) c.proxy_address = Env("VAULT_HTTP_PROXY");
  if (auto v = Env("VAULT_SKIP_VERIFY"); !v.empty()) {
    if (auto b = ParseGoBool(v)) {
      c.tls_skip_verify = *b;
    } else {
      SetError(error, "VAULT_SKIP_VERIFY: invalid boolean \"" + v + "\" (use true or false)");
    }
  }
  if (auto v = Env("VAULT_CLIENT_TIMEOUT"); !v.empty()) {
    auto secs = ParseDurationSeconds(v);
    if (!secs.ok() || *secs < 0) {
      SetError(error, "VAULT_CLIENT_TIMEOUT: invalid duration \"" + v + "\" (use seconds or a duration such as 30s)");
    } else if (*secs > 0) {
      c.timeout = std::chrono::seconds(*secs);
    }
  }
  if (auto v = Env("VAULT_MAX_RETRIES"); !v.empty()) {
    bool digits = v.size() <= 6 && std::all_of(v.begin(), v.end(), [](unsigned char ch) { return std::isdigit(ch); });
    if (!digits) {
      SetError(error, "VAULT_MAX_RETRIES: invalid number \"" + v + "\" (use a whole number such as 2)");
    } else {
      c.max_retries = std::stoi(v);
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Response

std::string Response::ErrorText() const {
  if (status == 0) return errors.empty() ? std::string("no response from the server") : errors.front();
  std::string out = "Error making API request.\n\n";
  if (!namespace_.empty() && namespace_ != "root" && namespace_ != "root/") {
    out += "Namespace: " + namespace_ + "\n";
  }
  out += "URL: " + method + " " + url + "\n";
  bool structured = body.is_object() && body.contains("errors") && body["errors"].is_array();
  if (structured || (!errors.empty() && raw_body.empty())) {
    out += "Code: " + std::to_string(status) + ". Errors:\n\n";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) out += "\n";
      out += "* " + errors[i];
    }
  } else {
    out += "Code: " + std::to_string(status) + ". Raw Message:\n\n" + raw_body;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// VaultClient

struct VaultClient::Impl {
  Config config;
  std::mutex mu;                 // guards token and idle
  std::vector<CurlHandle> idle;  // handles (with their live connections) ready for reuse
  std::string ca_bundle;         // VAULT_CAPATH contents, loaded once
  bool ca_bundle_loaded = false;
  std::string ca_bundle_error;
  std::mt19937_64 rng{std::random_device{}()};
  std::vector<KvMount> kv_mounts;  // ResolveKvMount cache, guarded by mu

  CurlHandle Borrow() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!idle.empty()) {
        CurlHandle h = std::move(idle.back());
        idle.pop_back();
        return h;
      }
    }
    return CurlHandle(curl_easy_init());
  }
  void Return(CurlHandle h) {
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < 16) idle.push_back(std::move(h));
  }
  double RandomUnit() {
    std::lock_guard<std::mutex> lock(mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  Attempt Perform(CURL* h, const std::string& method, const std::string& url, const std::string* body,
                  const std::string& token, std::chrono::milliseconds budget);
  std::string DescribeFailure(const Attempt& a, const std::string& method, const std::string& url,
                              std::chrono::milliseconds timeout) const;
};

Attempt VaultClient::Impl::Perform(CURL* h, const std::string& method, const std::string& url, const std::string* body,
                                   const std::string& token, std::chrono::milliseconds budget) {
  Attempt a;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(h);  // keeps the live connections and TLS session cache
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, budget.count())));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &ReadHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a.headers);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));

  // TLS
  if (config.tls_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config.ca_cert.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, config.ca_cert.c_str());
  } else if (!config.ca_path.empty() && !ca_bundle.empty()) {
    curl_blob blob{const_cast<char*>(ca_bundle.data()), ca_bundle.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!config.client_cert.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, config.client_cert.c_str());
  if (!config.client_key.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, config.client_key.c_str());

  // Proxies: libcurl reads http_proxy / https_proxy / no_proxy (and NO_PROXY) itself. Like Go's
  // client we also accept HTTP_PROXY, honour VAULT_PROXY_ADDR, and never proxy loopback.
  HostPort hp = ParseAddress(url);
  if (IsLoopbackHost(hp.host)) {
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  } else if (!config.proxy_address.empty()) {
    curl_easy_setopt(h, CURLOPT_PROXY, config.proxy_address.c_str());
  } else if (hp.scheme == "http" && Env("http_proxy").empty() && !Env("HTTP_PROXY").empty()) {
    std::string p = Env("HTTP_PROXY");
    curl_easy_setopt(h, CURLOPT_PROXY, p.c_str());
  }

  // Headers: the token travels only here.
  curl_slist* raw = nullptr;
  raw = curl_slist_append(raw, "X-Vault-Request: true");
  raw = curl_slist_append(raw, "Expect:");
  if (!token.empty()) raw = curl_slist_append(raw, ("X-Vault-Token: " + token).c_str());
  if (!config.namespace_.empty()) raw = curl_slist_append(raw, ("X-Vault-Namespace: " + config.namespace_).c_str());
  if (body) {
    raw = curl_slist_append(
        raw, method == "PATCH" ? "Content-Type: application/merge-patch+json" : "Content-Type: application/json");
  }
  CurlList headers(raw);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }

  a.code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &a.os_errno);
  a.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(a.code);
  // Detach the stack buffers before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, nullptr);
  if (a.code != CURLE_OK) a.status = 0;
  return a;
}

std::string VaultClient::Impl::DescribeFailure(const Attempt& a, const std::string& method, const std::string& url,
                                               std::chrono::milliseconds timeout) const {
  HostPort hp = ParseAddress(url);
  std::string host_port = (hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host) + ":" + hp.port;
  std::string reason;
  switch (a.code) {
    case CURLE_COULDNT_CONNECT:
      reason =
          "dial tcp " + host_port + ": connect: " +
          (a.os_errno ? LowerFirst(std::strerror(static_cast<int>(a.os_errno))) : std::string("connection refused"));
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      reason = "dial tcp: lookup " + hp.host + ": no such host";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      reason = "context deadline exceeded (no response within " + Seconds(timeout) +
               "; raise VAULT_CLIENT_TIMEOUT to wait longer)";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      reason = "tls: failed to verify certificate: " + a.curl_error;
      break;
    case CURLE_SSL_CONNECT_ERROR:
      reason = "tls: handshake failed: " + a.curl_error;
      break;
    case CURLE_SSL_CERTPROBLEM:
      reason = "tls: client certificate or key unusable: " + a.curl_error;
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      reason = "unsupported protocol scheme \"" + hp.scheme + "\"";
      break;
    case CURLE_GOT_NOTHING:
      reason = "EOF (the server closed the connection without a response)";
      break;
    default:
      reason = a.curl_error;
  }
  return GoOp(method) + " \"" + url + "\": " + reason;
}

VaultClient::VaultClient(Config config) : impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->config = std::move(config);
  while (!impl_->config.address.empty() && impl_->config.address.back() == '/') impl_->config.address.pop_back();
  if (impl_->config.ca_cert.empty() && !impl_->config.ca_path.empty() && !impl_->config.tls_skip_verify) {
    if (!ReadCaDirectory(impl_->config.ca_path, &impl_->ca_bundle)) {
      impl_->ca_bundle_error =
          "cannot read VAULT_CAPATH directory " + impl_->config.ca_path + ": " + LowerFirst(std::strerror(errno));
    }
  }
}

VaultClient::~VaultClient() = default;

const Config& VaultClient::config() const { return impl_->config; }

void VaultClient::set_token(std::string token) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->config.token = std::move(token);
}

void VaultClient::set_address(std::string address) {
  while (!address.empty() && address.back() == '/') address.pop_back();
  impl_->config.address = std::move(address);
}

Response VaultClient::Request(std::string_view method, std::string_view path, const nlohmann::json* body,
                              const std::map<std::string, std::string>& query) {
  Response r;
  r.method = std::string(method);
  r.namespace_ = impl_->config.namespace_;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.rfind("v1/", 0) == 0) path.remove_prefix(3);
  r.url = impl_->config.address + "/v1/" + EscapePath(path);
  if (!query.empty()) {
    char sep = '?';
    for (const auto& [k, v] : query) {
      r.url += sep + EscapeQuery(k) + "=" + EscapeQuery(v);
      sep = '&';
    }
  }

  HostPort hp = ParseAddress(impl_->config.address);
  if (hp.scheme != "http" && hp.scheme != "https") {
    r.errors.push_back(GoOp(method) + " \"" + r.url + "\": unsupported protocol scheme \"" + hp.scheme + "\"");
    return r;
  }
  if (!impl_->ca_bundle_error.empty()) {
    r.errors.push_back(impl_->ca_bundle_error);
    return r;
  }

  std::string token;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    token = impl_->config.token;
  }
  std::string payload;
  if (body) payload = body->dump();

  const auto timeout = impl_->config.timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  CurlHandle handle = impl_->Borrow();
  if (!handle) {
    r.errors.push_back("cannot create an HTTP handle (out of memory)");
    return r;
  }
  for (int attempt = 0;; ++attempt) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    Attempt a = impl_->Perform(handle.get(), r.method, r.url, body ? &payload : nullptr, token,
                               std::max(remaining, std::chrono::milliseconds(1)));
    bool retry = a.status == 0 ? IsRetryableCurlError(a.code) : IsRetryableStatus(static_cast<int>(a.status));
    if (retry && attempt < impl_->config.max_retries) {
      auto wait = RetryWait(impl_->config.min_retry_wait, impl_->config.max_retry_wait, attempt, impl_->RandomUnit());
      if (a.headers.retry_after_seconds && (a.status == 429 || a.status == 503)) {
        wait = std::chrono::seconds(*a.headers.retry_after_seconds);
      }
      if (std::chrono::steady_clock::now() + wait < deadline) {
        std::this_thread::sleep_for(wait);
        continue;
      }
    }
    r.status = static_cast<int>(a.status);
    if (r.status == 0) {
      r.errors.push_back(impl_->DescribeFailure(a, r.method, r.url, timeout));
      break;
    }
    r.raw_body = std::move(a.body);
    if (!r.raw_body.empty()) {
      r.body = nlohmann::json::parse(r.raw_body, nullptr, /*allow_exceptions=*/false);
      if (r.body.is_discarded()) r.body = nullptr;
    }
    if (r.body.is_object()) {
      auto collect = [&](const char* key, std::vector<std::string>* out) {
        auto it = r.body.find(key);
        if (it == r.body.end() || !it->is_array()) return;
        for (const auto& e : *it) out->push_back(e.is_string() ? e.get<std::string>() : e.dump());
      };
      collect("errors", &r.errors);
      collect("warnings", &r.warnings);
    }
    break;
  }
  impl_->Return(std::move(handle));
  return r;
}

Response VaultClient::Read(std::string_view path, const std::map<std::string, std::string>& query) {
  return Request("GET", path, nullptr, query);
}

Response VaultClient::Write(std::string_view path, const nlohmann::json& data) { return Request("PUT", path, &data); }

Response VaultClient::Login(std::string_view path, const nlohmann::json& credentials) {
  Response r = Write(path, credentials);
  if (r.ok() && r.body.is_object()) {
    auto auth = r.body.find("auth");
    if (auth != r.body.end() && auth->is_object() && auth->contains("client_token") &&
        (*auth)["client_token"].is_string()) {
      set_token((*auth)["client_token"].get<std::string>());
    }
  }
  return r;
}

Response VaultClient::Patch(std::string_view path, const nlohmann::json& data) { return Request("PATCH", path, &data); }

Response VaultClient::List(std::string_view path) { return Request("LIST", path); }

Response VaultClient::Delete(std::string_view path, const std::map<std::string, std::string>& query) {
  return Request("DELETE", path, nullptr, query);
}

std::optional<VaultClient::KvMount> VaultClient::ResolveKvMount(std::string_view path, Response* error) {
  std::string clean(path);
  while (!clean.empty() && clean.front() == '/') clean.erase(clean.begin());

  // Cached per mount: a path under a mount we already resolved needs no request.
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& m : impl_->kv_mounts) {
      if (!m.mount_path.empty() && (clean.rfind(m.mount_path, 0) == 0 || clean + "/" == m.mount_path)) {
        KvMount out = m;
        out.relative = clean.size() > m.mount_path.size() ? clean.substr(m.mount_path.size()) : std::string();
        return out;
      }
    }
  }

  Response r = Read("sys/internal/ui/mounts/" + clean);
  KvMount out;
  if (r.status == 404) {
    // An older server without the endpoint (or no such mount): Vault's CLI assumes KV v1 and
    // uses the path as given.
    out.version = 1;
    out.relative = clean;
    return out;
  }
  if (!r.ok()) {
    if (error) *error = std::move(r);
    return std::nullopt;
  }
  const nlohmann::json* data = &r.body;
  if (r.body.is_object() && r.body.contains("data") && r.body["data"].is_object()) data = &r.body["data"];
  if (!data->is_object()) {
    r.errors.push_back("nil response from pre-flight request");
    if (error) *error = std::move(r);
    return std::nullopt;
  }
  if (auto it = data->find("path"); it != data->end() && it->is_string()) out.mount_path = it->get<std::string>();
  out.version = 1;
  if (auto opts = data->find("options"); opts != data->end() && opts->is_object()) {
    if (auto v = opts->find("version"); v != opts->end() && v->is_string() && v->get<std::string>() == "2") {
      out.version = 2;
    }
  }
  if (!out.mount_path.empty() && out.mount_path.back() != '/') out.mount_path.push_back('/');
  if (!out.mount_path.empty() && clean.rfind(out.mount_path, 0) == 0) {
    out.relative = clean.substr(out.mount_path.size());
  } else if (!out.mount_path.empty() && clean + "/" == out.mount_path) {
    out.relative.clear();
  } else {
    out.relative = clean;
  }
  if (!out.mount_path.empty()) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->kv_mounts.push_back(out);
  }
  return out;
}

}  // namespace coffer::client
