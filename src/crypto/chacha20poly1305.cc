#include "crypto/chacha20poly1305.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>

#include "crypto/openssl_util.h"

namespace coffer::crypto {
namespace {

using internal::FatalOpenSsl;

const EVP_CIPHER* Cipher() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
    if (c == nullptr) FatalOpenSsl("EVP_CIPHER_fetch(ChaCha20-Poly1305)");
    return c;
  }();
  return cipher;
}

constexpr size_t kMaxUpdate = size_t{1} << 30;

}  // namespace

struct ChaCha20Poly1305::Impl {
  internal::CipherCtxPtr enc;
  internal::CipherCtxPtr dec;
};

ChaCha20Poly1305::ChaCha20Poly1305(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChaCha20Poly1305::~ChaCha20Poly1305() = default;

StatusOr<std::unique_ptr<ChaCha20Poly1305>> ChaCha20Poly1305::New(const SecretBytes& key) {
  if (key.size() != kKeySize) return InvalidArgument("ChaCha20-Poly1305 key must be 32 bytes");
  auto impl = std::make_unique<Impl>();
  impl->enc.reset(EVP_CIPHER_CTX_new());
  impl->dec.reset(EVP_CIPHER_CTX_new());
  if (impl->enc == nullptr || impl->dec == nullptr) FatalOpenSsl("EVP_CIPHER_CTX_new");
  // The key schedule is set once; each message only resets the nonce.
  if (EVP_EncryptInit_ex2(impl->enc.get(), Cipher(), key.data(), nullptr, nullptr) != 1 ||
      EVP_DecryptInit_ex2(impl->dec.get(), Cipher(), key.data(), nullptr, nullptr) != 1) {
    FatalOpenSsl("ChaCha20-Poly1305 init");
  }
  return std::unique_ptr<ChaCha20Poly1305>(new ChaCha20Poly1305(std::move(impl)));
}

void ChaCha20Poly1305::Seal(const uint8_t nonce[kNonceSize], const uint8_t* in, size_t n, uint8_t* out) {
  EVP_CIPHER_CTX* ctx = impl_->enc.get();
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) != 1) FatalOpenSsl("ChaCha20-Poly1305 nonce");
  size_t done = 0;
  while (done < n) {
    size_t piece = std::min(n - done, kMaxUpdate);
    int len = 0;
    if (EVP_EncryptUpdate(ctx, out + done, &len, in + done, static_cast<int>(piece)) != 1) {
      FatalOpenSsl("ChaCha20-Poly1305 encrypt");
    }
    done += piece;
  }
  int len = 0;
  if (EVP_EncryptFinal_ex(ctx, out + n, &len) != 1) FatalOpenSsl("ChaCha20-Poly1305 final");
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, out + n) != 1) FatalOpenSsl("ChaCha20-Poly1305 tag");
}

bool ChaCha20Poly1305::Open(const uint8_t nonce[kNonceSize], const uint8_t* in, size_t n, uint8_t* out) {
  if (n < kTagSize) return false;
  const size_t ct_len = n - kTagSize;
  EVP_CIPHER_CTX* ctx = impl_->dec.get();
  // The tag is copied first: out may alias in, and decryption overwrites the ciphertext.
  uint8_t tag[kTagSize];
  for (size_t i = 0; i < kTagSize; ++i) tag[i] = in[ct_len + i];
  if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) != 1) FatalOpenSsl("ChaCha20-Poly1305 nonce");
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSize, tag) != 1) FatalOpenSsl("ChaCha20-Poly1305 tag");
  size_t done = 0;
  while (done < ct_len) {
    size_t piece = std::min(ct_len - done, kMaxUpdate);
    int len = 0;
    if (EVP_DecryptUpdate(ctx, out + done, &len, in + done, static_cast<int>(piece)) != 1) return false;
    done += piece;
  }
  int len = 0;
  return EVP_DecryptFinal_ex(ctx, out + ct_len, &len) == 1;
}

}  // namespace coffer::crypto
