#include "base/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace coffer {
namespace {

struct Block {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  int prefix = 0;
};

bool ParseAddress(std::string_view text, int* family, std::array<uint8_t, 16>* bytes) {
  if (text.empty() || text.size() > 64) return false;
  std::string s(text);
  bytes->fill(0);
  if (s.find(':') == std::string::npos) {
    *family = AF_INET;
    return inet_pton(AF_INET, s.c_str(), bytes->data()) == 1;
  }
  *family = AF_INET6;
  return inet_pton(AF_INET6, s.c_str(), bytes->data()) == 1;
}

bool ParseBlock(std::string_view text, Block* out) {
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (!ParseAddress(addr, &out->family, &out->bytes)) return false;
  int max_prefix = out->family == AF_INET ? 32 : 128;
  if (slash == std::string_view::npos) {
    out->prefix = max_prefix;
    return true;
  }
  std::string_view bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return false;
  auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), out->prefix);
  return ec == std::errc() && ptr == bits.data() + bits.size() && out->prefix >= 0 && out->prefix <= max_prefix;
}

// Zeroes the host bits.
void Mask(Block* b) {
  int total = b->family == AF_INET ? 4 : 16;
  for (int i = 0; i < total; ++i) {
    int keep = b->prefix - i * 8;
    if (keep >= 8) continue;
    b->bytes[i] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
}

}  // namespace

StatusOr<std::string> NormalizeCidr(std::string_view text) {
  Block b;
  if (!ParseBlock(text, &b)) {
    return InvalidArgument("invalid CIDR block \"" + std::string(text.substr(0, 64)) +
                           "\": expected an address with an optional /prefix, such as 10.0.0.0/8");
  }
  Mask(&b);
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(b.family, b.bytes.data(), buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(b.prefix);
}

bool CidrContains(std::string_view cidr, std::string_view address) {
  Block b;
  if (!ParseBlock(cidr, &b)) return false;
  Block a;
  if (!ParseAddress(address, &a.family, &a.bytes)) return false;
  if (a.family != b.family) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) against an IPv4 block.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.family == AF_INET6 && b.family == AF_INET && std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
      std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
      std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
      a.family = AF_INET;
    } else {
      return false;
    }
  }
  a.prefix = b.prefix;
  Mask(&a);
  Mask(&b);
  return a.bytes == b.bytes;
}

bool AddressAllowed(const std::vector<std::string>& cidrs, std::string_view address) {
  if (cidrs.empty()) return true;
  for (const auto& c : cidrs) {
    if (CidrContains(c, address)) return true;
  }
  return false;
}

}  // namespace coffer
