#include "resolver/vault_auth.h"

#include <coffer/client.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace coffer::resolver {
namespace {

using json = nlohmann::json;

std::string Var(const EnvLookup& env, const char* name, const std::string& fallback = "") {
  auto v = env(name);
  return v && !v->empty() ? *v : fallback;
}

std::string ServerError(const client::Response& r) {
  if (r.status == 0) return r.errors.empty() ? "no response from the server" : r.errors[0];
  std::string out = "HTTP " + std::to_string(r.status);
  if (!r.errors.empty()) out += ": " + r.errors[0];
  return out;
}

}  // namespace

VaultLogin LoginFromEnvironment(client::VaultClient* client, const EnvLookup& env) {
  VaultLogin result;
  std::string role_id = Var(env, "VAULT_ROLE_ID");
  std::string k8s_role = Var(env, "VAULT_K8S_ROLE");
  std::string path;
  json body;
  if (!role_id.empty()) {
    result.method = "AppRole (VAULT_ROLE_ID)";
    path = "auth/" + Var(env, "VAULT_APPROLE_MOUNT", "approle") + "/login";
    body = {{"role_id", role_id}};
    if (auto secret = env("VAULT_SECRET_ID"); secret && !secret->empty()) body["secret_id"] = *secret;
  } else if (!k8s_role.empty()) {
    result.method = "Kubernetes (VAULT_K8S_ROLE)";
    std::string token_path = Var(env, "VAULT_K8S_TOKEN_PATH", kDefaultK8sTokenPath);
    std::ifstream in(token_path, std::ios::binary);
    if (!in) {
      result.attempted = true;
      result.error = "cannot read the service-account token " + token_path;
      return result;
    }
    std::ostringstream jwt;
    jwt << in.rdbuf();
    std::string text = jwt.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    path = "auth/" + Var(env, "VAULT_K8S_MOUNT", "kubernetes") + "/login";
    body = {{"role", k8s_role}, {"jwt", text}};
  } else {
    return result;
  }
  result.attempted = true;
  client::Response r = client->Login(path, body);
  if (!r.ok()) {
    result.error = "login at " + path + " failed: " + ServerError(r);
    result.unreachable = r.status == 0;
  }
  return result;
}

std::string RenewTokenIfExpiring(client::VaultClient* client) {
  client::Response r = client->Read("auth/token/lookup-self");
  if (!r.ok()) return r.status == 0 ? "" : "warning: token lookup failed (HTTP " + std::to_string(r.status) + ")";
  const json& d = r.body["data"];
  int64_t ttl = d.contains("ttl") && d["ttl"].is_number() ? d["ttl"].get<int64_t>() : 0;
  bool renewable = d.contains("renewable") && d["renewable"].is_boolean() && d["renewable"].get<bool>();
  if (ttl <= 0 || ttl >= 3600 || !renewable) return "";
  client::Response w = client->Write("auth/token/renew-self", json::object());
  if (!w.ok()) return "warning: token renewal failed (HTTP " + std::to_string(w.status) + ")";
  return "";
}

}  // namespace coffer::resolver
