// Hex and base64 (standard alphabet) encoding. Decoders reject malformed input with a Status.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace coffer {

std::string HexEncode(std::string_view bytes);
StatusOr<std::string> HexDecode(std::string_view hex);  // accepts upper and lower case

std::string Base64Encode(std::string_view bytes, bool pad = true);
// Accepts padded or unpadded standard base64; rejects other characters and bad lengths.
StatusOr<std::string> Base64Decode(std::string_view b64);

}  // namespace coffer
