#include "engines/auth/jwt/test_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "engines/auth/jwt/jose.h"

namespace coffer::jwt::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test key setup failed: ") + what);
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string Bn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  Check(EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, "get bn");
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

std::shared_ptr<TestKey> TestKey::Fresh(TestKeyKind kind) {
  EVP_PKEY* pkey = nullptr;
  switch (kind) {
    case TestKeyKind::kRsa2048:
      pkey = EVP_RSA_gen(2048);
      break;
    case TestKeyKind::kP256:
      pkey = EVP_EC_gen("P-256");
      break;
    case TestKeyKind::kP384:
      pkey = EVP_EC_gen("P-384");
      break;
    case TestKeyKind::kEd25519:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  Check(pkey != nullptr, "keygen");
  auto key = std::make_shared<TestKey>();
  key->pkey_ = std::shared_ptr<evp_pkey_st>(pkey, EVP_PKEY_free);
  key->kind_ = kind;
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PUBKEY(bio, pkey) == 1, "pem");
  key->public_pem_ = BioString(bio);
  BIO_free(bio);
  return key;
}

const TestKey& TestKey::Get(TestKeyKind kind) {
  static std::mutex mu;
  static std::map<TestKeyKind, std::shared_ptr<TestKey>> keys;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = keys[kind];
  if (!slot) slot = Fresh(kind);
  return *slot;
}

std::string TestKey::rsa_public_pem() const {
  BIO* bio = nullptr;
  // PKCS#1: i2d_PublicKey gives RSAPublicKey DER for RSA keys.
  unsigned char* der = nullptr;
  int len = i2d_PublicKey(pkey_.get(), &der);
  Check(len > 0, "i2d_PublicKey");
  bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio(bio, "RSA PUBLIC KEY", "", der, len) > 0, "pem write");
  OPENSSL_free(der);
  std::string out = BioString(bio);
  BIO_free(bio);
  return out;
}

std::string TestKey::certificate_pem() const {
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, pkey_.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  const EVP_MD* md = kind_ == TestKeyKind::kEd25519 ? nullptr : EVP_sha256();
  Check(X509_sign(cert, pkey_.get(), md) > 0, "x509 sign");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  std::string out = BioString(bio);
  BIO_free(bio);
  X509_free(cert);
  return out;
}

nlohmann::json TestKey::Jwk(const std::string& kid, const std::string& alg) const {
  nlohmann::json j;
  switch (kind_) {
    case TestKeyKind::kRsa2048:
      j = {{"kty", "RSA"},
           {"n", Base64UrlEncode(Bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_N))},
           {"e", Base64UrlEncode(Bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_E))}};
      break;
    case TestKeyKind::kP256:
    case TestKeyKind::kP384: {
      size_t size = kind_ == TestKeyKind::kP256 ? 32 : 48;
      unsigned char buf[200];
      size_t len = 0;
      Check(EVP_PKEY_get_octet_string_param(pkey_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &len) == 1, "pub");
      Check(len == 1 + 2 * size && buf[0] == 4, "uncompressed point");
      std::string x(reinterpret_cast<char*>(buf + 1), size), y(reinterpret_cast<char*>(buf + 1 + size), size);
      j = {
          {"kty", "EC"}, {"crv", size == 32 ? "P-256" : "P-384"}, {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}};
      break;
    }
    case TestKeyKind::kEd25519: {
      unsigned char buf[32];
      size_t len = sizeof(buf);
      Check(EVP_PKEY_get_raw_public_key(pkey_.get(), buf, &len) == 1, "raw");
      j = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(std::string(reinterpret_cast<char*>(buf), len))}};
      break;
    }
  }
  if (!kid.empty()) j["kid"] = kid;
  if (!alg.empty()) j["alg"] = alg;
  j["use"] = "sig";
  return j;
}

std::string TestKey::Sign(const std::string& alg, const std::string& data) const {
  const char* md = nullptr;
  if (alg.size() == 5 && (alg[0] == 'R' || alg[0] == 'E' || alg[0] == 'P' || alg[0] == 'H') && alg != "EdDSA") {
    std::string bits = alg.substr(2);
    md = bits == "256" ? "SHA256" : bits == "384" ? "SHA384" : "SHA512";
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Check(EVP_DigestSignInit_ex(ctx, nullptr, md, nullptr, nullptr, pkey_.get(), nullptr) == 1, "sign init");
  size_t len = 0;
  Check(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1,
        "sign len");
  std::string sig(len, '\0');
  Check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1,
        "sign");
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (kind_ == TestKeyKind::kP256 || kind_ == TestKeyKind::kP384) {
    size_t size = kind_ == TestKeyKind::kP256 ? 32 : 48;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    Check(es != nullptr, "ecdsa der");
    std::string raw(2 * size, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(size));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data() + size), static_cast<int>(size));
    ECDSA_SIG_free(es);
    return raw;
  }
  return sig;
}

std::string SignTokenWithHeader(const TestKey& key, const nlohmann::json& header, const nlohmann::json& claims) {
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  std::string alg = header.value("alg", "RS256");
  return input + "." + Base64UrlEncode(key.Sign(alg, input));
}

std::string SignToken(const TestKey& key, const std::string& alg, const nlohmann::json& claims,
                      const std::string& kid) {
  nlohmann::json header{{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  return SignTokenWithHeader(key, header, claims);
}

}  // namespace coffer::jwt::testing
