#include "seal/gf256.h"

#include <gtest/gtest.h>

namespace coffer::gf256 {
namespace {

// Schoolbook reference: carry-less multiply to 15 bits, then reduce by 0x11b with branches.
uint8_t SlowMul(uint8_t a, uint8_t b) {
  unsigned product = 0;
  for (int i = 0; i < 8; ++i) {
    if (b & (1u << i)) product ^= static_cast<unsigned>(a) << i;
  }
  for (int bit = 14; bit >= 8; --bit) {
    if (product & (1u << bit)) product ^= 0x11bu << (bit - 8);
  }
  return static_cast<uint8_t>(product);
}

TEST(Gf256Test, MulMatchesReferenceForEveryPair) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      ASSERT_EQ(Mul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)),
                SlowMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)))
          << a << " * " << b;
    }
  }
}

TEST(Gf256Test, KnownProducts) {
  // FIPS-197 section 4.2 examples, and Vault's shamir field test.
  EXPECT_EQ(Mul(0x57, 0x83), 0xc1);
  EXPECT_EQ(Mul(0x57, 0x13), 0xfe);
  EXPECT_EQ(Mul(3, 7), 9);
  EXPECT_EQ(Mul(3, 0), 0);
  EXPECT_EQ(Mul(0, 3), 0);
}

TEST(Gf256Test, InverseIsTheUniqueInverse) {
  EXPECT_EQ(Inverse(0), 0);
  EXPECT_EQ(Inverse(1), 1);
  EXPECT_EQ(Inverse(0x53), 0xca);  // FIPS-197 S-box construction example
  for (int a = 1; a < 256; ++a) {
    int found = -1;
    for (int b = 1; b < 256; ++b) {
      if (SlowMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)) == 1) found = b;
    }
    ASSERT_EQ(Inverse(static_cast<uint8_t>(a)), found) << a;
  }
}

TEST(Gf256Test, AddIsXor) {
  EXPECT_EQ(Add(0x57, 0x83), 0xd4);
  EXPECT_EQ(Add(0xff, 0xff), 0);
}

}  // namespace
}  // namespace coffer::gf256
