#include "s3/config.h"

#include <gtest/gtest.h>

namespace coffer::s3 {
namespace {

TEST(ConfigTest, ParsesBackendBlockAndDeclaredSecrets) {
  auto c = ParseS3Config(R"(
secrets:
  backend:
    type: s3
    bucket: team
    region: eu-west-1
    endpoint: http://127.0.0.1:4568
    prefix: secrets/prod/
    encryption:
      algorithm: chacha20poly1305
      key_source: env
      key_env: MY_KEY
    cache:
      enabled: false
      ttl_seconds: 60
      path: /tmp/c
  secrets:
    - name: DB_PASSWORD
      source: s3
      s3_path: db/password
    - name: OTHER
      source: env
)", "coffer.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->has_backend);
  EXPECT_EQ(c->backend.bucket, "team");
  EXPECT_EQ(c->backend.key_source, "env");
  EXPECT_EQ(c->backend.key_env, "MY_KEY");
  EXPECT_FALSE(c->backend.cache_enabled);
  EXPECT_EQ(c->backend.cache_ttl_seconds, 60);
  ASSERT_EQ(c->secrets.size(), 1u);
  EXPECT_EQ(c->secrets[0].s3_path, "db/password");
}

TEST(ConfigTest, ErrorsNameTheFieldAndLine) {
  auto c = ParseS3Config("secrets:\n  backend:\n    bucket: b\n    cache:\n      ttl_seconds: soon\n", "x.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "x.yaml:5: secrets.backend.cache.ttl_seconds: expected a non-negative integer");
  auto k = ParseS3Config("secrets:\n  backend:\n    encryption:\n      key_source: kms\n", "x.yaml");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("secrets.backend.encryption.key_source"), std::string::npos);
  auto u = ParseS3Config("secrets:\n  backend:\n    buckt: b\n", "x.yaml");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("secrets.backend.buckt: unknown key"), std::string::npos);
  EXPECT_FALSE(ParseS3Config("secrets: [unclosed", "x.yaml").ok());
}

TEST(ConfigTest, RenderedConfigLoadsBack) {
  BackendConfig b;
  b.bucket = "bk";
  b.endpoint = "http://localhost:1";
  b.key_file = "/k/master.key";
  auto c = ParseS3Config(RenderS3Config(b), "r.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->backend.bucket, "bk");
  EXPECT_EQ(c->backend.key_file, "/k/master.key");
  EXPECT_EQ(c->backend.endpoint, "http://localhost:1");
}

}  // namespace
}  // namespace coffer::s3
