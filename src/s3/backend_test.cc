#include "s3/backend.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace coffer::s3 {
namespace {

TEST(BackendTest, MasterKeyFromEnvOrFile) {
  auto id = age::X25519Identity::Generate();
  SecretString text = id.String();
  BackendConfig b;
  b.key_source = "env";
  b.key_env = "COFFER_BACKEND_TEST_KEY";
  ::unsetenv("COFFER_BACKEND_TEST_KEY");
  auto missing = LoadMasterKey(b, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "key_env: environment variable COFFER_BACKEND_TEST_KEY is not set");
  ::setenv("COFFER_BACKEND_TEST_KEY", std::string(text.data(), text.size()).c_str(), 1);
  auto from_env = LoadMasterKey(b, nullptr);
  ASSERT_TRUE(from_env.ok()) << from_env.status().message();
  EXPECT_EQ((*from_env)[0].recipient().String(), id.recipient().String());
  ::unsetenv("COFFER_BACKEND_TEST_KEY");

  std::string path = ::testing::TempDir() + "/backend-test-" + std::to_string(::getpid()) + ".key";
  SecretString file = age::FormatIdentityFile(id, 0);
  std::ofstream(path) << std::string(file.data(), file.size());
  ::chmod(path.c_str(), 0644);
  b.key_source = "file";
  b.key_file = path;
  std::vector<std::string> warnings;
  auto from_file = LoadMasterKey(b, [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  EXPECT_EQ((*from_file)[0].recipient().String(), id.recipient().String());
  ASSERT_EQ(warnings.size(), 1u);  // 0644: readable by others
  EXPECT_NE(warnings[0].find("chmod 600"), std::string::npos);
  ::unlink(path.c_str());
  auto gone = LoadMasterKey(b, nullptr);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().message().rfind("key_file: cannot read key file", 0), 0u);
}

TEST(BackendTest, StoreOptionsAndMissingBucket) {
  BackendConfig b;
  b.prefix = "p/";
  b.cache_enabled = false;
  b.cache_path = "~/c";
  StoreOptions so = StoreOptionsFor(b, nullptr);
  EXPECT_EQ(so.prefix, "p/");
  EXPECT_FALSE(so.cache.enabled);
  EXPECT_EQ(so.cache.path, ExpandHome("~/c"));
  auto st = OpenBackendStore(b, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::s3
