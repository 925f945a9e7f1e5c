// ChaCha20-Poly1305 with associated data for "1.1" objects (crypto::ChaCha20Poly1305 takes none).
// OpenSSL stays inside this file.
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::s3 {
namespace {
struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;
constexpr size_t kTag = 16;
const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

Status AeadSealWithAad(const SecretBytes& key, std::string_view nonce, const SecretBytes& pt, std::string_view aad,
                       std::string* out) {
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  out->assign(pt.size() + kTag, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out->data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key.data(), U(nonce)) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), o, &len, pt.data(), static_cast<int>(pt.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTag, o + pt.size()) != 1) {
    return InternalError("ChaCha20-Poly1305 encryption failed");
  }
  return OkStatus();
}

StatusOr<SecretBytes> AeadOpenWithAad(const SecretBytes& key, std::string_view nonce, std::string_view ct,
                                      std::string_view aad) {
  if (ct.size() < kTag) return DataLoss("ciphertext too short");
  size_t n = ct.size() - kTag;
  SecretBytes out(n);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string tag(ct.substr(n));
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key.data(), U(nonce)) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, U(ct), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    return DataLoss("authentication failed");
  }
  return out;
}

}  // namespace coffer::s3
