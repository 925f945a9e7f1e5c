#include "crypto/chacha20poly1305.h"

#include <gtest/gtest.h>

#include <string>

#include "base/encoding.h"

namespace coffer::crypto {
namespace {

SecretBytes Key() {
  SecretBytes k(32);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0x80 + i);
  return k;
}

// RFC 8439 section 2.8.2's key, nonce and plaintext. That vector has associated data, which this
// API does not take, so only its ciphertext (which AAD does not change) is compared; the tag is
// checked by the round trip and by every flipped byte failing.
TEST(ChaCha20Poly1305Test, SealOpenRoundTripInPlace) {
  auto aead = ChaCha20Poly1305::New(Key());
  ASSERT_TRUE(aead.ok());
  const uint8_t nonce[12] = {7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
  std::string msg = "Ladies and Gentlemen of the class of '99";
  std::string buf = msg + std::string(16, '\0');
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  (*aead)->Seal(nonce, p, msg.size(), p);
  EXPECT_NE(buf.substr(0, msg.size()), msg);
  // RFC 8439 2.8.2's ciphertext starts with these bytes (the AAD only changes the tag).
  EXPECT_EQ(HexEncode(buf.substr(0, 16)), "d31a8d34648e60db7b86afbc53ef7ec2");
  std::string sealed = buf;
  ASSERT_TRUE((*aead)->Open(nonce, p, buf.size(), p));
  EXPECT_EQ(buf.substr(0, msg.size()), msg);
  for (size_t i = 0; i < sealed.size(); i += 7) {
    std::string bad = sealed;
    bad[i] ^= 1;
    std::string out(bad.size(), '\0');
    EXPECT_FALSE((*aead)->Open(nonce, reinterpret_cast<const uint8_t*>(bad.data()), bad.size(),
                               reinterpret_cast<uint8_t*>(out.data())))
        << i;
  }
  uint8_t other[12] = {};
  std::string out(sealed.size(), '\0');
  EXPECT_FALSE((*aead)->Open(other, reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size(),
                             reinterpret_cast<uint8_t*>(out.data())));
  EXPECT_FALSE((*aead)->Open(nonce, reinterpret_cast<const uint8_t*>(sealed.data()), 15,
                             reinterpret_cast<uint8_t*>(out.data())));
}

TEST(ChaCha20Poly1305Test, RejectsWrongKeySize) { EXPECT_FALSE(ChaCha20Poly1305::New(SecretBytes(16)).ok()); }

}  // namespace
}  // namespace coffer::crypto
