// coffer::client — a Vault-compatible HTTP client (libcurl underneath, never exposed here).
//
// Public API: other C++ programs link coffer_client and include <coffer/client.h>.
// No call throws; every call returns a Response whose ok() says whether it succeeded.
// The token is never part of any error text.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::client {

// Where and how to connect. FromEnvironment() fills it the way Vault's CLI does.
struct Config {
  std::string address = "https://127.0.0.1:8200";  // VAULT_ADDR
  std::string token;                               // VAULT_TOKEN, else ~/.vault-token
  std::string namespace_;                          // VAULT_NAMESPACE -> X-Vault-Namespace
  std::string ca_cert;                             // VAULT_CACERT
  std::string ca_path;                             // VAULT_CAPATH
  std::string client_cert;                         // VAULT_CLIENT_CERT
  std::string client_key;                          // VAULT_CLIENT_KEY
  bool tls_skip_verify = false;                    // VAULT_SKIP_VERIFY
  std::chrono::milliseconds timeout{60000};        // VAULT_CLIENT_TIMEOUT (seconds or duration)
  int max_retries = 2;                             // VAULT_MAX_RETRIES (412/429/5xx/connection)
  std::chrono::milliseconds min_retry_wait{1000};  // backoff bounds (Vault: 1s .. 1.5s)
  std::chrono::milliseconds max_retry_wait{1500};
  // VAULT_PROXY_ADDR / VAULT_HTTP_PROXY; when empty, http_proxy, https_proxy and no_proxy apply.
  std::string proxy_address;

  // Reads the VAULT_* variables and the token helper file (~/.vault-token). `error` gets one line
  // naming the variable when a value is malformed (e.g. VAULT_MAX_RETRIES=abc).
  static Config FromEnvironment(std::string* error = nullptr);
};

// One HTTP exchange. status == 0 means no HTTP response arrived (connection refused, TLS
// failure, timeout); `errors` then holds one local message.
struct Response {
  int status = 0;
  std::string method;                 // "GET", "PUT", ...
  std::string url;                    // full URL of the request (never contains the token)
  nlohmann::json body;                // parsed JSON body; null when the body was empty (204)
  std::string raw_body;               // the body as received
  std::vector<std::string> errors;    // the server's "errors" list, or a local error
  std::vector<std::string> warnings;  // the server's "warnings" list
  std::string namespace_;             // X-Vault-Namespace sent with the request, if any

  bool ok() const { return status >= 200 && status < 300 && errors.empty(); }
  // Vault's CLI text: "Error making API request.\n\nURL: GET ...\nCode: 403. Errors:\n\n* ..."
  std::string ErrorText() const;
};

class VaultClient {
 public:
  explicit VaultClient(Config config);
  ~VaultClient();
  VaultClient(const VaultClient&) = delete;
  VaultClient& operator=(const VaultClient&) = delete;

  const Config& config() const;
  void set_token(std::string token);
  // Changes the server address (e.g. from a -address flag); not thread-safe against requests.
  void set_address(std::string address);

  // Raw call: path is relative to /v1/ (e.g. "secret/data/app"); query is appended URL-encoded.
  // body (if any) is sent as JSON. PATCH is sent with Content-Type application/merge-patch+json.
  Response Request(std::string_view method, std::string_view path, const nlohmann::json* body = nullptr,
                   const std::map<std::string, std::string>& query = {});

  // Generic verbs as Vault's CLI uses them. List uses the LIST method.
  Response Read(std::string_view path, const std::map<std::string, std::string>& query = {});
  Response Write(std::string_view path, const nlohmann::json& data);
  Response Patch(std::string_view path, const nlohmann::json& data);
  Response List(std::string_view path);
  Response Delete(std::string_view path, const std::map<std::string, std::string>& query = {});
  // An auth method's login (e.g. "auth/approle/login" with {role_id, secret_id}): on success
  // the client uses the token from the response's auth block for every later request.
  Response Login(std::string_view path, const nlohmann::json& credentials);

  // KV: resolves the mount of `path` with GET sys/internal/ui/mounts/<path> (cached per mount).
  struct KvMount {
    std::string mount_path;  // e.g. "secret/"
    int version = 1;         // 1 or 2
    std::string relative;    // the part of the path below the mount
  };
  // On failure returns nullopt and fills *error with the failing response.
  std::optional<KvMount> ResolveKvMount(std::string_view path, Response* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::client
