#include "crypto/secp256k1.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <memory>

#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace coffer::crypto {
namespace {

struct BnFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct BnCtxFree {
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
};
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
using PointPtr = std::unique_ptr<EC_POINT, PointFree>;

// The curve, built once and shared read-only.
const EC_GROUP* Group() {
  static const EC_GROUP* group = [] {
    EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_secp256k1);
    if (g == nullptr) internal::FatalOpenSsl("EC_GROUP_new_by_curve_name(secp256k1)");
    return g;
  }();
  return group;
}

BnCtxPtr NewCtx() {
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (ctx == nullptr) internal::FatalOpenSsl("BN_CTX_secure_new");
  return ctx;
}

// The scalar of a private key, or null when it is not in [1, n-1].
BnPtr Scalar(const SecretBytes& key) {
  if (key.size() != kSecp256k1PrivateKeySize) return nullptr;
  BnPtr bn(BN_secure_new());
  if (bn == nullptr || BN_bin2bn(key.data(), static_cast<int>(key.size()), bn.get()) == nullptr) {
    internal::FatalOpenSsl("BN_bin2bn");
  }
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  if (BN_is_zero(bn.get()) || BN_cmp(bn.get(), EC_GROUP_get0_order(Group())) >= 0) return nullptr;
  return bn;
}

PointPtr NewPoint() {
  PointPtr p(EC_POINT_new(Group()));
  if (p == nullptr) internal::FatalOpenSsl("EC_POINT_new");
  return p;
}

PointPtr Decode(std::string_view encoded, BN_CTX* ctx) {
  if (encoded.size() != kSecp256k1CompressedSize && encoded.size() != kSecp256k1UncompressedSize) return nullptr;
  PointPtr p = NewPoint();
  if (EC_POINT_oct2point(Group(), p.get(), reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size(),
                         ctx) != 1) {
    return nullptr;
  }
  if (EC_POINT_is_at_infinity(Group(), p.get()) || EC_POINT_is_on_curve(Group(), p.get(), ctx) != 1) return nullptr;
  return p;
}

template <typename Out>
Out Encode(const EC_POINT* p, bool compressed, BN_CTX* ctx) {
  Out out(compressed ? kSecp256k1CompressedSize : kSecp256k1UncompressedSize, 0);
  size_t n = EC_POINT_point2oct(Group(), p, compressed ? POINT_CONVERSION_COMPRESSED : POINT_CONVERSION_UNCOMPRESSED,
                                reinterpret_cast<unsigned char*>(out.data()), out.size(), ctx);
  if (n != out.size()) internal::FatalOpenSsl("EC_POINT_point2oct");
  return out;
}

}  // namespace

SecretBytes Secp256k1GeneratePrivateKey() {
  for (;;) {
    SecretBytes key = RandomSecret(kSecp256k1PrivateKeySize);
    if (Scalar(key) != nullptr) return key;  // fails with probability ~2^-128
  }
}

bool Secp256k1IsValidPrivateKey(const SecretBytes& key) { return Scalar(key) != nullptr; }

StatusOr<std::string> Secp256k1PublicKey(const SecretBytes& private_key, bool compressed) {
  BnPtr k = Scalar(private_key);
  if (k == nullptr) return InvalidArgument("secp256k1 private key must be 32 bytes and a valid scalar");
  BnCtxPtr ctx = NewCtx();
  PointPtr p = NewPoint();
  if (EC_POINT_mul(Group(), p.get(), k.get(), nullptr, nullptr, ctx.get()) != 1) internal::FatalOpenSsl("EC_POINT_mul");
  return Encode<std::string>(p.get(), compressed, ctx.get());
}

StatusOr<std::string> Secp256k1NormalizePublicKey(std::string_view public_key, bool compressed) {
  BnCtxPtr ctx = NewCtx();
  PointPtr p = Decode(public_key, ctx.get());
  if (p == nullptr) return InvalidArgument("not a secp256k1 public key");
  return Encode<std::string>(p.get(), compressed, ctx.get());
}

StatusOr<SecretBytes> Secp256k1SharedPoint(const SecretBytes& private_key, std::string_view peer_public) {
  BnPtr k = Scalar(private_key);
  if (k == nullptr) return InvalidArgument("secp256k1 private key must be 32 bytes and a valid scalar");
  BnCtxPtr ctx = NewCtx();
  PointPtr peer = Decode(peer_public, ctx.get());
  if (peer == nullptr) return InvalidArgument("not a secp256k1 public key");
  PointPtr s = NewPoint();
  if (EC_POINT_mul(Group(), s.get(), nullptr, peer.get(), k.get(), ctx.get()) != 1) {
    internal::FatalOpenSsl("EC_POINT_mul");
  }
  if (EC_POINT_is_at_infinity(Group(), s.get())) return InvalidArgument("secp256k1 shared point is at infinity");
  return Encode<SecretBytes>(s.get(), /*compressed=*/false, ctx.get());
}

}  // namespace coffer::crypto
