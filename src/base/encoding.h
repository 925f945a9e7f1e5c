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

// Percent-encoding (RFC 3986, upper-case hex): RFC 3986's unreserved characters (letters,
// digits, "-._~") and the characters in `keep` stay as they are; with space_as_plus a space
// becomes '+' (form/query style, like Go's url.QueryEscape).
// POSIX shell single quoting: 'value' with each ' written as '\''; safe for any bytes.
std::string ShellQuote(std::string_view value);

// `"text"` for an error message that echoes input: cut to max_bytes on a UTF-8 code point
// boundary (then ending in `..."`), with quotes, backslashes and control characters escaped
// (\xNN) so the message stays one readable line.
std::string QuotedForMessage(std::string_view s, size_t max_bytes = 64);

// A copy with ASCII letters lower-cased; other bytes unchanged.
std::string AsciiLower(std::string_view s);

std::string PercentEncode(std::string_view s, std::string_view keep = "", bool space_as_plus = false);

}  // namespace coffer
