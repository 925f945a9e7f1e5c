#include "crypto/aead.h"

#include <openssl/evp.h>


#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace coffer::crypto {
namespace {

using internal::FatalOpenSsl;

// Fetched once; an implicit fetch (EVP_aes_256_gcm()) would look the cipher up on every init.
const EVP_CIPHER* GcmCipher() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) FatalOpenSsl("EVP_CIPHER_fetch(AES-256-GCM)");
    return c;
  }();
  return cipher;
}

// EVP update calls take an int length; feed longer inputs in pieces.
constexpr size_t kMaxUpdate = size_t{1} << 30;

Status AuthFailed() { return DataLoss("message authentication failed"); }

// Nonces are public; they come from the per-thread public random pool.
void FillNonce(unsigned char* out) { RandomFillPublic(out, Aes256Gcm::kNonceSize); }

// Idle keyed contexts kept per key and direction (about one per concurrently running thread).
constexpr size_t kMaxIdleContexts = 16;

}  // namespace

// Idle cipher contexts already keyed with this key, one list per direction.
struct Aes256Gcm::CtxPool {
  std::mutex mu;
  std::vector<EVP_CIPHER_CTX*> idle[2];  // [0] decrypt, [1] encrypt

  ~CtxPool() {
    for (auto& list : idle)
      for (EVP_CIPHER_CTX* ctx : list) EVP_CIPHER_CTX_free(ctx);  // wipes the key schedule
  }
};

namespace {

// A context keyed for one direction, initialized with `nonce`, returned to the pool after use.
class PooledCtx {
 public:
  PooledCtx(std::mutex& mu, std::vector<EVP_CIPHER_CTX*>& idle, const unsigned char* key, const unsigned char* nonce,
            bool encrypt)
      : mu_(mu), idle_(idle) {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        ctx_ = idle_.back();
        idle_.pop_back();
      }
    }
    if (ctx_ != nullptr) {
      // Same cipher and key: only the nonce (and the GCM state) is reset.
      if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce, encrypt ? 1 : 0, nullptr) != 1) {
        FatalOpenSsl("AES-256-GCM reinit");
      }
      return;
    }
    ctx_ = EVP_CIPHER_CTX_new();
    if (ctx_ == nullptr) FatalOpenSsl("EVP_CIPHER_CTX_new");
    // The default GCM IV length is 12 bytes, so no length ctrl is needed.
    if (EVP_CipherInit_ex2(ctx_, GcmCipher(), key, nonce, encrypt ? 1 : 0, nullptr) != 1) {
      FatalOpenSsl("AES-256-GCM init");
    }
  }
  ~PooledCtx() {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdleContexts) {
        idle_.push_back(ctx_);
        return;
      }
    }
    EVP_CIPHER_CTX_free(ctx_);
  }
  PooledCtx(const PooledCtx&) = delete;
  PooledCtx& operator=(const PooledCtx&) = delete;
  EVP_CIPHER_CTX* get() const { return ctx_; }

 private:
  std::mutex& mu_;
  std::vector<EVP_CIPHER_CTX*>& idle_;
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

}  // namespace

Aes256Gcm::Aes256Gcm(const SecretBytes& key) : key_(key), pool_(std::make_shared<CtxPool>()) {}

StatusOr<Aes256Gcm> Aes256Gcm::New(const SecretBytes& key) {
  if (key.size() != kKeySize) {
    return InvalidArgument("AES-256-GCM key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return Aes256Gcm(key);
}

std::string Aes256Gcm::Encrypt(std::string_view plaintext, std::string_view aad) const {
  std::string out;
  EncryptAppend(plaintext, aad, &out);
  return out;
}

void Aes256Gcm::EncryptAppend(std::string_view plaintext, std::string_view aad,
                              std::string* out) const {
  const size_t start = out->size();
  out->resize(start + kOverhead + plaintext.size());
  auto* nonce = reinterpret_cast<unsigned char*>(out->data()) + start;
  unsigned char* ct = nonce + kNonceSize;
  unsigned char* tag = ct + plaintext.size();
  FillNonce(nonce);

  PooledCtx ctx(pool_->mu, pool_->idle[1], key_.data(), nonce, /*encrypt=*/true);
  int len = 0;
  for (size_t off = 0; off < aad.size(); off += kMaxUpdate) {
    size_t n = std::min(kMaxUpdate, aad.size() - off);
    if (EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(aad.data()) + off,
                          static_cast<int>(n)) != 1) {
      FatalOpenSsl("AES-256-GCM aad");
    }
  }
  size_t written = 0;
  for (size_t off = 0; off < plaintext.size(); off += kMaxUpdate) {
    size_t n = std::min(kMaxUpdate, plaintext.size() - off);
    if (EVP_EncryptUpdate(ctx.get(), ct + written, &len,
                          reinterpret_cast<const unsigned char*>(plaintext.data()) + off,
                          static_cast<int>(n)) != 1) {
      FatalOpenSsl("AES-256-GCM encrypt");
    }
    written += static_cast<size_t>(len);
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ct + written, &len) != 1) FatalOpenSsl("AES-256-GCM final");
  written += static_cast<size_t>(len);
  if (written != plaintext.size()) FatalOpenSsl("AES-256-GCM length");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    FatalOpenSsl("AES-256-GCM get tag");
  }
}

bool Aes256Gcm::DecryptTo(std::string_view sealed, std::string_view aad,
                          unsigned char* out) const {
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* ct = nonce + kNonceSize;
  const size_t ct_len = sealed.size() - kOverhead;
  const unsigned char* tag = ct + ct_len;

  PooledCtx ctx(pool_->mu, pool_->idle[0], key_.data(), nonce, /*encrypt=*/false);
  int len = 0;
  for (size_t off = 0; off < aad.size(); off += kMaxUpdate) {
    size_t n = std::min(kMaxUpdate, aad.size() - off);
    if (EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(aad.data()) + off,
                          static_cast<int>(n)) != 1) {
      FatalOpenSsl("AES-256-GCM aad");
    }
  }
  size_t written = 0;
  for (size_t off = 0; off < ct_len; off += kMaxUpdate) {
    size_t n = std::min(kMaxUpdate, ct_len - off);
    if (EVP_DecryptUpdate(ctx.get(), out + written, &len, ct + off, static_cast<int>(n)) != 1) {
      FatalOpenSsl("AES-256-GCM decrypt");
    }
    written += static_cast<size_t>(len);
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<unsigned char*>(tag)) != 1) {
    FatalOpenSsl("AES-256-GCM set tag");
  }
  // Final is where the tag is checked; a mismatch is the only expected failure.
  return EVP_DecryptFinal_ex(ctx.get(), out + written, &len) == 1;
}

StatusOr<std::string> Aes256Gcm::Decrypt(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kOverhead) return AuthFailed();
  std::string out(sealed.size() - kOverhead, '\0');
  if (!DecryptTo(sealed, aad, reinterpret_cast<unsigned char*>(out.data()))) {
    // Unauthenticated plaintext must not linger in freed memory either.
    SecureWipe(out.data(), out.size());
    return AuthFailed();
  }
  return out;
}

StatusOr<SecretBytes> Aes256Gcm::DecryptSecret(std::string_view sealed,
                                               std::string_view aad) const {
  if (sealed.size() < kOverhead) return AuthFailed();
  SecretBytes out(sealed.size() - kOverhead);
  if (!DecryptTo(sealed, aad, out.data())) return AuthFailed();
  return out;
}

}  // namespace coffer::crypto
