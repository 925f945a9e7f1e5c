#include "server/api_handler.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/core.h"
#include "engines/kv/backend.h"
#include "physical/inmem.h"

namespace coffer::server {
namespace {

using nlohmann::json;

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::CoreOptions opts;
    opts.storage = physical::NewInmemBackend();
    core_ = std::move(*core::Core::Create(std::move(opts)));
    core_->RegisterEngine("kv", kv::NewKvBackend);
    ASSERT_TRUE(core_->InitializeDev("root").ok());
    core::MountEntry kv;
    kv.path = "secret/";
    kv.type = "kv";
    ASSERT_TRUE(core_->EnableMount(kv).ok());
    handler_ = std::make_unique<ApiHandler>(core_.get());
  }

  http::ApiResponse Do(const std::string& method, const std::string& path, const std::string& body = "",
                       std::vector<std::pair<std::string, std::string>> headers = {{"x-vault-token", "root"}},
                       std::vector<std::pair<std::string, std::string>> query = {}) {
    http::ApiRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.headers = std::move(headers);
    req.query = std::move(query);
    return handler_->Handle(req);
  }

  std::unique_ptr<core::Core> core_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ApiHandlerTest, WriteIs204AndReadHasTheVaultEnvelope) {
  auto w = Do("POST", "/v1/secret/app", R"({"password":"hunter2","n":3})");
  EXPECT_EQ(w.status, 204);
  EXPECT_TRUE(w.body.empty());
  auto r = Do("GET", "/v1/secret/app");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  for (const char* k : {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings",
                        "auth", "mount_type"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["data"]["password"], "hunter2");
  EXPECT_EQ(j["data"]["n"], 3);
  EXPECT_EQ(j["mount_type"], "kv");
  EXPECT_EQ(j["request_id"].get<std::string>().size(), 36u);
}

TEST_F(ApiHandlerTest, ListVerbsAndQueryForm) {
  ASSERT_EQ(Do("PUT", "/v1/secret/a/b", R"({"k":"v"})").status, 204);
  ASSERT_EQ(Do("PUT", "/v1/secret/c", R"({"k":"v"})").status, 204);
  auto l1 = Do("LIST", "/v1/secret/");
  auto l2 = Do("GET", "/v1/secret/", "", {{"x-vault-token", "root"}}, {{"list", "true"}});
  ASSERT_EQ(l1.status, 200) << l1.body;
  EXPECT_EQ(l1.body.size() > 0, true);
  EXPECT_EQ(json::parse(l1.body)["data"]["keys"], json::array({"a/", "c"}));
  EXPECT_EQ(json::parse(l2.body)["data"]["keys"], json::array({"a/", "c"}));
}

TEST_F(ApiHandlerTest, MissingIs404WithEmptyErrors) {
  auto r = Do("GET", "/v1/secret/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"errors":[]})"));
}

TEST_F(ApiHandlerTest, TokenFromBearerHeaderAndDenialWithout) {
  EXPECT_EQ(Do("GET", "/v1/sys/mounts", "", {{"authorization", "Bearer root"}}).status, 200);
  auto denied = Do("GET", "/v1/sys/mounts", "", {});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(json::parse(denied.body)["errors"][0], "permission denied");
}

TEST_F(ApiHandlerTest, SysResponsesCopyDataToTopLevel) {
  auto r = Do("GET", "/v1/sys/mounts");
  json j = json::parse(r.body);
  EXPECT_TRUE(j["data"].contains("secret/"));
  EXPECT_TRUE(j.contains("secret/"));
}

TEST_F(ApiHandlerTest, BadBodiesAre400WithoutEchoingTheBody) {
  auto r = Do("POST", "/v1/secret/x", R"({"password": "topsecret-canary" )");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find("topsecret-canary"), std::string::npos);
  EXPECT_EQ(Do("POST", "/v1/secret/x", "[1,2]").status, 400);
  EXPECT_EQ(Do("GET", "/v1/secret/x").status, 404);  // nothing stored by the bad requests
}

TEST_F(ApiHandlerTest, PatchNeedsMergePatchContentType) {
  ASSERT_EQ(Do("POST", "/v1/secret/p", R"({"a":1})").status, 204);
  EXPECT_EQ(Do("PATCH", "/v1/secret/p", R"({"a":2})").status, 415);
  auto r = Do("PATCH", "/v1/secret/p", R"({"a":2})",
              {{"x-vault-token", "root"}, {"content-type", "application/merge-patch+json"}});
  EXPECT_EQ(r.status, 405);  // KV v1 has no patch, like Vault
}

TEST_F(ApiHandlerTest, PathsOutsideV1AndRelativeSegments) {
  EXPECT_EQ(Do("GET", "/v2/secret/a").status, 404);
  EXPECT_EQ(Do("GET", "/v1/secret/../sys/mounts").status, 400);
  EXPECT_EQ(Do("BREW", "/v1/secret/a").status, 405);
}

TEST_F(ApiHandlerTest, HealthIsRawWithStatusOverrides) {
  auto r = Do("GET", "/v1/sys/health", "", {});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["sealed"], false);
  EXPECT_FALSE(json::parse(r.body).contains("data"));
  ASSERT_TRUE(core_->Seal().ok());
  EXPECT_EQ(Do("GET", "/v1/sys/health", "", {}).status, 503);
  EXPECT_EQ(Do("GET", "/v1/sys/health", "", {}, {{"sealedcode", "200"}}).status, 200);
  EXPECT_EQ(Do("HEAD", "/v1/sys/health", "", {}).body, "");
  auto sealed = Do("GET", "/v1/secret/app");
  EXPECT_EQ(sealed.status, 503);
  EXPECT_EQ(json::parse(sealed.body)["errors"][0], "Vault is sealed");
}

}  // namespace
}  // namespace coffer::server

namespace coffer::server {
namespace {

TEST_F(ApiHandlerTest, DeeplyNestedBodiesAreRefusedNotACrash) {
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = Do("POST", "/v1/secret/deep", deep);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("maximum depth"), std::string::npos);
  // Brackets inside strings do not count.
  std::string in_string = "{\"a\":\"" + std::string(5000, '[') + "\"}";
  EXPECT_EQ(Do("POST", "/v1/secret/brackets", in_string).status, 204);
  std::string ok = "{\"a\":" + std::string(900, '[') + std::string(900, ']') + "}";
  EXPECT_EQ(Do("POST", "/v1/secret/ok", ok).status, 204);
  EXPECT_EQ(Do("GET", "/v1/secret/ok").status, 200);
}

}  // namespace
}  // namespace coffer::server
