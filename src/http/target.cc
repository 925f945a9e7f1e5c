#include "http/target.h"

namespace coffer::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Status PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = hi >= 0 ? HexValue(in[i + 2]) : -1;
      if (lo < 0) return InvalidArgument("invalid URL escape");
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return OkStatus();
}

Status ParseRequestTarget(std::string_view target, std::string* path,
                          std::vector<std::pair<std::string, std::string>>* query) {
  query->clear();
  if (target.find('#') != std::string_view::npos) {
    return InvalidArgument("malformed request target: fragment not allowed");
  }
  bool absolute_form = false;
  if (StartsWithNoCase(target, "http://") || StartsWithNoCase(target, "https://")) {
    size_t authority = target.find("://") + 3;
    size_t end = target.find_first_of("/?", authority);
    if (end == authority || authority == target.size())
      return InvalidArgument("malformed request target: missing host");
    target = end == std::string_view::npos ? std::string_view() : target.substr(end);
    absolute_form = true;
  }
  if (!absolute_form && (target.empty() || target.front() != '/')) {
    return InvalidArgument("malformed request target: must start with '/'");
  }
  size_t qmark = target.find('?');
  std::string_view raw_path = target.substr(0, qmark);
  if (raw_path.empty()) {
    path->assign(1, '/');
  } else {
    Status s = PercentDecode(raw_path, /*plus_is_space=*/false, path);
    if (!s.ok()) return InvalidArgument("malformed request path: " + s.message());
    if (path->find('\0') != std::string::npos) {
      return InvalidArgument("malformed request path: NUL byte not allowed");
    }
  }
  if (qmark == std::string_view::npos) return OkStatus();

  std::string_view raw_query = target.substr(qmark + 1);
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&');
    std::string_view piece = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_key = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    auto& [key, value] = query->emplace_back();
    Status s = PercentDecode(raw_key, /*plus_is_space=*/true, &key);
    if (s.ok()) s = PercentDecode(raw_value, /*plus_is_space=*/true, &value);
    if (!s.ok()) return InvalidArgument("malformed query string: " + s.message());
  }
  return OkStatus();
}

}  // namespace coffer::http
