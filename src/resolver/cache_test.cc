#include "resolver/cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace coffer::resolver {
namespace {

namespace fs = std::filesystem;

TEST(CacheTest, RoundTripEncryptedExpiryAndClear) {
  fs::path root = fs::temp_directory_path() / ("coffer-cache-" + std::to_string(::getpid()));
  fs::remove_all(root);
  CacheOptions o{(root / "cache").string(), (root / "config" / "cache.key").string(), std::chrono::seconds(3600)};
  auto cache = SecretCache::Open(o);
  ASSERT_TRUE(cache.ok()) << cache.status().message();
  SecretFields f;
  f["password"] = "canary-value-123";
  ASSERT_TRUE((*cache)->Put("secret\napp\n0", f).ok());
  auto e = (*cache)->Get("secret\napp\n0");
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->expired);
  EXPECT_EQ(e->fields["password"], "canary-value-123");
  EXPECT_FALSE((*cache)->Get("secret\nother\n0").has_value());

  // Nothing in the cache directory is plaintext, and modes are private.
  for (const auto& entry : fs::directory_iterator(root / "cache")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find("canary"), std::string::npos);
    EXPECT_EQ(ss.str().find("password"), std::string::npos);
    struct stat st;
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  struct stat st;
  ASSERT_EQ(::stat((root / "cache").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // A zero TTL makes the same entry expired (but still readable for stale use).
  o.ttl = std::chrono::seconds(0);
  auto expired = SecretCache::Open(o);
  ASSERT_TRUE(expired.ok());
  auto e2 = (*expired)->Get("secret\napp\n0");
  ASSERT_TRUE(e2.has_value());
  EXPECT_TRUE(e2->expired);

  // Another key cannot read it.
  CacheOptions other = o;
  other.key_file = (root / "config" / "other.key").string();
  EXPECT_FALSE((*SecretCache::Open(other))->Get("secret\napp\n0").has_value());

  auto n = (*cache)->Clear();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_FALSE((*cache)->Get("secret\napp\n0").has_value());

  // The key may not live inside the cache directory.
  CacheOptions inside{(root / "cache").string(), (root / "cache" / "k").string(), std::chrono::seconds(1)};
  EXPECT_FALSE(SecretCache::Open(inside).ok());
  fs::remove_all(root);
}

}  // namespace
}  // namespace coffer::resolver
