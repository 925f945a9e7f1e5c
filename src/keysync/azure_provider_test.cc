#include "keysync/azure_provider.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace coffer::keysync {
namespace {

using json = nlohmann::json;

constexpr char kSecret[] = "s3cr3t~value+with&odd=chars";
constexpr char kToken[] = "tok-abc.def";
constexpr char kKey[] = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1";

// A scripted Entra ID + Key Vault: records every call and answers from a queue (token calls and
// vault calls separately), so a test states exactly what the service says.
struct FakeAzure {
  std::map<std::string, std::string> env = {{"AZURE_TENANT_ID", "tenant-1"},
                                            {"AZURE_CLIENT_ID", "client-1"},
                                            {"AZURE_CLIENT_SECRET", kSecret},
                                            {"AZURE_AUTHORITY_HOST", "http://127.0.0.1:9"}};
  std::vector<net::HttpCall> calls;
  std::vector<net::HttpReply> token_replies, vault_replies;
  net::HttpReply default_token{200, json{{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", kToken}}.dump()};

  EnvLookup Env() {
    return [this](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    };
  }
  HttpTransport Http() {
    return [this](const net::HttpCall& call) -> StatusOr<net::HttpReply> {
      calls.push_back(call);
      bool token = call.url.find("/oauth2/v2.0/token") != std::string::npos;
      auto& queue = token ? token_replies : vault_replies;
      if (queue.empty()) return token ? default_token : net::HttpReply{500, "{}"};
      net::HttpReply r = queue.front();
      queue.erase(queue.begin());
      return r;
    };
  }
  std::unique_ptr<KeyProvider> Make(const std::string& url = "https://myvault.vault.azure.net/") {
    auto p = NewAzureProvider({"azure", url, ""}, Env(), Http());
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? std::move(*p) : nullptr;
  }
  int TokenCalls() const {
    int n = 0;
    for (const auto& c : calls) n += c.url.find("/oauth2/") != std::string::npos;
    return n;
  }
};

std::string VaultError(const std::string& code, const std::string& message, const std::string& inner = "") {
  json e = {{"error", {{"code", code}, {"message", message}}}};
  if (!inner.empty()) e["error"]["innererror"] = {{"code", inner}};
  return e.dump();
}

std::string Header(const net::HttpCall& call, const std::string& name) {
  for (const auto& h : call.headers) {
    if (h.rfind(name + ": ", 0) == 0) return h.substr(name.size() + 2);
  }
  return "";
}

std::map<std::string, std::string> FormFields(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string pair = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = pair.find('=');
    std::string key = pair.substr(0, eq), raw = eq == std::string::npos ? "" : pair.substr(eq + 1), value;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value += ' ';
      } else if (raw[i] == '%' && i + 2 < raw.size()) {
        value += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        value += raw[i];
      }
    }
    out[key] = value;
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

TEST(AzureProvider, VaultUrlIsRequiredAndMustBeHttpsUnlessLoopback) {
  FakeAzure f;
  auto none = NewAzureProvider({"azure", "", ""}, f.Env(), f.Http());
  ASSERT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(none.status().message(), "--vault-url (or [vault.azure] vault_url) is required for the azure provider");

  auto http = NewAzureProvider({"azure", "http://myvault.vault.azure.net", ""}, f.Env(), f.Http());
  ASSERT_EQ(http.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(http.status().message().find("use https"), std::string::npos) << http.status().message();
  EXPECT_NE(http.status().message().find("--vault-url"), std::string::npos);

  for (const char* ok : {"http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:4000", "https://x.vault.azure.net"}) {
    EXPECT_TRUE(NewAzureProvider({"azure", ok, ""}, f.Env(), f.Http()).ok()) << ok;
  }
  for (const char* bad : {"myvault.vault.azure.net", "ftp://x.vault.azure.net", "https://x.vault.azure.net/secrets",
                          "https://x.vault.azure.net?a=b", "https://"}) {
    auto r = NewAzureProvider({"azure", bad, ""}, f.Env(), f.Http());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // User info is refused and never echoed.
  auto info = NewAzureProvider({"azure", "https://me:hunter2@x.vault.azure.net", ""}, f.Env(), f.Http());
  ASSERT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(info.status().message().find("hunter2"), std::string::npos);
  EXPECT_TRUE(f.calls.empty());  // nothing is sent while building a provider
}

TEST(AzureProvider, MissingEnvironmentNamesEachVariable) {
  FakeAzure f;
  f.env.erase("AZURE_CLIENT_ID");
  f.env["AZURE_CLIENT_SECRET"] = "";
  auto r = NewAzureProvider({"azure", "https://x.vault.azure.net", ""}, f.Env(), f.Http());
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string m = r.status().message();
  EXPECT_NE(m.find("AZURE_CLIENT_ID, AZURE_CLIENT_SECRET are not set"), std::string::npos) << m;
  f.env["AZURE_CLIENT_ID"] = "c";
  f.env["AZURE_CLIENT_SECRET"] = "s";
  f.env["AZURE_TENANT_ID"] = "bad/tenant";
  EXPECT_EQ(NewAzureProvider({"azure", "https://x.vault.azure.net", ""}, f.Env(), f.Http()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AzureProvider, AuthorityHost) {
  FakeAzure f;
  f.env["AZURE_AUTHORITY_HOST"] = "http://login.example.com";
  auto r = NewAzureProvider({"azure", "https://x.vault.azure.net", ""}, f.Env(), f.Http());
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("AZURE_AUTHORITY_HOST"), std::string::npos);

  // Without a scheme it is https, as in the SDKs; unset it is the public cloud's.
  f.env["AZURE_AUTHORITY_HOST"] = "login.microsoftonline.us/";
  f.vault_replies = {{200, R"({"value":"v"})"}};
  ASSERT_TRUE(f.Make()->Fetch("k", "").ok());
  EXPECT_EQ(f.calls[0].url, "https://login.microsoftonline.us/tenant-1/oauth2/v2.0/token");
  FakeAzure g;
  g.env.erase("AZURE_AUTHORITY_HOST");
  g.vault_replies = {{200, R"({"value":"v"})"}};
  ASSERT_TRUE(g.Make()->Fetch("k", "").ok());
  EXPECT_EQ(g.calls[0].url, "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token");
}

TEST(AzureProvider, TokenScopeFollowsTheVaultDomain) {
  EXPECT_EQ(AzureTokenScope("myvault.vault.azure.net"), "https://vault.azure.net/.default");
  EXPECT_EQ(AzureTokenScope("MyVault.Vault.Azure.CN"), "https://vault.azure.cn/.default");
  EXPECT_EQ(AzureTokenScope("v.vault.usgovcloudapi.net"), "https://vault.usgovcloudapi.net/.default");
  EXPECT_EQ(AzureTokenScope("127.0.0.1"), "https://vault.azure.net/.default");
  EXPECT_EQ(AzureTokenScope("localhost"), "https://vault.azure.net/.default");
  EXPECT_EQ(AzureTokenScope("::1"), "https://vault.azure.net/.default");
  EXPECT_EQ(AzureTokenScope("example.com"), "https://vault.azure.net/.default");
}

TEST(AzureProvider, SecretNameRule) {
  EXPECT_TRUE(CheckAzureSecretName("myapp-production-key-2").ok());
  EXPECT_TRUE(CheckAzureSecretName(std::string(127, 'a')).ok());
  EXPECT_FALSE(CheckAzureSecretName(std::string(128, 'a')).ok());
  EXPECT_FALSE(CheckAzureSecretName("").ok());
  EXPECT_FALSE(CheckAzureSecretName("a/b").ok());
  EXPECT_FALSE(CheckAzureSecretName("a.b").ok());
  Status s = CheckAzureSecretName("myapp_production_key");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("underscores are not allowed"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("1-127 characters of letters, digits and dashes"), std::string::npos);

  FakeAzure f;
  auto p = f.Make();
  EXPECT_EQ(p->Fetch("my_key", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p->Store("my_key", "", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(f.calls.empty());
}

TEST(AzureProvider, FetchSignsInOnceAndReadsTheValue) {
  FakeAzure f;
  f.vault_replies = {
      {200, json{{"value", kKey}, {"id", "https://myvault.vault.azure.net/secrets/app-key/0123"}}.dump()},
      {200, json{{"value", "second"}, {"attributes", {{"enabled", true}}}}.dump()}};
  auto p = f.Make();
  auto v = p->Fetch("app-key", "ignored-vault-name");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(std::string(v->c_str()), kKey);
  auto w = p->Fetch("other-key", "");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(std::string(w->c_str()), "second");

  ASSERT_EQ(f.calls.size(), 3u);
  EXPECT_EQ(f.TokenCalls(), 1);
  const net::HttpCall& tok = f.calls[0];
  EXPECT_EQ(tok.method, "POST");
  EXPECT_EQ(tok.url, "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token");
  EXPECT_EQ(Header(tok, "Content-Type"), "application/x-www-form-urlencoded");
  auto form = FormFields(tok.body);  // recorded before the provider wiped its buffer
  EXPECT_EQ(form["grant_type"], "client_credentials");
  EXPECT_EQ(form["client_id"], "client-1");
  EXPECT_EQ(form["client_secret"], kSecret);
  EXPECT_EQ(form["scope"], "https://vault.azure.net/.default");
  EXPECT_EQ(f.calls[1].method, "GET");
  EXPECT_EQ(f.calls[1].url, "https://myvault.vault.azure.net/secrets/app-key?api-version=7.4");
  EXPECT_EQ(f.calls[2].url, "https://myvault.vault.azure.net/secrets/other-key?api-version=7.4");
}

TEST(AzureProvider, TokenRequestForm) {
  // Capture the form before the provider wipes it.
  FakeAzure f;
  std::map<std::string, std::string> form;
  std::vector<std::string> vault_auth;
  auto http = [&](const net::HttpCall& call) -> StatusOr<net::HttpReply> {
    if (call.url.find("/oauth2/") != std::string::npos) {
      form = FormFields(call.body);
      return f.default_token;
    }
    vault_auth.push_back(Header(call, "Authorization"));
    return net::HttpReply{200, R"({"value":"x"})"};
  };
  auto p = NewAzureProvider({"azure", "https://kv1.vault.azure.cn", ""}, f.Env(), http);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Fetch("a", "").ok());
  EXPECT_EQ(form["grant_type"], "client_credentials");
  EXPECT_EQ(form["client_id"], "client-1");
  EXPECT_EQ(form["client_secret"], kSecret);
  EXPECT_EQ(form["scope"], "https://vault.azure.cn/.default");
  ASSERT_EQ(vault_auth.size(), 1u);
  EXPECT_EQ(vault_auth[0], std::string("Bearer ") + kToken);
}

TEST(AzureProvider, SignInFailureIsPermissionDeniedWithoutTheSecret) {
  FakeAzure f;
  f.token_replies = {{401, json{{"error", "invalid_client"},
                                {"error_description", std::string("AADSTS7000215: Invalid client secret provided (") +
                                                          kSecret + ").\r\nTrace ID: 1234\r\nCorrelation ID: 5678"},
                                {"error_codes", {7000215}}}
                               .dump()}};
  auto p = f.Make();
  auto r = p->Fetch("app-key", "");
  ASSERT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  const std::string m = r.status().message();
  EXPECT_NE(m.find("invalid_client: AADSTS7000215: Invalid client secret provided"), std::string::npos) << m;
  EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
  EXPECT_EQ(m.find("Trace ID"), std::string::npos) << m;
  // The failure is remembered: the next mapping does not sign in again.
  EXPECT_EQ(p->Fetch("other", "").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(f.TokenCalls(), 1);
  EXPECT_EQ(f.calls.size(), 1u);
}

TEST(AzureProvider, SignInAnswersThatAreNotTokens) {
  for (const net::HttpReply& reply : std::vector<net::HttpReply>{
           {503, "<html>busy</html>"}, {200, R"({"token_type":"Bearer"})"}, {200, R"({"token_type":"pop","access_token":"t"})"}}) {
    FakeAzure f;
    f.token_replies = {reply};
    auto r = f.Make()->Fetch("k", "");
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << reply.body;
  }
  FakeAzure f;
  f.token_replies = {{400, R"({"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found."})"}};
  auto r = f.Make()->Fetch("k", "");
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("AADSTS90002"), std::string::npos);
}

TEST(AzureProvider, ExpiredTokenIsRenewed) {
  FakeAzure f;
  f.token_replies = {{200, R"({"token_type":"Bearer","expires_in":"30","access_token":"short"})"}};
  f.vault_replies = {{200, R"({"value":"a"})"}, {200, R"({"value":"b"})"}};
  auto p = f.Make();
  ASSERT_TRUE(p->Fetch("a", "").ok());
  ASSERT_TRUE(p->Fetch("b", "").ok());  // 30 s is inside the renewal margin
  EXPECT_EQ(f.TokenCalls(), 2);
  EXPECT_EQ(Header(f.calls.back(), "Authorization"), std::string("Bearer ") + kToken);
}

TEST(AzureProvider, VaultErrors) {
  struct Case {
    net::HttpReply reply;
    StatusCode code;
    std::string text;
  };
  std::vector<Case> cases = {
      {{404, VaultError("SecretNotFound", "A secret with (name/id) k was not found in this key vault.")},
       StatusCode::kNotFound, "secret k not found in https://myvault.vault.azure.net"},
      {{403, VaultError("Forbidden", "Caller is not authorized to perform action on resource.\r\nCaller: appid=x",
                        "ForbiddenByRbac")},
       StatusCode::kPermissionDenied, "HTTP 403 Forbidden/ForbiddenByRbac: Caller is not authorized"},
      {{403, VaultError("Forbidden", "The policy requires the caller to have get permission.", "ForbiddenByPolicy")},
       StatusCode::kPermissionDenied, "Forbidden/ForbiddenByPolicy"},
      {{401, VaultError("Unauthorized", "AKV10032: Invalid issuer.")}, StatusCode::kPermissionDenied,
       "HTTP 401 Unauthorized: AKV10032"},
      {{400, VaultError("BadParameter", "The specified version (7.4) is not recognized.")}, StatusCode::kUnavailable,
       "HTTP 400 BadParameter"},
      {{409, VaultError("Conflict", "Secret k is currently in a deleted but recoverable state.")},
       StatusCode::kUnavailable, "HTTP 409 Conflict"},
      {{429, VaultError("Throttled", "Too many requests.")}, StatusCode::kUnavailable, "HTTP 429 Throttled"},
      {{404, "<html>not here</html>"}, StatusCode::kUnavailable, "HTTP 404 no Key Vault error code"},
      {{200, R"({"id":"x"})"}, StatusCode::kUnavailable, "no string \"value\""},
  };
  for (const Case& c : cases) {
    FakeAzure f;
    f.vault_replies = {c.reply};
    auto r = f.Make()->Fetch("k", "");
    EXPECT_EQ(r.status().code(), c.code) << c.reply.body;
    EXPECT_NE(r.status().message().find(c.text), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find(kToken), std::string::npos);
  }
}

TEST(AzureProvider, TransportFailureIsUnavailable) {
  FakeAzure f;
  auto http = [](const net::HttpCall& call) -> StatusOr<net::HttpReply> {
    return Unavailable(call.method + " somewhere: Couldn't connect to server");
  };
  auto p = NewAzureProvider({"azure", "https://x.vault.azure.net", ""}, f.Env(), http);
  ASSERT_TRUE(p.ok());
  auto r = (*p)->Fetch("k", "");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("sign-in to Microsoft Entra ID"), std::string::npos) << r.status().message();
}

TEST(AzureProvider, StorePutsJsonValue) {
  FakeAzure f;
  std::string body, content_type, method, url;
  auto http = [&](const net::HttpCall& call) -> StatusOr<net::HttpReply> {
    if (call.url.find("/oauth2/") != std::string::npos) return f.default_token;
    body = call.body;
    content_type = Header(call, "Content-Type");
    method = call.method;
    url = call.url;
    return net::HttpReply{200, json{{"value", "echo"}, {"id", "https://x/secrets/k/1"}}.dump()};
  };
  auto p = NewAzureProvider({"azure", "http://127.0.0.1:1234", ""}, f.Env(), http);
  ASSERT_TRUE(p.ok());
  const std::string value = std::string("DOTENV_PRIVATE_KEY_PRODUCTION=") + kKey + "\n\"quoted\"\t\\ \x01 é";
  ASSERT_TRUE((*p)->Store("app-key", "", value).ok());
  EXPECT_EQ(method, "PUT");
  EXPECT_EQ(url, "http://127.0.0.1:1234/secrets/app-key?api-version=7.4");
  EXPECT_EQ(content_type, "application/json");
  EXPECT_EQ(json::parse(body), (json{{"value", value}}));

  FakeAzure g;
  g.vault_replies = {{403, VaultError("Forbidden", "no set permission", "ForbiddenByRbac")}};
  Status s = g.Make()->Store("app-key", "", "v");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("write secret app-key"), std::string::npos) << s.message();
}

TEST(AzureProvider, CaBundleFromRequestsCaBundle) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("azure-ca-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream(dir / "ca.pem") << pem;
  std::ofstream(dir / "junk.txt") << "not a certificate";

  FakeAzure f;
  f.env["REQUESTS_CA_BUNDLE"] = (dir / "ca.pem").string();
  f.vault_replies = {{200, R"({"value":"x"})"}};
  ASSERT_TRUE(f.Make()->Fetch("k", "").ok());
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].ca_pem, pem);
  EXPECT_EQ(f.calls[1].ca_pem, pem);

  for (const fs::path& bad : {dir / "missing.pem", dir / "junk.txt"}) {
    f.env["REQUESTS_CA_BUNDLE"] = bad.string();
    auto r = NewAzureProvider({"azure", "https://x.vault.azure.net", ""}, f.Env(), f.Http());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("REQUESTS_CA_BUNDLE"), std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace coffer::keysync
