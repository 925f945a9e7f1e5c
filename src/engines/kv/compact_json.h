// Shape checks over JSON text in nlohmann's compact dump() form, so the KV engines can splice
// stored values into responses instead of parsing and re-serializing them. dump() output is a
// fixpoint of parse + dump (sorted keys, no whitespace, shortest round-trip numbers, the same
// escapes), so such text is exactly what rendering the parsed document would give. These are
// shape checks, not validators: they only accept text of that form and reject anything else.
#pragma once

#include <cstddef>
#include <string_view>

namespace coffer::kv {

// Skips the JSON string starting at s[*pos] == '"'; false on a raw control character or an
// unterminated string.
inline bool SkipString(std::string_view s, size_t* pos) {
  size_t i = *pos + 1;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20) return false;
    i += c == '\\' ? 2 : 1;
  }
  return false;
}

// Skips one compact JSON value (no whitespace anywhere outside strings) starting at s[*pos].
// A shape check, not a validator: scalars are any run of [0-9a-z.+-E].
inline bool SkipValue(std::string_view s, size_t* pos) {
  size_t i = *pos;
  if (i >= s.size()) return false;
  if (s[i] == '"') return SkipString(s, pos);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        if (!SkipString(s, &i)) return false;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          *pos = i + 1;
          return true;
        }
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        return false;
      }
      ++i;
    }
    return false;
  }
  size_t start = i;
  while (i < s.size()) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '+' || c == '-' || c == 'E') {
      ++i;
    } else {
      break;
    }
  }
  std::string_view scalar = s.substr(start, i - start);
  if (scalar.empty()) return false;
  if (!(scalar == "true" || scalar == "false" || scalar == "null" || scalar[0] == '-' ||
        (scalar[0] >= '0' && scalar[0] <= '9'))) {
    return false;
  }
  *pos = i;
  return true;
}

// Walks a JSON object in nlohmann's compact dump() form, calling member(key, value) with the
// raw text of each top-level member (the key with its quotes). False when the text does not
// have that shape (whitespace between tokens, top-level keys out of order or escaped): the
// caller then parses it instead. Nested values are checked for shape only; the KV engines
// store nothing but dump() output, so their bytes are canonical too.
template <typename Visitor>
bool ScanCompactObject(std::string_view s, Visitor&& member) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return false;
  if (s.size() == 2) return true;
  size_t i = 1;
  std::string_view previous_key;
  while (true) {
    if (i >= s.size() || s[i] != '"') return false;
    size_t key_start = i;
    if (!SkipString(s, &i)) return false;
    std::string_view key = s.substr(key_start, i - key_start);
    // dump() writes members in ascending key order; an escaped key is left to the parser.
    if (key.find('\\') != std::string_view::npos) return false;
    if (!previous_key.empty() && !(previous_key.substr(1, previous_key.size() - 2) < key.substr(1, key.size() - 2))) {
      return false;
    }
    previous_key = key;
    if (i >= s.size() || s[i] != ':') return false;
    size_t value_start = ++i;
    if (!SkipValue(s, &i)) return false;
    std::string_view value = s.substr(value_start, i - value_start);
    member(key, value);
    if (i >= s.size()) return false;
    if (s[i] == '}') return i + 1 == s.size();
    if (s[i] != ',') return false;
    ++i;
  }
}

}  // namespace coffer::kv
