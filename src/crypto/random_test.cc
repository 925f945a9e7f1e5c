#include "crypto/random.h"

#include <set>

#include <gtest/gtest.h>

namespace coffer::crypto {
namespace {

TEST(RandomTest, ReturnsRequestedLengths) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  EXPECT_EQ(RandomBytes(1000).size(), 1000u);
  EXPECT_EQ(RandomSecret(32).size(), 32u);
}

TEST(RandomTest, OutputsDifferAndAreNotConstant) {
  std::string a = RandomBytes(32);
  std::string b = RandomBytes(32);
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::string(32, '\0'));
  SecretBytes s1 = RandomSecret(32);
  SecretBytes s2 = RandomSecret(32);
  EXPECT_FALSE(ConstantTimeEquals(AsStringView(s1), AsStringView(s2)));
}

TEST(RandomTest, BytesCoverTheWholeRange) {
  // 64 KiB of uniform bytes contains every byte value with overwhelming probability.
  std::string big = RandomBytes(1 << 16);
  std::set<unsigned char> seen(big.begin(), big.end());
  EXPECT_EQ(seen.size(), 256u);
}

// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx in lowercase hex.
bool IsCanonicalV4(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return id[14] == '4' && (id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST(RandomTest, UuidIsVersion4InCanonicalForm) {
  EXPECT_FALSE(IsCanonicalV4("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));  // a v1 UUID
  std::set<std::string> seen;
  std::set<char> variants;
  for (int i = 0; i < 1000; ++i) {
    std::string id = GenerateUuid();
    ASSERT_TRUE(IsCanonicalV4(id)) << id;
    variants.insert(id[19]);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(variants.size(), 4u);  // all of 8, 9, a, b occur: the other variant bits are random
}

}  // namespace
}  // namespace coffer::crypto
