// libFuzzer target for what `coffer sync` reads from outside: envdrift.toml / pyproject.toml /
// pair.txt (a cloned repository's files), the value a vault returns for a key (NormalizeKey),
// and the bodies AWS Secrets Manager and Azure Key Vault (or anything posing as them) answer.
// The first byte picks the parser; the rest is its input. A normalised key must be 64 lower-case
// hex characters; provider failures must be one of the documented status codes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "keysync/aws_provider.h"
#include "keysync/azure_provider.h"
#include "keysync/config.h"
#include "keysync/sync.h"

namespace {

using coffer::StatusCode;

void Require(bool condition) {
  if (!condition) std::abort();
}

void CheckFetch(const coffer::StatusOr<coffer::SecretString>& r) {
  if (r.ok()) return;
  StatusCode c = r.status().code();
  Require(c == StatusCode::kNotFound || c == StatusCode::kPermissionDenied || c == StatusCode::kUnavailable ||
          c == StatusCode::kInvalidArgument);
}

void FuzzAws(std::string_view body, long status) {
  coffer::s3::AwsEnvironment env;
  env.getenv = [](const char* name) -> std::optional<std::string> {
    std::string_view n(name);
    if (n == "AWS_ACCESS_KEY_ID") return "AKIDEXAMPLE";
    if (n == "AWS_SECRET_ACCESS_KEY") return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return std::nullopt;
  };
  env.read_file = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto http = [&](const coffer::net::HttpCall&) -> coffer::StatusOr<coffer::net::HttpReply> {
    return coffer::net::HttpReply{status, std::string(body)};
  };
  coffer::keysync::ProviderSettings settings{"aws", "", "eu-west-1"};
  auto provider = coffer::keysync::NewAwsProvider(settings, env, http);
  Require(provider.ok());
  CheckFetch((*provider)->Fetch("app-key", ""));
  (void)(*provider)->Store("app-key", "", "DOTENV_PRIVATE_KEY=00");
}

void FuzzAzure(std::string_view body, long status, bool token_reply) {
  auto env = [](const char* name) -> const char* {
    std::string_view n(name);
    if (n == "AZURE_TENANT_ID") return "11111111-2222-3333-4444-555555555555";
    if (n == "AZURE_CLIENT_ID") return "client";
    if (n == "AZURE_CLIENT_SECRET") return "secret";
    return nullptr;
  };
  // Either the sign-in answers with the fuzz body, or it succeeds and Key Vault answers with it.
  auto http = [&](const coffer::net::HttpCall& call) -> coffer::StatusOr<coffer::net::HttpReply> {
    bool token_call = call.url.find("/oauth2/") != std::string::npos;
    if (token_call && !token_reply) {
      return coffer::net::HttpReply{200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"t"})"};
    }
    return coffer::net::HttpReply{status, std::string(body)};
  };
  coffer::keysync::ProviderSettings settings{"azure", "https://v.vault.azure.net", ""};
  auto provider = coffer::keysync::NewAzureProvider(settings, env, http);
  Require(provider.ok());
  CheckFetch((*provider)->Fetch("app-key", ""));
  (void)(*provider)->Store("app-key", "", "DOTENV_PRIVATE_KEY=00");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  static constexpr long kStatuses[] = {200, 400, 401, 403, 404, 409, 429, 500};
  const long status = kStatuses[(mode >> 3) % 8];
  switch (mode % 6) {
    case 0: {
      auto c = coffer::keysync::ParseEnvdriftToml(text);
      if (c.ok()) {
        for (const auto& m : c->mappings) Require(!m.secret_name.empty() && !m.folder_path.empty() && !m.environment.empty());
      }
      (void)coffer::keysync::ParseEnvdriftToml(text, "tool.envdrift");
      break;
    }
    case 1: {
      auto c = coffer::keysync::ParsePairTxt(text);
      if (c.ok()) {
        for (const auto& m : c->mappings) Require(!m.secret_name.empty() && !m.folder_path.empty());
      }
      break;
    }
    case 2:
      for (std::string_view env : {"production", ""}) {
        auto key = coffer::keysync::NormalizeKey(text, env);
        if (!key.ok()) {
          Require(key.status().code() == StatusCode::kInvalidArgument);
          continue;
        }
        Require(key->size() == 64);
        for (char c : *key) Require((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
      }
      break;
    case 3:
      FuzzAws(text, status);
      break;
    case 4:
      FuzzAzure(text, status, /*token_reply=*/false);
      break;
    case 5:
      FuzzAzure(text, status, /*token_reply=*/true);
      break;
  }
  return 0;
}
