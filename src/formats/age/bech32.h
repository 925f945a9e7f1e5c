// Bech32 (BIP 173) as age uses it: no 90-character limit, all-lowercase or all-uppercase, the
// checksum computed over the lowercase form. Data is 8-bit bytes, regrouped to 5 bits without
// padding on encode and with strict zero padding on decode.
#pragma once

#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::age {

struct Bech32Decoded {
  std::string hrp;   // as written (its case preserved)
  SecretBytes data;  // may be key material, hence the wiping container
};

// hrp must be non-empty printable ASCII; its case carries over to the whole result (an
// uppercase hrp gives an all-uppercase string).
std::string Bech32Encode(std::string_view hrp, const uint8_t* data, size_t n);
inline std::string Bech32Encode(std::string_view hrp, std::string_view data) {
  return Bech32Encode(hrp, reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

// kInvalidArgument naming the problem (mixed case, bad character, bad checksum, bad padding);
// the message never repeats the input, which may be a secret key.
StatusOr<Bech32Decoded> Bech32Decode(std::string_view s);

}  // namespace coffer::age
