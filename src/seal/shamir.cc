#include "seal/shamir.h"

#include <array>
#include <cstdint>
#include <utility>

#include "crypto/random.h"
#include "seal/gf256.h"

namespace coffer::shamir {
namespace {

// A uniform value in [0, bound) for 1 <= bound <= 256, by rejection sampling (no modulo bias).
unsigned UniformBelow(unsigned bound) {
  const unsigned limit = 256 - (256 % bound);
  for (;;) {
    uint8_t b;
    crypto::RandomFill(&b, 1);
    if (b < limit) return b % bound;
  }
}

// Horner evaluation of coeffs[0] + coeffs[1] x + ... at x.
uint8_t Evaluate(const uint8_t* coeffs, int count, uint8_t x) {
  uint8_t y = coeffs[count - 1];
  for (int k = count - 2; k >= 0; --k) y = gf256::Add(gf256::Mul(y, x), coeffs[k]);
  return y;
}

}  // namespace

StatusOr<std::vector<SecretBytes>> Split(const SecretBytes& secret, int parts, int threshold) {
  if (parts < threshold) return InvalidArgument("parts cannot be less than threshold");
  if (parts > kMaxParts) return InvalidArgument("parts cannot exceed 255");
  if (threshold < 2) return InvalidArgument("threshold must be at least 2");
  if (secret.empty()) return InvalidArgument("cannot split an empty secret");

  // Distinct non-zero x-coordinates: the head of a uniformly shuffled 1..255 (Fisher-Yates).
  std::array<uint8_t, kMaxParts> xs;
  for (int i = 0; i < kMaxParts; ++i) xs[i] = static_cast<uint8_t>(i + 1);
  for (int i = kMaxParts - 1; i > 0; --i) {
    std::swap(xs[i], xs[UniformBelow(static_cast<unsigned>(i) + 1)]);
  }

  const size_t len = secret.size();
  std::vector<SecretBytes> out(static_cast<size_t>(parts), SecretBytes(len + 1));
  for (int p = 0; p < parts; ++p) out[p][len] = xs[p];

  // One random polynomial of degree threshold-1 per secret byte, constant term = that byte.
  SecretBytes coeffs = crypto::RandomSecret(static_cast<size_t>(threshold));
  for (size_t i = 0; i < len; ++i) {
    crypto::RandomFill(coeffs.data() + 1, coeffs.size() - 1);
    coeffs[0] = secret[i];
    for (int p = 0; p < parts; ++p) out[p][i] = Evaluate(coeffs.data(), threshold, xs[p]);
  }
  return out;
}

StatusOr<SecretBytes> Combine(const std::vector<SecretBytes>& parts) {
  if (parts.size() < 2) {
    return InvalidArgument("less than two parts cannot be used to reconstruct the secret");
  }
  const size_t share_len = parts[0].size();
  if (share_len < 2) return InvalidArgument("parts must be at least two bytes");
  std::array<bool, 256> seen{};
  for (const SecretBytes& part : parts) {
    if (part.size() != share_len) return InvalidArgument("all parts must be the same length");
    const uint8_t x = part[share_len - 1];
    if (x == 0) return InvalidArgument("part has an invalid x-coordinate of 0");
    if (seen[x]) return InvalidArgument("duplicate part detected");
    seen[x] = true;
  }

  // Lagrange basis polynomials at 0: l_i(0) = prod_{j != i} x_j / (x_j - x_i). They depend only
  // on the x-coordinates, so compute them once for all bytes.
  const size_t n = parts.size();
  SecretBytes basis(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t xi = parts[i][share_len - 1];
    uint8_t l = 1;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const uint8_t xj = parts[j][share_len - 1];
      l = gf256::Mul(l, gf256::Mul(xj, gf256::Inverse(gf256::Add(xj, xi))));
    }
    basis[i] = l;
  }

  SecretBytes secret(share_len - 1);
  for (size_t b = 0; b < secret.size(); ++b) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; ++i) acc = gf256::Add(acc, gf256::Mul(parts[i][b], basis[i]));
    secret[b] = acc;
  }
  return secret;
}

}  // namespace coffer::shamir
