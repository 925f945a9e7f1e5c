// Test-only: key pairs generated at run time (RSA 2048, P-256, P-384, Ed25519), their public
// forms (PEM, JWK) and a signer that produces compact JWS tokens.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

struct evp_pkey_st;

namespace coffer::jwt::testing {

enum class TestKeyKind { kRsa2048, kP256, kP384, kEd25519 };

class TestKey {
 public:
  // Generated once per process and kind (RSA generation is slow); `fresh` makes a new one.
  static const TestKey& Get(TestKeyKind kind);
  static std::shared_ptr<TestKey> Fresh(TestKeyKind kind);

  const std::string& public_pem() const { return public_pem_; }
  std::string certificate_pem() const;  // a self-signed certificate for the key
  std::string rsa_public_pem() const;   // "RSA PUBLIC KEY" (PKCS#1); RSA keys only
  nlohmann::json Jwk(const std::string& kid = "", const std::string& alg = "") const;
  // The JWS signature (raw r||s for ECDSA) of `data` with the digest `alg` implies.
  std::string Sign(const std::string& alg, const std::string& data) const;

 private:
  std::shared_ptr<evp_pkey_st> pkey_;
  TestKeyKind kind_ = TestKeyKind::kRsa2048;
  std::string public_pem_;
};

// header.payload.signature with the given header (alg must be set by the caller) and claims.
std::string SignTokenWithHeader(const TestKey& key, const nlohmann::json& header, const nlohmann::json& claims);
// The same with alg/kid filled in: {"alg": alg, "typ": "JWT", "kid": kid (when non-empty)}.
std::string SignToken(const TestKey& key, const std::string& alg, const nlohmann::json& claims,
                      const std::string& kid = "");

}  // namespace coffer::jwt::testing
