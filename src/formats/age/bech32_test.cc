#include "formats/age/bech32.h"

#include <gtest/gtest.h>

namespace coffer::age {
namespace {

// Valid strings from BIP 173 (their data parts all regroup into whole bytes).
TEST(Bech32Test, Bip173ValidVectorsRoundTrip) {
  for (const char* s : {"A12UEL5L", "a12uel5l",
                        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
                        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                        "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
                        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "?1ezyfcl"}) {
    auto d = Bech32Decode(s);
    ASSERT_TRUE(d.ok()) << s << ": " << d.status().ToString();
    EXPECT_EQ(Bech32Encode(d->hrp, d->data.data(), d->data.size()), s);
  }
}

TEST(Bech32Test, Bip173InvalidVectorsAreRejected) {
  for (const char* s : {"\x20"
                        "1nwldj5",
                        "\x7f"
                        "1axkwrx",
                        "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8",
                        "1qzzfhee", "a12UEL5L"}) {
    EXPECT_FALSE(Bech32Decode(s).ok()) << s;
  }
}

TEST(Bech32Test, NoLengthLimit) {
  std::string data(200, '\x5a');
  std::string s = Bech32Encode("age", data);
  EXPECT_GT(s.size(), 90u);
  auto d = Bech32Decode(s);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(AsStringView(d->data), data);
}

TEST(Bech32Test, UppercaseHrpGivesUppercaseString) {
  std::string s = Bech32Encode("AGE-SECRET-KEY-", std::string(32, '\x01'));
  for (char c : s) EXPECT_FALSE(c >= 'a' && c <= 'z') << s;
  auto d = Bech32Decode(s);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hrp, "AGE-SECRET-KEY-");
}

TEST(Bech32Test, OneFlippedCharacterFailsTheChecksum) {
  std::string s = Bech32Encode("age", std::string(32, '\x07'));
  s[10] = s[10] == 'q' ? 'p' : 'q';
  auto d = Bech32Decode(s);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("checksum"), std::string::npos);
}

}  // namespace
}  // namespace coffer::age
