#include <coffer/client.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/output.h"

namespace coffer::cli {

using nlohmann::json;

Context::Context(std::istream& in, std::ostream& out, std::ostream& err, bool vault_mode)
    : in_(&in), out_(&out), err_(&err), vault_mode_(vault_mode) {}

Context::~Context() = default;

bool Context::stdin_is_terminal() const { return ::isatty(0) == 1; }

client::VaultClient* Context::Client() {
  if (client_) return client_.get();
  if (client_failed_) return nullptr;
  std::string env_error;
  client::Config config = client::Config::FromEnvironment(&env_error);
  if (!env_error.empty()) {
    client_failed_ = true;
    UsageError("Error configuring the client: " + env_error);
    return nullptr;
  }
  const GlobalOptions& o = options_;
  // Accepted by the parser because Vault has them, but refused rather than silently ignored:
  // the server has no response wrapping and the client cannot override the TLS server name.
  if (!o.wrap_ttl.empty()) {
    client_failed_ = true;
    UsageError("-wrap-ttl (VAULT_WRAP_TTL): response wrapping is not supported by Coffer");
    return nullptr;
  }
  if (!o.tls_server_name.empty()) {
    client_failed_ = true;
    UsageError("-tls-server-name (VAULT_TLS_SERVER_NAME): setting the TLS server name is not supported yet");
    return nullptr;
  }
  if (!o.address.empty()) config.address = o.address;
  if (!o.agent_address.empty()) config.address = o.agent_address;
  if (!o.ca_cert.empty()) config.ca_cert = o.ca_cert;
  if (!o.ca_path.empty()) config.ca_path = o.ca_path;
  if (!o.client_cert.empty()) config.client_cert = o.client_cert;
  if (!o.client_key.empty()) config.client_key = o.client_key;
  if (o.tls_skip_verify) config.tls_skip_verify = true;
  if (!o.namespace_.empty()) config.namespace_ = o.namespace_;
  // Vault's CLI turns retries off unless VAULT_MAX_RETRIES asks for them.
  const char* retries = std::getenv("VAULT_MAX_RETRIES");
  if (retries == nullptr || *retries == '\0') config.max_retries = 0;
  client_ = std::make_unique<client::VaultClient>(std::move(config));
  return client_.get();
}

namespace {

std::string ShellSingleQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

client::Response Context::Send(std::string_view method, std::string_view path, const json* body,
                               const std::map<std::string, std::string>& query) {
  client::VaultClient* c = Client();
  if (c == nullptr) {
    client::Response r;
    r.method = std::string(method);
    r.errors.push_back("no client");
    return r;
  }
  if (!options_.output_curl_string) {
    if (method == "LIST") return c->List(path);
    return c->Request(method, path, body, query);
  }
  // -output-curl-string: print what Vault's CLI would print and send nothing.
  const client::Config& cfg = c->config();
  std::string m(method);
  std::map<std::string, std::string> q = query;
  if (m == "LIST") {
    m = "GET";
    q["list"] = "true";
  }
  std::string curl = "curl ";
  if (cfg.tls_skip_verify) curl += "--insecure ";
  if (m != "GET") curl += "-X " + m + " ";
  if (!cfg.ca_cert.empty()) curl += "--cacert " + ShellSingleQuote(cfg.ca_cert) + " ";
  if (!cfg.ca_path.empty()) curl += "--capath " + ShellSingleQuote(cfg.ca_path) + " ";
  if (!cfg.client_cert.empty()) curl += "--cert " + ShellSingleQuote(cfg.client_cert) + " ";
  if (!cfg.client_key.empty()) curl += "--key " + ShellSingleQuote(cfg.client_key) + " ";
  if (!cfg.namespace_.empty()) curl += "-H \"X-Vault-Namespace: " + cfg.namespace_ + "\" ";
  curl += "-H \"X-Vault-Request: true\" ";
  if (!cfg.token.empty()) curl += "-H \"X-Vault-Token: $(vault print token)\" ";
  if (body != nullptr && !body->is_null()) curl += "-d " + ShellSingleQuote(body->dump()) + " ";
  std::string address = cfg.address;
  while (!address.empty() && address.back() == '/') address.pop_back();
  curl += address + "/v1/" + std::string(path);
  if (!q.empty()) {
    char sep = '?';
    for (const auto& [k, v] : q) {
      curl += sep + UrlEncode(k) + "=" + UrlEncode(v);
      sep = '&';
    }
  }
  out() << curl << "\n";
  curl_printed_ = true;
  client::Response r;
  r.method = m;
  r.errors.push_back("request not sent (-output-curl-string)");
  return r;
}

int Context::UsageError(std::string_view message) {
  err() << message << "\n";
  return kExitUsage;
}

int Context::Error(std::string_view message) {
  err() << message << "\n";
  return kExitError;
}

int Context::ApiError(std::string_view prefix, const client::Response& response) {
  if (client_failed_) return kExitUsage;
  if (curl_printed_) return kExitError;
  err() << prefix << ": " << response.ErrorText() << "\n";
  return kExitError;
}

void Context::Warn(std::string_view message) { err() << message << "\n"; }

void Context::Info(std::string_view text) { out() << text << "\n"; }

namespace {

json EnvelopeForYaml(const json& r) {
  if (!r.is_object()) return r;
  json o = json::object();
  o["request_id"] = r.value("request_id", json(""));
  o["lease_id"] = r.value("lease_id", json(""));
  o["lease_duration"] = r.value("lease_duration", json(0));
  o["renewable"] = r.value("renewable", json(false));
  o["data"] = r.contains("data") ? r["data"] : json();
  o["warnings"] = r.contains("warnings") ? r["warnings"] : json();
  if (r.contains("auth") && !r["auth"].is_null()) o["auth"] = r["auth"];
  if (r.contains("wrap_info") && !r["wrap_info"].is_null()) o["wrap_info"] = r["wrap_info"];
  if (r.contains("mount_type") && r["mount_type"].is_string() && !r["mount_type"].get<std::string>().empty()) {
    o["mount_type"] = r["mount_type"];
  }
  return o;
}

bool IsYaml(const std::string& f) { return f == "yaml" || f == "yml"; }

}  // namespace

int Context::OutputSecret(const json& response) {
  if (!options_.field.empty()) return OutputField(SecretField(response, options_.field), options_.field);
  const std::string& f = options_.format;
  if (f == "json") {
    out() << SecretJson(response) << "\n";
  } else if (IsYaml(f)) {
    out() << Yaml(EnvelopeForYaml(response)) << "\n";
  } else {
    err() << WarningsBlock(response);
    std::string table = SecretTable(response);
    if (!table.empty()) out() << table << "\n";
  }
  return kExitOk;
}

int Context::OutputData(const json& data) {
  if (!options_.field.empty()) {
    json v;
    if (data.is_object() && data.contains(options_.field)) v = data[options_.field];
    return OutputField(v, options_.field);
  }
  const std::string& f = options_.format;
  if (f == "json") {
    out() << GoJson(data) << "\n";
  } else if (IsYaml(f)) {
    out() << Yaml(data) << "\n";
  } else if (data.is_array()) {
    out() << ListTable(data) << "\n";
  } else {
    std::string table = KeyValueTable(data);
    if (!table.empty()) out() << table << "\n";
  }
  return kExitOk;
}

int Context::OutputList(const json& response) {
  json keys = json::array();
  if (response.is_object() && response.contains("data") && response["data"].is_object() &&
      response["data"].contains("keys")) {
    keys = response["data"]["keys"];
  }
  const std::string& f = options_.format;
  if (f == "json") {
    out() << (options_.detailed ? SecretJson(response) : GoJson(keys)) << "\n";
  } else if (IsYaml(f)) {
    out() << Yaml(options_.detailed ? EnvelopeForYaml(response) : keys) << "\n";
  } else {
    err() << WarningsBlock(response);
    out() << ListTable(keys) << "\n";
  }
  return kExitOk;
}

int Context::OutputField(const json& value, std::string_view name) {
  if (value.is_null()) return Error("Field \"" + std::string(name) + "\" not present in secret");
  std::string text;
  const std::string& f = options_.format;
  if (f == "json") {
    text = GoJson(value);
  } else if (IsYaml(f)) {
    text = Yaml(value);
  } else {
    text = value.is_string() ? value.get<std::string>() : GoValue(value);
  }
  out() << text;
  if (stdout_tty_) out() << "\n";
  out().flush();
  return kExitOk;
}

// ---- helpers ----

int CheckArgCount(Context& ctx, const std::vector<std::string>& args, int min, int max) {
  int n = static_cast<int>(args.size());
  if (n < min) {
    std::string expected = (max == min) ? std::to_string(min) : "at least " + std::to_string(min);
    return ctx.UsageError("Not enough arguments (expected " + expected + ", got " + std::to_string(n) + ")");
  }
  if (max >= 0 && n > max) {
    std::string expected = (max == min) ? std::to_string(max) : "at most " + std::to_string(max);
    return ctx.UsageError("Too many arguments (expected " + expected + ", got " + std::to_string(n) + ")");
  }
  return kExitOk;
}

std::string SanitizePath(std::string_view path) {
  size_t b = path.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = path.find_last_not_of(" \t\r\n");
  path = path.substr(b, e - b + 1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

// Reads a whole regular file; on failure *reason says why (strerror or "is a directory").
bool ReadFile(const std::string& path, std::string* out, std::string* reason) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *reason = std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    *reason = "is a directory";
    return false;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *reason = std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) {
    *reason = "read error";
    return false;
  }
  *out = ss.str();
  return true;
}

namespace {

bool ReadAll(std::istream& in, std::string* out) {
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}


void AddValue(json& result, const std::string& key, json value) {
  if (!result.contains(key)) {
    result[key] = std::move(value);
    return;
  }
  json& existing = result[key];
  if (!existing.is_array()) existing = json::array({existing});
  existing.push_back(std::move(value));
}

}  // namespace

std::optional<json> ParseKeyValues(const std::vector<std::string>& args, std::istream& in, std::string* error) {
  json result = json::object();
  bool stdin_used = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const std::string where = "argument " + std::to_string(i + 1);
    if (arg.empty()) continue;
    const bool json_file = arg[0] == '@' && arg.find('=') == std::string::npos;
    if (arg == "-" || json_file) {
      std::string text;
      std::string source;
      if (arg == "-") {
        if (stdin_used) {
          *error = "Failed to parse K=V data: stdin can be read only once (" + where + ")";
          return std::nullopt;
        }
        stdin_used = true;
        ReadAll(in, &text);
        source = "stdin";
      } else {
        std::string path = arg.substr(1);
        if (!ReadFile(path, &text, error)) {
          *error = "Failed to parse K=V data: cannot read file \"" + path + "\": " + *error;
          return std::nullopt;
        }
        source = "file \"" + path + "\"";
      }
      json parsed;
      try {
        parsed = json::parse(text);
      } catch (const json::parse_error& e) {
        *error = "Failed to parse K=V data: invalid JSON on " + source + " (at byte " + std::to_string(e.byte) + ")";
        return std::nullopt;
      }
      if (!parsed.is_object()) {
        *error = "Failed to parse K=V data: the JSON on " + source + " must be an object";
        return std::nullopt;
      }
      for (auto it = parsed.begin(); it != parsed.end(); ++it) result[it.key()] = it.value();
      continue;
    }
    size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::string hint =
          (!arg.empty() && arg[0] == '-') ? " (flags must come before the path and key=value arguments)" : "";
      *error = "Failed to parse K=V data: invalid key/value pair at " + where + ": format must be key=value" + hint;
      return std::nullopt;
    }
    std::string key = arg.substr(0, eq);
    std::string value = arg.substr(eq + 1);
    if (value == "-") {
      if (stdin_used) {
        *error = "Failed to parse K=V data: stdin can be read only once (key \"" + key + "\")";
        return std::nullopt;
      }
      stdin_used = true;
      ReadAll(in, &value);
    } else if (!value.empty() && value[0] == '@') {
      std::string path = value.substr(1);
      std::string reason;
      if (!ReadFile(path, &value, &reason)) {
        *error = "Failed to parse K=V data: cannot read file \"" + path + "\" for key \"" + key + "\": " + reason;
        return std::nullopt;
      }
    }
    AddValue(result, key, json(std::move(value)));
  }
  return result;
}

}  // namespace coffer::cli
