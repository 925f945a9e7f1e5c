#include "formats/age/bech32.h"

#include <cstdint>
#include <vector>

namespace coffer::age {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint32_t Polymod(const std::vector<uint8_t>& values) {
  constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGen[i];
    }
  }
  return chk;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// hrp is lowercase here.
std::vector<uint8_t> HrpExpand(std::string_view hrp) {
  std::vector<uint8_t> out;
  out.reserve(hrp.size() * 2 + 1);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

}  // namespace

std::string Bech32Encode(std::string_view hrp, const uint8_t* data, size_t n) {
  bool upper = !hrp.empty() && hrp[0] >= 'A' && hrp[0] <= 'Z';
  std::string lower_hrp;
  for (char c : hrp) lower_hrp.push_back(Lower(c));
  std::vector<uint8_t> values;
  values.reserve((n * 8 + 4) / 5 + 6);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push_back((acc >> bits) & 31);
    }
  }
  if (bits > 0) values.push_back((acc << (5 - bits)) & 31);
  std::vector<uint8_t> check = HrpExpand(lower_hrp);
  check.insert(check.end(), values.begin(), values.end());
  check.insert(check.end(), 6, 0);
  uint32_t mod = Polymod(check) ^ 1;
  for (int i = 0; i < 6; ++i) values.push_back((mod >> (5 * (5 - i))) & 31);
  std::string out = lower_hrp + "1";
  for (uint8_t v : values) out.push_back(kCharset[v]);
  if (upper) {
    for (char& c : out) c = Upper(c);
  }
  acc = 0;
  return out;
}

StatusOr<Bech32Decoded> Bech32Decode(std::string_view s) {
  bool has_lower = false, has_upper = false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) return InvalidArgument("invalid character in Bech32 string");
    if (c >= 'a' && c <= 'z') has_lower = true;
    if (c >= 'A' && c <= 'Z') has_upper = true;
  }
  if (has_lower && has_upper) return InvalidArgument("mixed case Bech32 string");
  size_t sep = s.rfind('1');
  if (sep == std::string_view::npos || sep == 0) return InvalidArgument("missing Bech32 separator or prefix");
  if (s.size() - sep - 1 < 6) return InvalidArgument("Bech32 string too short");
  std::string lower_hrp;
  for (char c : s.substr(0, sep)) lower_hrp.push_back(Lower(c));
  std::vector<uint8_t> values;
  values.reserve(s.size() - sep - 1);
  for (char c : s.substr(sep + 1)) {
    char l = Lower(c);
    const char* p = nullptr;
    for (const char* q = kCharset; *q; ++q) {
      if (*q == l) {
        p = q;
        break;
      }
    }
    if (p == nullptr) return InvalidArgument("invalid Bech32 data character");
    values.push_back(static_cast<uint8_t>(p - kCharset));
  }
  std::vector<uint8_t> check = HrpExpand(lower_hrp);
  check.insert(check.end(), values.begin(), values.end());
  if (Polymod(check) != 1) return InvalidArgument("invalid Bech32 checksum");
  values.resize(values.size() - 6);
  Bech32Decoded out;
  out.hrp = std::string(s.substr(0, sep));
  out.data.reserve(values.size() * 5 / 8);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t v : values) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.data.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
    acc = 0;
    return InvalidArgument("invalid Bech32 padding");
  }
  acc = 0;
  SecureWipe(values.data(), values.size());
  SecureWipe(check.data(), check.size());
  return out;
}

}  // namespace coffer::age
