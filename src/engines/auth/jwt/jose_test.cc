#include "engines/auth/jwt/jose.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "engines/auth/jwt/test_keys.h"

namespace coffer::jwt {
namespace {

using testing::SignToken;
using testing::TestKey;
using testing::TestKeyKind;
using json = nlohmann::json;

const json kClaims = {{"sub", "alice"}, {"exp", 4102444800}};

std::vector<PublicKey> Keys(std::initializer_list<std::string> pems) {
  std::vector<PublicKey> out;
  for (const auto& pem : pems) {
    auto k = ParsePemPublicKey(pem);
    EXPECT_TRUE(k.ok()) << k.status().message();
    if (k.ok()) out.push_back(*k);
  }
  return out;
}

Status Verify(const std::string& token, const std::vector<PublicKey>& keys,
              const std::vector<std::string>& algs = SupportedAlgNames()) {
  auto jws = ParseCompactJws(token);
  if (!jws.ok()) return jws.status();
  return VerifyJwsSignature(*jws, keys, algs);
}

TEST(Base64Url, RoundTripsAndIsStrict) {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto d = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("Zm9v=").ok());     // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9vYg==").ok());  // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9 v").ok());     // whitespace
  EXPECT_FALSE(Base64UrlDecode("Zm9v\n").ok());
  EXPECT_FALSE(Base64UrlDecode("+/8").ok());    // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());  // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());     // non-zero trailing bits ("Zg" is canonical)
  EXPECT_TRUE(Base64UrlDecode("Zg").ok());
}

TEST(ParseCompactJws, AcceptsAWellFormedToken) {
  const auto& key = TestKey::Get(TestKeyKind::kP256);
  std::string token = SignToken(key, "ES256", kClaims, "k1");
  auto jws = ParseCompactJws(token);
  ASSERT_TRUE(jws.ok()) << jws.status().message();
  EXPECT_EQ(jws->alg, "ES256");
  EXPECT_EQ(jws->kid, "k1");
  EXPECT_EQ(jws->claims["sub"], "alice");
  EXPECT_EQ(jws->signature.size(), 64u);
  EXPECT_EQ(jws->signing_input, token.substr(0, token.rfind('.')));
}

TEST(ParseCompactJws, RejectsMalformedTokensWithoutEchoingThem) {
  std::string h = Base64UrlEncode(R"({"alg":"RS256"})");
  std::string p = Base64UrlEncode(R"({"sub":"secret-subject"})");
  struct Case {
    std::string token;
    std::string message;
  } cases[] = {
      {"", "empty token"},
      {h, "3 dot-separated parts"},
      {h + "." + p, "3 dot-separated parts"},
      {h + "." + p + ".c2ln.extra", "3 dot-separated parts"},
      {h + "=." + p + ".c2ln", "header"},
      {h + "." + p + "==.c2ln", "payload"},
      {h + "." + p + ".c2l n", "signature"},
      {Base64UrlEncode("[1]") + "." + p + ".c2ln", "header: not a JSON object"},
      {Base64UrlEncode("{bad json") + "." + p + ".c2ln", "header: not a JSON object"},
      {h + "." + Base64UrlEncode("\"str\"") + ".c2ln", "payload: not a JSON object"},
      {h + "." + Base64UrlEncode("not json") + ".c2ln", "payload: not a JSON object"},
      {Base64UrlEncode(R"({"typ":"JWT"})") + "." + p + ".c2ln", "missing \"alg\""},
      {Base64UrlEncode(R"({"alg":7})") + "." + p + ".c2ln", "missing \"alg\""},
      {Base64UrlEncode(R"({"alg":"RS256","kid":1})") + "." + p + ".c2ln", "\"kid\" is not a string"},
      {Base64UrlEncode(R"({"alg":"RS256","crit":["exp"]})") + "." + p + ".c2ln", "crit"},
      {std::string(70000, 'a') + "." + p + ".c2ln", "64 KiB"},
  };
  for (const auto& c : cases) {
    auto r = ParseCompactJws(c.token);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("secret-subject"), std::string::npos);
    if (!c.token.empty() && c.token.size() < 1000) {
      EXPECT_EQ(r.status().message().find(c.token), std::string::npos);
    }
  }
}

TEST(ParsePemPublicKey, ReadsSpkiPkcs1AndCertificates) {
  for (auto kind : {TestKeyKind::kRsa2048, TestKeyKind::kP256, TestKeyKind::kP384, TestKeyKind::kEd25519}) {
    const auto& key = TestKey::Get(kind);
    auto spki = ParsePemPublicKey(key.public_pem());
    ASSERT_TRUE(spki.ok()) << spki.status().message();
    auto cert = ParsePemPublicKey(key.certificate_pem());
    ASSERT_TRUE(cert.ok()) << cert.status().message();
    EXPECT_EQ(spki->type(), cert->type());
  }
  auto pkcs1 = ParsePemPublicKey(TestKey::Get(TestKeyKind::kRsa2048).rsa_public_pem());
  ASSERT_TRUE(pkcs1.ok()) << pkcs1.status().message();
  EXPECT_EQ(pkcs1->type(), KeyType::kRsa);
  EXPECT_EQ(ParsePemPublicKey(TestKey::Get(TestKeyKind::kP384).public_pem())->type(), KeyType::kEcP384);
}

TEST(ParsePemPublicKey, RejectsGarbageSmallRsaAndOtherCurves) {
  EXPECT_FALSE(ParsePemPublicKey("").ok());
  EXPECT_FALSE(ParsePemPublicKey("not a pem").ok());
  EXPECT_FALSE(ParsePemPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  auto priv = ParsePemPublicKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(priv.ok());
  EXPECT_NE(priv.status().message().find("unsupported PEM block"), std::string::npos);
  EVP_PKEY* small = EVP_RSA_gen(1024);
  EVP_PKEY* p521 = EVP_EC_gen("P-521");
  for (EVP_PKEY* k : {small, p521}) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    auto r = ParsePemPublicKey(std::string(data, len));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    BIO_free(bio);
    EVP_PKEY_free(k);
  }
}

TEST(Verify, EveryAlgorithmWithItsKey) {
  struct Case {
    TestKeyKind kind;
    std::string alg;
  } cases[] = {{TestKeyKind::kRsa2048, "RS256"}, {TestKeyKind::kRsa2048, "RS384"}, {TestKeyKind::kRsa2048, "RS512"},
               {TestKeyKind::kP256, "ES256"},    {TestKeyKind::kP384, "ES384"},    {TestKeyKind::kEd25519, "EdDSA"}};
  for (const auto& c : cases) {
    const auto& key = TestKey::Get(c.kind);
    std::string token = SignToken(key, c.alg, kClaims);
    EXPECT_TRUE(Verify(token, Keys({key.public_pem()})).ok()) << c.alg;
    // A wrong key of the same type fails.
    auto other = TestKey::Fresh(c.kind);
    EXPECT_EQ(Verify(token, Keys({other->public_pem()})).code(), StatusCode::kPermissionDenied) << c.alg;
    // With several keys, the right one is found.
    EXPECT_TRUE(Verify(token, Keys({other->public_pem(), key.public_pem()})).ok()) << c.alg;
  }
}

TEST(Verify, TamperedPartsFail) {
  const auto& key = TestKey::Get(TestKeyKind::kRsa2048);
  std::string token = SignToken(key, "RS256", kClaims);
  auto keys = Keys({key.public_pem()});
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::string header = token.substr(0, d1), payload = token.substr(d1 + 1, d2 - d1 - 1), sig = token.substr(d2 + 1);
  std::string evil_payload = Base64UrlEncode(R"({"sub":"mallory","exp":4102444800})");
  std::string evil_header = Base64UrlEncode(R"({"alg":"RS256","typ":"JWT","x":1})");
  std::string flipped = sig;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Verify(header + "." + evil_payload + "." + sig, keys).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Verify(evil_header + "." + payload + "." + sig, keys).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Verify(header + "." + payload + "." + flipped, keys).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Verify(header + "." + payload + ".", keys).code(), StatusCode::kPermissionDenied);
  // ECDSA: a DER signature or a short one is not a JWS signature.
  const auto& ec = TestKey::Get(TestKeyKind::kP256);
  std::string ec_token = SignToken(ec, "ES256", kClaims);
  std::string ec_input = ec_token.substr(0, ec_token.rfind('.'));
  std::string raw = *Base64UrlDecode(ec_token.substr(ec_token.rfind('.') + 1));
  EXPECT_EQ(Verify(ec_input + "." + Base64UrlEncode(raw.substr(0, 63)), Keys({ec.public_pem()})).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Verify(ec_input + "." + Base64UrlEncode(raw + "x"), Keys({ec.public_pem()})).code(),
            StatusCode::kPermissionDenied);
}

TEST(Verify, AlgNoneAndHmacConfusionAreRejected) {
  const auto& key = TestKey::Get(TestKeyKind::kRsa2048);
  auto keys = Keys({key.public_pem()});
  std::string body = Base64UrlEncode(kClaims.dump());
  for (std::string alg : {"none", "None", "NONE"}) {
    std::string token = Base64UrlEncode(json{{"alg", alg}}.dump()) + "." + body + ".";
    Status s = Verify(token, keys);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << alg;
    EXPECT_NE(s.message().find("unsupported signing algorithm"), std::string::npos);
  }
  // HS256 keyed with the RSA public key's PEM bytes (the classic confusion attack).
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + body;
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.public_pem().data(), static_cast<int>(key.public_pem().size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  std::string token = input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
  Status s = Verify(token, keys, {"RS256", "HS256"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("HS256"), std::string::npos);
}

TEST(Verify, AlgorithmMustBeAllowedAndMatchTheKeyType) {
  const auto& rsa = TestKey::Get(TestKeyKind::kRsa2048);
  const auto& ec = TestKey::Get(TestKeyKind::kP256);
  // Allowed list.
  std::string rs384 = SignToken(rsa, "RS384", kClaims);
  EXPECT_EQ(Verify(rs384, Keys({rsa.public_pem()}), {"RS256"}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Verify(rs384, Keys({rsa.public_pem()}), {"RS256", "RS384"}).ok());
  // ES256 header on an RSA signature: no RSA key accepts ES256.
  std::string mismatch = SignToken(rsa, "ES256", kClaims);
  EXPECT_EQ(Verify(mismatch, Keys({rsa.public_pem()})).code(), StatusCode::kPermissionDenied);
  // ES384 header with a P-256 key: the curve decides.
  std::string es384 = testing::SignTokenWithHeader(ec, json{{"alg", "ES384"}}, kClaims);
  EXPECT_EQ(Verify(es384, Keys({ec.public_pem()})).code(), StatusCode::kPermissionDenied);
  // Unsupported but real algorithms.
  for (std::string alg : {"PS256", "ES512", "HS512", "RSA-OAEP"}) {
    std::string token = Base64UrlEncode(json{{"alg", alg}}.dump()) + "." + Base64UrlEncode(kClaims.dump()) + ".c2ln";
    EXPECT_EQ(Verify(token, Keys({rsa.public_pem()})).code(), StatusCode::kInvalidArgument) << alg;
  }
}

TEST(Jwks, ParsesEveryKeyTypeAndSelectsByKid) {
  const auto& rsa = TestKey::Get(TestKeyKind::kRsa2048);
  const auto& p256 = TestKey::Get(TestKeyKind::kP256);
  const auto& p384 = TestKey::Get(TestKeyKind::kP384);
  const auto& ed = TestKey::Get(TestKeyKind::kEd25519);
  json jwks = {{"keys",
                {rsa.Jwk("r1", "RS256"),
                 p256.Jwk("e1"),
                 p384.Jwk("e2", "ES384"),
                 ed.Jwk("d1"),
                 {{"kty", "RSA"}, {"use", "enc"}, {"kid", "enc"}, {"n", "AQAB"}, {"e", "AQAB"}},
                 {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
                 {{"kty", "EC"}, {"crv", "P-521"}, {"kid", "big"}, {"x", "AA"}, {"y", "AA"}}}}};
  auto keys = ParseJwks(jwks);
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  ASSERT_EQ(keys->size(), 4u);
  EXPECT_TRUE(Verify(SignToken(rsa, "RS256", kClaims, "r1"), *keys).ok());
  EXPECT_TRUE(Verify(SignToken(p256, "ES256", kClaims, "e1"), *keys).ok());
  EXPECT_TRUE(Verify(SignToken(p384, "ES384", kClaims, "e2"), *keys).ok());
  EXPECT_TRUE(Verify(SignToken(ed, "EdDSA", kClaims, "d1"), *keys).ok());
  EXPECT_TRUE(Verify(SignToken(ed, "EdDSA", kClaims), *keys).ok());  // no kid: every key is tried
  // A kid no key has: NotFound, so the caller can refresh its JWKS.
  EXPECT_EQ(Verify(SignToken(rsa, "RS256", kClaims, "r2"), *keys).code(), StatusCode::kNotFound);
  // The right kid but the wrong key: the signature fails.
  EXPECT_EQ(Verify(SignToken(p256, "ES256", kClaims, "e2"), *keys).code(), StatusCode::kPermissionDenied);
  // The JWK's alg is honoured: r1 is RS256 only.
  EXPECT_EQ(Verify(SignToken(rsa, "RS512", kClaims, "r1"), *keys).code(), StatusCode::kPermissionDenied);
}

TEST(Jwks, RejectsMalformedDocumentsAndKeys) {
  const auto& p256 = TestKey::Get(TestKeyKind::kP256);
  EXPECT_FALSE(ParseJwksText("not json").ok());
  EXPECT_FALSE(ParseJwksText("[]").ok());
  EXPECT_FALSE(ParseJwksText(R"({"keys": {}})").ok());
  EXPECT_FALSE(ParseJwksText(R"({"keys": []})").ok());
  EXPECT_FALSE(ParseJwksText(R"({"keys": [1]})").ok());
  json short_x = p256.Jwk("k");
  short_x["x"] = Base64UrlEncode(std::string(31, 'a'));
  EXPECT_FALSE(ParseJwks(json{{"keys", {short_x}}}).ok());
  json off_curve = p256.Jwk("k");
  off_curve["y"] = Base64UrlEncode(std::string(32, '\x01'));
  auto r = ParseJwks(json{{"keys", {off_curve}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not on the curve"), std::string::npos);
  json bad_b64 = TestKey::Get(TestKeyKind::kRsa2048).Jwk("k");
  bad_b64["n"] = "AQAB==";
  EXPECT_FALSE(ParseJwks(json{{"keys", {bad_b64}}}).ok());
  json small_rsa = {{"kty", "RSA"}, {"n", Base64UrlEncode(std::string(64, '\xff'))}, {"e", "AQAB"}};
  EXPECT_FALSE(ParseJwks(json{{"keys", {small_rsa}}}).ok());
  EXPECT_FALSE(ParseJwk(json{{"kty", "OKP"}, {"crv", "X25519"}, {"x", "AA"}}).ok());
  EXPECT_FALSE(ParseJwk(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AA"}}).ok());
}

}  // namespace
}  // namespace coffer::jwt
