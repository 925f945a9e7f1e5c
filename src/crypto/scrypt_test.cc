#include "crypto/scrypt.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace coffer::crypto {
namespace {

// RFC 7914, section 12 (the second and the third vector).
TEST(ScryptTest, Rfc7914Vectors) {
  auto k = Scrypt("password", "NaCl", 10, 8, 16, 64);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(HexEncode(AsStringView(*k)),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  auto k2 = Scrypt("pleaseletmein", "SodiumChloride", 14, 8, 1, 64);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(HexEncode(AsStringView(*k2)),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
            "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
}

TEST(ScryptTest, RejectsBadParameters) {
  EXPECT_FALSE(Scrypt("p", "s", 0, 8, 1, 32).ok());
  EXPECT_FALSE(Scrypt("p", "s", 41, 8, 1, 32).ok());
  EXPECT_FALSE(Scrypt("p", "s", 4, 8, 1, 0).ok());
}

}  // namespace
}  // namespace coffer::crypto
