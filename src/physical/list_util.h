// Helpers shared by the physical backends to turn ordered key ranges into Vault list results.
// Internal to src/physical; not part of the storage interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coffer::physical::internal {

// The immediate child of `prefix` that `key` (which starts with `prefix`) belongs to: the rest of
// the key up to and including the first '/', or the whole rest when it has no '/'.
inline std::string_view ChildOf(std::string_view prefix, std::string_view key) {
  std::string_view rest = key.substr(prefix.size());
  size_t slash = rest.find('/');
  return slash == std::string_view::npos ? rest : rest.substr(0, slash + 1);
}

// The smallest string greater than every string that starts with `prefix`, or std::nullopt when
// there is none (empty prefix or one made only of 0xFF bytes). Byte order is unsigned.
inline std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char last = static_cast<unsigned char>(s.back());
    if (last != 0xFF) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

}  // namespace coffer::physical::internal
