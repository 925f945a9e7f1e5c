#include "base/encoding.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(EncodingTest, Base64RoundTripsAndMatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo", false), "Zm8");
  EXPECT_EQ(*Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(*Base64Decode("Zm9vYmE"), "fooba");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*Base64Decode(Base64Encode(all)), all);
}

TEST(EncodingTest, Base64RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Z").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // non-zero trailing bits
}

TEST(EncodingTest, HexRoundTrips) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(*HexDecode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(PercentEncode, KeepsUnreservedAndChosenCharacters) {
  EXPECT_EQ(PercentEncode("a-Z_0.9~"), "a-Z_0.9~");
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(PercentEncode("a b/c", "/"), "a%20b/c");
  EXPECT_EQ(PercentEncode("a b&c", "", true), "a+b%26c");
  EXPECT_EQ(PercentEncode(std::string_view("\0\xff", 2)), "%00%FF");
}

TEST(AsciiLower, LowersAsciiLettersOnly) {
  EXPECT_EQ(AsciiLower("Content-Type: X-Amz-Date"), "content-type: x-amz-date");
  EXPECT_EQ(AsciiLower(std::string_view("\xc3\x89" "A\0Z", 5)), std::string("\xc3\x89" "a\0z", 5));
  EXPECT_EQ(AsciiLower(""), "");
}

}  // namespace
}  // namespace coffer
