// The AWS Secrets Manager provider against a fake transport: request shapes (target, body,
// headers, endpoint, signature scope), region/endpoint/credential resolution, and error mapping.
#include "keysync/aws_provider.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace coffer::keysync {
namespace {

using json = nlohmann::json;

constexpr char kKeyId[] = "AKIDTESTKEY";
constexpr char kSecretKey[] = "sEcReT/aCcEsS+kEy0123456789abcdefghijKLMN";
constexpr char kValue[] =
    "DOTENV_PRIVATE_KEY_PRODUCTION=ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1";

struct Fake {
  std::map<std::string, std::string> vars = {{"AWS_ACCESS_KEY_ID", kKeyId}, {"AWS_SECRET_ACCESS_KEY", kSecretKey}};
  std::map<std::string, std::string> files;
  std::vector<net::HttpCall> calls;
  std::vector<std::pair<long, std::string>> replies;  // served in order; the last one repeats
  std::optional<Status> transport_error;

  s3::AwsEnvironment Env() {
    s3::AwsEnvironment env;
    env.getenv = [this](const char* n) -> std::optional<std::string> {
      auto it = vars.find(n);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    env.read_file = [this](const std::string& p) -> std::optional<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    return env;
  }
  AwsHttpTransport Http() {
    return [this](const net::HttpCall& c) -> StatusOr<net::HttpReply> {
      calls.push_back(c);
      if (transport_error) return *transport_error;
      size_t i = std::min(calls.size() - 1, replies.size() - 1);
      return net::HttpReply{replies[i].first, replies[i].second};
    };
  }
  StatusOr<std::unique_ptr<KeyProvider>> Make(std::string region = "") {
    ProviderSettings s{"aws", "", std::move(region)};
    return NewAwsProvider(s, Env(), Http(), [] { return std::chrono::system_clock::from_time_t(1440938160); });
  }
  std::string Header(size_t call, std::string_view name) const {
    for (const auto& h : calls.at(call).headers) {
      if (h.rfind(std::string(name) + ": ", 0) == 0) return h.substr(name.size() + 2);
    }
    return "<absent>";
  }
};

std::string Str(const SecretString& s) { return std::string(s.data(), s.size()); }

std::string Err(const std::string& type, const std::string& message, const char* key = "Message") {
  return json{{"__type", type}, {key, message}}.dump();
}

TEST(AwsProvider, FetchSendsGetSecretValueSignedForTheDefaultRegion) {
  Fake f;
  f.replies = {{200, json{{"ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-key-AbCdEf"},
                          {"Name", "app-key"},
                          {"VersionId", "0d3a2f5e-7b9c-4a1e-8f6d-2c4b6a8e0f13"},
                          {"SecretString", kValue},
                          {"VersionStages", {"AWSCURRENT"}},
                          {"CreatedDate", 1.7e9}}
                         .dump()}};
  auto p = f.Make();
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto v = (*p)->Fetch("app-key", "ignored-vault");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(Str(*v), kValue);
  ASSERT_EQ(f.calls.size(), 1u);
  const net::HttpCall& c = f.calls[0];
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.url, "https://secretsmanager.us-east-1.amazonaws.com/");
  EXPECT_EQ(json::parse(c.body), json({{"SecretId", "app-key"}}));
  EXPECT_EQ(f.Header(0, "Host"), "secretsmanager.us-east-1.amazonaws.com");
  EXPECT_EQ(f.Header(0, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(f.Header(0, "X-Amz-Target"), "secretsmanager.GetSecretValue");
  EXPECT_EQ(f.Header(0, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(f.Header(0, "X-Amz-Security-Token"), "<absent>");
  const std::string authz = f.Header(0, "Authorization");
  EXPECT_EQ(authz.rfind("AWS4-HMAC-SHA256 Credential=AKIDTESTKEY/20150830/us-east-1/secretsmanager/aws4_request, "
                        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
                        0),
            0u)
      << authz;
  EXPECT_EQ(authz.size() - authz.find("Signature=") - 10, 64u);
}

TEST(AwsProvider, FetchDecodesSecretBinary) {
  Fake f;
  f.replies = {{200, json{{"SecretBinary", "AAEC"}}.dump()}};
  auto p = f.Make();
  ASSERT_TRUE(p.ok());
  auto v = (*p)->Fetch("bin", "");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(Str(*v), std::string("\x00\x01\x02", 3));
}

TEST(AwsProvider, RegionPrecedence) {
  struct Case {
    std::string flag;
    std::map<std::string, std::string> vars;
    std::string config;
    std::string want;
  };
  std::vector<Case> cases = {
      {"eu-west-3", {{"AWS_REGION", "ap-south-1"}}, "", "eu-west-3"},
      {"", {{"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "us-west-2"}}, "", "ap-south-1"},
      {"", {{"AWS_DEFAULT_REGION", "us-west-2"}}, "", "us-west-2"},
      {"", {{"AWS_PROFILE", "team"}}, "[profile team]\nregion = ca-central-1\n", "ca-central-1"},
      {"", {}, "", "us-east-1"},
  };
  for (const Case& c : cases) {
    Fake f;
    f.vars.insert(c.vars.begin(), c.vars.end());
    f.vars["AWS_CONFIG_FILE"] = "/cfg";
    if (!c.config.empty()) f.files["/cfg"] = c.config;
    f.replies = {{200, json{{"SecretString", "x"}}.dump()}};
    auto p = f.Make(c.flag);
    ASSERT_TRUE(p.ok()) << p.status().message();
    ASSERT_TRUE((*p)->Fetch("n", "").ok());
    EXPECT_EQ(f.calls[0].url, "https://secretsmanager." + c.want + ".amazonaws.com/");
    EXPECT_NE(f.Header(0, "Authorization").find("/" + c.want + "/secretsmanager/aws4_request"), std::string::npos)
        << c.want;
  }
}

TEST(AwsProvider, ChinaRegionsUseTheirPartitionDomain) {
  Fake f;
  f.replies = {{200, json{{"SecretString", "x"}}.dump()}};
  auto p = f.Make("cn-north-1");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Fetch("n", "").ok());
  EXPECT_EQ(f.calls[0].url, "https://secretsmanager.cn-north-1.amazonaws.com.cn/");
}

TEST(AwsProvider, EndpointOverrides) {
  Fake f;
  f.vars["AWS_ENDPOINT_URL"] = "http://general:1";
  f.vars["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://127.0.0.1:4566";
  f.replies = {{200, json{{"SecretString", "x"}}.dump()}};
  auto p = f.Make();
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_TRUE((*p)->Fetch("n", "").ok());
  EXPECT_EQ(f.calls[0].url, "http://127.0.0.1:4566/");
  EXPECT_EQ(f.Header(0, "Host"), "127.0.0.1:4566");

  f.vars.erase("AWS_ENDPOINT_URL_SECRETS_MANAGER");
  p = f.Make();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Fetch("n", "").ok());
  EXPECT_EQ(f.calls[1].url, "http://general:1/");

  f.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  p = f.Make();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Fetch("n", "").ok());
  EXPECT_EQ(f.calls[2].url, "https://secretsmanager.us-east-1.amazonaws.com/");
}

TEST(AwsProvider, BadSettingsAreInvalidArgumentsNamingThem) {
  Fake f;
  f.vars["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "ftp://x";
  auto p = f.Make();
  ASSERT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("AWS_ENDPOINT_URL_SECRETS_MANAGER"), std::string::npos);

  Fake g;
  p = g.Make("US_EAST_1");
  ASSERT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("--region"), std::string::npos);

  Fake h;
  h.vars["AWS_CA_BUNDLE"] = "/nope.pem";
  p = h.Make();
  ASSERT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("AWS_CA_BUNDLE"), std::string::npos);

  Fake ok;
  ok.vars["AWS_CA_BUNDLE"] = "/ca.pem";
  ok.files["/ca.pem"] = "-----BEGIN CERTIFICATE-----\n";
  ok.replies = {{200, json{{"SecretString", "x"}}.dump()}};
  p = ok.Make();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Fetch("n", "").ok());
  EXPECT_EQ(ok.calls[0].ca_pem, "-----BEGIN CERTIFICATE-----\n");
}

TEST(AwsProvider, NoCredentialsNamesTheVariablesAndSendsNothing) {
  Fake f;
  f.vars.clear();
  f.vars["HOME"] = "/nonexistent";
  auto p = f.Make();
  ASSERT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_NE(p.status().message().find("AWS_PROFILE"), std::string::npos);
  EXPECT_TRUE(f.calls.empty());
}

TEST(AwsProvider, SharedCredentialsFileWithSessionToken) {
  Fake f;
  f.vars = {{"AWS_SHARED_CREDENTIALS_FILE", "/creds"}, {"AWS_PROFILE", "ci"}};
  f.files["/creds"] =
      "[ci]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n"
      "aws_session_token = tok/en+==\n";
  f.replies = {{200, json{{"SecretString", "x"}}.dump()}};
  auto p = f.Make();
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_TRUE((*p)->Fetch("n", "").ok());
  EXPECT_EQ(f.Header(0, "X-Amz-Security-Token"), "tok/en+==");
  EXPECT_NE(f.Header(0, "Authorization").find("Credential=AKIDFILE/"), std::string::npos);
  EXPECT_NE(f.Header(0, "Authorization").find("x-amz-security-token;x-amz-target"), std::string::npos);
}

TEST(AwsProvider, InvalidNamesAreRefusedBeforeAnyRequest) {
  Fake f;
  f.replies = {{200, "{}"}};
  auto p = f.Make();
  ASSERT_TRUE(p.ok());
  for (std::string bad :
       {std::string(""), std::string(513, 'a'), std::string("has space"), std::string("x:y"), std::string("ü")}) {
    auto v = (*p)->Fetch(bad, "");
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ((*p)->Store(bad, "", "v").code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(f.calls.empty());
  EXPECT_TRUE(CheckAwsSecretName(std::string(512, 'a')).ok());
  EXPECT_TRUE(CheckAwsSecretName("team/app_1+x=y.z@w-v").ok());
  EXPECT_TRUE(CheckAwsSecretName("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf").ok());
}

TEST(AwsProvider, StorePutsThenCreatesWhenAbsent) {
  Fake f;
  f.replies = {{200, json{{"ARN", "a"}, {"Name", "k"}, {"VersionId", "v"}}.dump()}};
  auto p = f.Make();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Store("k", "", kValue).ok());
  ASSERT_EQ(f.calls.size(), 1u);
  EXPECT_EQ(f.Header(0, "X-Amz-Target"), "secretsmanager.PutSecretValue");
  EXPECT_EQ(json::parse(f.calls[0].body), json({{"SecretId", "k"}, {"SecretString", kValue}}));

  Fake g;
  g.replies = {{400, Err("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")},
               {200, json{{"ARN", "a"}, {"Name", "k"}, {"VersionId", "v"}}.dump()}};
  p = g.Make();
  ASSERT_TRUE(p.ok());
  Status s = (*p)->Store("k", "", kValue);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.calls.size(), 2u);
  EXPECT_EQ(g.Header(1, "X-Amz-Target"), "secretsmanager.CreateSecret");
  EXPECT_EQ(json::parse(g.calls[1].body), json({{"Name", "k"}, {"SecretString", kValue}}));
}

TEST(AwsProvider, ErrorMapping) {
  struct Case {
    long status;
    std::string body;
    StatusCode code;
    std::string needle;
  };
  std::vector<Case> cases = {
      {400,
       Err("com.amazonaws.secretsmanager#ResourceNotFoundException",
           "Secrets Manager can't find the specified secret."),
       StatusCode::kNotFound, "not found"},
      {400, Err("AccessDeniedException", "User: arn:aws:iam::1:user/u is not authorized"),
       StatusCode::kPermissionDenied, "access denied"},
      {400, Err("UnrecognizedClientException", "The security token included in the request is invalid."),
       StatusCode::kPermissionDenied, "does not recognise the access key"},
      {400, Err("InvalidSignatureException", "The request signature we calculated does not match", "message"),
       StatusCode::kPermissionDenied, "signature"},
      {400, Err("ExpiredTokenException", "The security token included in the request is expired"),
       StatusCode::kPermissionDenied, "expired"},
      {400, Err("ThrottlingException:http://internal.amazon.com/coral/", "Rate exceeded"), StatusCode::kUnavailable,
       "ThrottlingException: Rate exceeded"},
      {500, "<html>oops</html>", StatusCode::kUnavailable, "HTTP 500"},
      {403, "", StatusCode::kPermissionDenied, "HTTP 403"},
  };
  for (const Case& c : cases) {
    Fake f;
    f.replies = {{c.status, c.body}};
    auto p = f.Make();
    ASSERT_TRUE(p.ok());
    auto v = (*p)->Fetch("app-key", "");
    EXPECT_EQ(v.status().code(), c.code) << c.body << " → " << v.status().message();
    EXPECT_NE(v.status().message().find(c.needle), std::string::npos) << v.status().message();
    EXPECT_EQ(v.status().message().find(kSecretKey), std::string::npos);
    EXPECT_EQ(v.status().message().find("Signature="), std::string::npos);
  }
  Fake t;
  t.transport_error = Unavailable("POST https://secretsmanager.us-east-1.amazonaws.com/: Couldn't connect to server");
  auto p = t.Make();
  ASSERT_TRUE(p.ok());
  auto v = (*p)->Fetch("app-key", "");
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(v.status().message().find("Couldn't connect"), std::string::npos);
}

TEST(AwsProvider, ErrorType) {
  EXPECT_EQ(AwsErrorType("ResourceNotFoundException"), "ResourceNotFoundException");
  EXPECT_EQ(AwsErrorType("com.amazon.coral.service#UnknownOperationException"), "UnknownOperationException");
  EXPECT_EQ(AwsErrorType("aws.x#Throttling:http://internal/"), "Throttling");
}

}  // namespace
}  // namespace coffer::keysync
