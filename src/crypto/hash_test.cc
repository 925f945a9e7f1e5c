#include "crypto/hash.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace coffer::crypto {
namespace {

std::string Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HmacSha256Test, Rfc4231Case1) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231Case6KeyLongerThanBlock) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Test, KeyChangesOutput) {
  EXPECT_NE(HmacSha256("key-a", "data"), HmacSha256("key-b", "data"));
  EXPECT_EQ(HmacSha256("key-a", "data"), HmacSha256("key-a", "data"));
}

TEST(HkdfSha256Test, Rfc5869Case1) {
  SecretBytes okm = HkdfSha256(Unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                               Unhex("000102030405060708090a0b0c"),
                               Unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  EXPECT_EQ(HexEncode(AsStringView(okm)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256Test, Rfc5869Case3EmptySaltAndInfo) {
  SecretBytes okm = HkdfSha256(Unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), "", "", 42);
  EXPECT_EQ(HexEncode(AsStringView(okm)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256Test, EmptyInputKeyMaterial) {
  // Reference computed with Python's hmac module: Expand(Extract("salt", ""), "info", 32).
  EXPECT_EQ(HexEncode(AsStringView(HkdfSha256("", "salt", "info", 32))),
            "7aac7b8120501c2c8e1ee50e6cde135361e99ceb9d8d406ac528b9e9175614c0");
}

TEST(HkdfSha256Test, MaximumLengthAndInfoSeparation) {
  EXPECT_EQ(HkdfSha256("ikm", "salt", "info", kHkdfSha256MaxLength).size(), kHkdfSha256MaxLength);
  EXPECT_NE(HkdfSha256("ikm", "salt", "a", 32), HkdfSha256("ikm", "salt", "b", 32));
}

TEST(HkdfSha256DeathTest, ZeroLengthAborts) {
  EXPECT_DEATH((void)HkdfSha256("ikm", "", "", 0), "HkdfSha256 called with length 0");
}

}  // namespace
}  // namespace coffer::crypto
