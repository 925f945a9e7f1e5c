#include "formats/dotenv/dotenvx.h"

#include <gtest/gtest.h>

namespace coffer::dotenv {
namespace {

constexpr char kVectorPrivate[] = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1";
constexpr char kVectorPublic[] = "03eaf2142ab3d55bdf108962334e06696db798e7412cfc51d75e74b4f87f299bba";
constexpr char kVectorValue[] =
    "encrypted:BG8M6U+GKJGwpGA42ml2erb9+T2NBX6Z2JkBLynDy21poz0UfF5aPxCgRbIyhnQFdWKd0C9GZ7lM5PeL86xghoMcWvvPpkyQ0yaD2pZ64RzoxFGB1lTZYlEgQOxTDJnWxODHfuQcFY10uA==";

TEST(Dotenvx, PublishedVectorDecrypts) {
  auto key = ParsePrivateKey(kVectorPrivate);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(PublicKeyHex(*key), kVectorPublic);
  auto plain = DecryptValue(*key, kVectorValue);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "encrypted");
}

TEST(Dotenvx, RoundTrip) {
  KeyPair kp = GenerateKeyPair();
  EXPECT_EQ(kp.public_key_hex.size(), 66u);
  EXPECT_EQ(kp.PrivateKeyHex().size(), 64u);
  for (std::string plain : {std::string(), std::string("x"), std::string(5000, 'z'), std::string("a\nb\0c", 5)}) {
    auto enc = EncryptValue(kp.public_key_hex, plain);
    ASSERT_TRUE(enc.ok());
    EXPECT_TRUE(IsEncrypted(*enc));
    auto dec = DecryptValue(kp.private_key, *enc);
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(*dec, plain);
  }
}

TEST(Dotenvx, Errors) {
  KeyPair kp = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  auto enc = EncryptValue(kp.public_key_hex, "secret");
  ASSERT_TRUE(enc.ok());
  auto wrong = DecryptValue(other.private_key, *enc);
  EXPECT_EQ(wrong.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecryptValue(kp.private_key, "encrypted:!!!").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecryptValue(kp.private_key, "encrypted:BBBB").status().code(), StatusCode::kInvalidArgument);
  std::string tampered = *enc;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(DecryptValue(kp.private_key, tampered).ok());
  // A bad ephemeral point is malformed data.
  std::string bad = "encrypted:" + std::string(200, 'A');
  EXPECT_EQ(DecryptValue(kp.private_key, bad).status().code(), StatusCode::kInvalidArgument);
  auto short_key = ParsePrivateKey("abcd");
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().message().find("abcd"), std::string::npos);
  EXPECT_FALSE(ParsePrivateKey(std::string(64, '0')).ok());  // zero is not a scalar
  EXPECT_FALSE(ParsePrivateKey(std::string(64, 'f')).ok());  // above the order
  EXPECT_FALSE(EncryptValue("02abcd", "x").ok());
}

TEST(Dotenvx, KeyNames) {
  Document empty = Document::Parse("");
  EXPECT_EQ(KeyNamesFor(".env", empty).public_name, "DOTENV_PUBLIC_KEY");
  EXPECT_EQ(KeyNamesFor("dir/.env.production", empty).private_name, "DOTENV_PRIVATE_KEY_PRODUCTION");
  EXPECT_EQ(KeyNamesFor(".env.production.local", empty).public_name, "DOTENV_PUBLIC_KEY_PRODUCTION_LOCAL");
  EXPECT_EQ(KeyNamesFor(".env.a.b.c", empty).public_name, "DOTENV_PUBLIC_KEY_A_B");
  EXPECT_EQ(KeyNamesFor(".env1", empty).public_name, "DOTENV_PUBLIC_KEY_DEVELOPMENT1");
  EXPECT_EQ(KeyNamesFor(".env.ci.txt", empty).public_name, "DOTENV_PUBLIC_KEY_CI");
  Document named = Document::Parse("DOTENV_PUBLIC_KEY_CUSTOM=\"02ab\"\n");
  EXPECT_EQ(KeyNamesFor(".env", named).private_name, "DOTENV_PRIVATE_KEY_CUSTOM");
  EXPECT_EQ(FileComment("a/b/.env.x"), "# .env.x");
}

TEST(Dotenvx, PlainKeysAndGlobs) {
  EXPECT_TRUE(IsPlainKey("DOTENV_PUBLIC_KEY_X"));
  EXPECT_TRUE(IsPlainKey("HOST_PLAIN"));
  EXPECT_FALSE(IsPlainKey("PLAIN_HOST"));
  EXPECT_TRUE(GlobMatch("API_*", "API_KEY"));
  EXPECT_FALSE(GlobMatch("API_*", "DB_KEY"));
  EXPECT_TRUE(GlobMatch("*KEY", "API_KEY"));
  EXPECT_TRUE(GlobMatch("A?C", "ABC"));
  EXPECT_TRUE(GlobMatch("[AB]*", "BX"));
  EXPECT_FALSE(GlobMatch("[!AB]*", "BX"));
  EXPECT_TRUE(GlobMatch("HELLO", "HELLO"));
}

}  // namespace
}  // namespace coffer::dotenv
