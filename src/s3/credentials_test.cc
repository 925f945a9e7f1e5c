#include "s3/credentials.h"

#include <gtest/gtest.h>

namespace coffer::s3 {
namespace {

AwsEnvironment Fake(std::map<std::string, std::string> env, std::map<std::string, std::string> files) {
  AwsEnvironment e;
  e.getenv = [env](const char* n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  e.read_file = [files](const std::string& p) -> std::optional<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  return e;
}

TEST(CredentialsTest, EnvironmentFirst) {
  auto c = ResolveCredentials(Fake({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "sek"},
                                    {"AWS_SESSION_TOKEN", "tok"}, {"HOME", "/h"}},
                                   {{"/h/.aws/credentials", "[default]\naws_access_key_id=OTHER\naws_secret_access_key=x\n"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(std::string(c->session_token.c_str()), "tok");
  EXPECT_EQ(c->source, "environment");
}

TEST(CredentialsTest, HalfConfiguredEnvironmentIsAnErrorWithoutTheKey) {
  auto c = ResolveCredentials(Fake({{"AWS_ACCESS_KEY_ID", "AKID"}}, {}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(CredentialsTest, SharedFileProfileAndConfigFile) {
  std::string creds = "# comment\n[default]\naws_access_key_id = D\naws_secret_access_key = dsecret ; inline\n"
                      "[work]\r\naws_access_key_id=W\r\naws_secret_access_key=wsecret\r\n";
  std::string config = "[default]\nregion = us-west-2\n[profile work]\nregion=eu-central-1\ns3 =\n  addressing_style = path\n"
                       "[profile cfgonly]\naws_access_key_id=C\naws_secret_access_key=csecret\n";
  std::map<std::string, std::string> files{{"/h/.aws/credentials", creds}, {"/h/.aws/config", config}};
  auto d = ResolveCredentials(Fake({{"HOME", "/h"}}, files));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->access_key_id, "D");
  EXPECT_EQ(std::string(d->secret_access_key.c_str()), "dsecret");
  EXPECT_EQ(ResolveRegion(Fake({{"HOME", "/h"}}, files)), "us-west-2");
  auto w = ResolveCredentials(Fake({{"HOME", "/h"}, {"AWS_PROFILE", "work"}}, files));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->access_key_id, "W");
  EXPECT_EQ(ResolveRegion(Fake({{"HOME", "/h"}, {"AWS_PROFILE", "work"}}, files)), "eu-central-1");
  auto c = ResolveCredentials(Fake({{"HOME", "/h"}, {"AWS_PROFILE", "cfgonly"}}, files));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "C");
  EXPECT_EQ(ResolveRegion(Fake({{"HOME", "/h"}, {"AWS_REGION", "ap-south-1"}}, files)), "ap-south-1");
  EXPECT_EQ(ResolveRegion(Fake({{"HOME", "/h"}, {"AWS_DEFAULT_REGION", "sa-east-1"}}, files)), "sa-east-1");
}

TEST(CredentialsTest, FileLocationsFromEnvironmentAndMissing) {
  auto c = ResolveCredentials(Fake({{"HOME", "/h"}, {"AWS_SHARED_CREDENTIALS_FILE", "/x/c"}},
                                   {{"/x/c", "[default]\naws_access_key_id=X\naws_secret_access_key=y\n"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "X");
  auto none = ResolveCredentials(Fake({{"HOME", "/h"}}, {}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  auto half = ResolveCredentials(Fake({{"HOME", "/h"}}, {{"/h/.aws/credentials", "[default]\naws_access_key_id=X\n"}}));
  ASSERT_FALSE(half.ok());
}

}  // namespace
}  // namespace coffer::s3
