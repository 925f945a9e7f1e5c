#include "base/secret_bytes.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(SecretBytesTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(SecretBytesTest, HoldsBytes) {
  SecretBytes s = ToSecretBytes("key material");
  EXPECT_EQ(AsStringView(s), "key material");
  s.resize(3);
  EXPECT_EQ(AsStringView(s), "key");
}

}  // namespace
}  // namespace coffer
