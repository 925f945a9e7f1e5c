#include "formats/age/keys.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "crypto/x25519.h"

namespace coffer::age {
namespace {

// The X25519 example keys of the age specification (c2sp.org/age).
constexpr char kSpecIdentity[] = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
constexpr char kSpecRecipient[] = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

TEST(AgeKeysTest, SpecIdentityGivesSpecRecipient) {
  auto id = X25519Identity::Parse(kSpecIdentity);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->recipient().String(), kSpecRecipient);
  EXPECT_EQ(std::string(id->String().c_str()), kSpecIdentity);
  auto r = X25519Recipient::Parse(kSpecRecipient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->public_key(), id->recipient().public_key());
}

TEST(AgeKeysTest, Rfc7748X25519Vector) {
  auto alice = HexDecode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto bob_pub = HexDecode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  auto pub = crypto::X25519PublicKey(ToSecretBytes(*alice));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(HexEncode(*pub), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  auto shared = crypto::X25519SharedSecret(ToSecretBytes(*alice), *bob_pub);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(HexEncode(AsStringView(*shared)), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_FALSE(crypto::X25519SharedSecret(ToSecretBytes(*alice), std::string(32, '\0')).ok());
}

TEST(AgeKeysTest, CaseAndTypeAreChecked) {
  std::string lower_secret = kSpecIdentity;
  for (char& c : lower_secret) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_FALSE(X25519Identity::Parse(lower_secret).ok());
  std::string upper_recipient = kSpecRecipient;
  for (char& c : upper_recipient) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(X25519Recipient::Parse(upper_recipient).ok());
  EXPECT_FALSE(X25519Recipient::Parse(kSpecIdentity).ok());
  EXPECT_FALSE(X25519Identity::Parse(kSpecRecipient).ok());
  EXPECT_FALSE(X25519Recipient::Parse("ssh-ed25519 AAAA").ok());
}

TEST(AgeKeysTest, ErrorsNeverContainTheSecretKey) {
  std::string bad = kSpecIdentity;
  bad[20] = bad[20] == 'Q' ? 'P' : 'Q';
  auto id = X25519Identity::Parse(bad);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message().find("GFPYYSJZ"), std::string::npos);
  auto file = ParseIdentities(std::string("# comment\n") + bad + "\n");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("line 2"), std::string::npos);
  EXPECT_EQ(file.status().message().find("GFPYYSJZ"), std::string::npos);
}

TEST(AgeKeysTest, KeygenFileRoundTripsWithSeveralIdentitiesAndCrlf) {
  X25519Identity a = X25519Identity::Generate();
  X25519Identity b = X25519Identity::Generate();
  SecretString fa = FormatIdentityFile(a, 1700000000);
  SecretString fb = FormatIdentityFile(b, 1700000000);
  std::string text = std::string(fa.c_str()) + "\n\n" + std::string(fb.c_str());
  EXPECT_EQ(text.rfind("# created: ", 0), 0u);
  EXPECT_NE(text.find("# public key: " + a.recipient().String() + "\n"), std::string::npos);
  auto ids = ParseIdentities(text);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[1].recipient().String(), b.recipient().String());

  std::string crlf = std::string(a.String().c_str()) + "\r\n";
  auto ids2 = ParseIdentities(crlf);
  ASSERT_TRUE(ids2.ok());
  EXPECT_EQ((*ids2)[0].recipient().String(), a.recipient().String());
}

TEST(AgeKeysTest, IdentityFileErrors) {
  EXPECT_EQ(ParseIdentities("# only a comment\n\n").status().message(), "no secret keys found");
  EXPECT_FALSE(ParseIdentities("age-encryption.org/v1\n-> scrypt").ok());
  EXPECT_FALSE(ParseIdentities(" AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX").ok());
}

TEST(AgeKeysTest, RecipientsFile) {
  auto rs = ParseRecipients(std::string("# team\n") + kSpecRecipient + "\r\n\n" + kSpecRecipient + "\n");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->size(), 2u);
  auto bad = ParseRecipients("age1nope\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
}

TEST(AgeKeysTest, StrictBase64) {
  EXPECT_TRUE(B64DecodeStrict("YWdl").ok());
  EXPECT_FALSE(B64DecodeStrict("YWc=").ok());  // padding
  EXPECT_TRUE(B64DecodeStrict("YWc").ok());
  EXPECT_FALSE(B64DecodeStrict("YWd").ok());  // non-canonical trailing bits
  EXPECT_FALSE(B64DecodeStrict("YW-l").ok());
}

}  // namespace
}  // namespace coffer::age
