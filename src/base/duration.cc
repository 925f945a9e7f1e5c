#include "base/duration.h"

#include <cctype>
#include <cmath>
#include <string>

namespace coffer {

StatusOr<int64_t> ParseDurationSeconds(std::string_view text) {
  auto invalid = [&] { return InvalidArgument("invalid duration \"" + std::string(text.substr(0, 64)) + "\""); };
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) return invalid();
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return invalid();

  // Bare integer: seconds.
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    if (s.size() > 15) return invalid();
    int64_t v = std::stoll(std::string(s));
    return negative ? -v : v;
  }

  double total = 0;  // seconds
  while (!s.empty()) {
    size_t i = 0;
    bool seen_digit = false, seen_dot = false;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || (s[i] == '.' && !seen_dot))) {
      if (s[i] == '.') seen_dot = true; else seen_digit = true;
      ++i;
    }
    if (!seen_digit || i > 24) return invalid();
    double number = std::stod(std::string(s.substr(0, i)));
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    double scale;
    if (unit == "ns") scale = 1e-9;
    else if (unit == "us" || unit == "µs") scale = 1e-6;
    else if (unit == "ms") scale = 1e-3;
    else if (unit == "s") scale = 1;
    else if (unit == "m") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit == "d") scale = 86400;
    else return invalid();
    total += number * scale;
    if (total > 9.2e15) return invalid();
  }
  int64_t secs = static_cast<int64_t>(std::floor(total));
  return negative ? -secs : secs;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  if (seconds < 0) {
    out = "-";
    seconds = -seconds;
  }
  int64_t h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60;
  if (h > 0) return out + std::to_string(h) + "h" + std::to_string(m) + "m" + std::to_string(s) + "s";
  if (m > 0) return out + std::to_string(m) + "m" + std::to_string(s) + "s";
  return out + std::to_string(s) + "s";
}

}  // namespace coffer
