// Arithmetic in GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), the
// field HashiCorp Vault's shamir package uses. Constant-time: no table lookups and no branches
// that depend on the operands, so share and secret bytes do not leak through timing.
#pragma once

#include <cstdint>

namespace coffer::gf256 {

// Addition and subtraction are both XOR.
constexpr uint8_t Add(uint8_t a, uint8_t b) { return a ^ b; }

// a * b, by shift-and-add over the bits of b, with masks in place of branches.
constexpr uint8_t Mul(uint8_t a, uint8_t b) {
  uint8_t r = 0;
  for (int i = 7; i >= 0; --i) {
    const uint8_t reduce = static_cast<uint8_t>(-(r >> 7));        // 0xff when r has x^7
    const uint8_t take = static_cast<uint8_t>(-((b >> i) & 1));    // 0xff when bit i of b
    r = static_cast<uint8_t>((r << 1) ^ (reduce & 0x1b) ^ (take & a));
  }
  return r;
}

// The multiplicative inverse a^254 (a^255 = 1 for a != 0); Inverse(0) is 0.
constexpr uint8_t Inverse(uint8_t a) {
  uint8_t power = Mul(a, a);  // a^2
  uint8_t result = power;
  for (int i = 0; i < 6; ++i) {  // multiplies in a^4, a^8, ..., a^128: 2+4+...+128 = 254
    power = Mul(power, power);
    result = Mul(result, power);
  }
  return result;
}

}  // namespace coffer::gf256
