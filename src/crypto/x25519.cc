#include "crypto/x25519.h"

#include <openssl/evp.h>

#include <memory>

#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace coffer::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

PkeyPtr PrivateKey(const SecretBytes& key) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, key.data(), key.size()));
  if (pkey == nullptr) internal::FatalOpenSsl("EVP_PKEY_new_raw_private_key(X25519)");
  return pkey;
}

}  // namespace

SecretBytes X25519GeneratePrivateKey() { return RandomSecret(kX25519KeySize); }

StatusOr<std::string> X25519PublicKey(const SecretBytes& private_key) {
  if (private_key.size() != kX25519KeySize) return InvalidArgument("X25519 private key must be 32 bytes");
  PkeyPtr pkey = PrivateKey(private_key);
  std::string out(kX25519KeySize, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kX25519KeySize) {
    internal::FatalOpenSsl("EVP_PKEY_get_raw_public_key(X25519)");
  }
  return out;
}

StatusOr<SecretBytes> X25519SharedSecret(const SecretBytes& private_key, std::string_view peer_public) {
  if (private_key.size() != kX25519KeySize) return InvalidArgument("X25519 private key must be 32 bytes");
  if (peer_public.size() != kX25519KeySize) return InvalidArgument("X25519 public key must be 32 bytes");
  PkeyPtr priv = PrivateKey(private_key);
  PkeyPtr peer(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char*>(peer_public.data()), peer_public.size()));
  if (peer == nullptr) internal::FatalOpenSsl("EVP_PKEY_new_raw_public_key(X25519)");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv.get(), nullptr));
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) != 1) internal::FatalOpenSsl("EVP_PKEY_derive_init");
  if (EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) internal::FatalOpenSsl("EVP_PKEY_derive_set_peer");
  SecretBytes out(kX25519KeySize);
  size_t len = out.size();
  // OpenSSL refuses (fails the derivation) exactly when the result is all zeros.
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != kX25519KeySize) {
    return InvalidArgument("X25519 shared secret is all zeros (low-order point)");
  }
  uint8_t acc = 0;
  for (uint8_t b : out) acc |= b;
  if (acc == 0) return InvalidArgument("X25519 shared secret is all zeros (low-order point)");
  return out;
}

}  // namespace coffer::crypto
