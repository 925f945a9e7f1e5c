#include "cli/output.h"

#include <algorithm>
#include <cstdio>

namespace coffer::cli {
namespace {

using json = nlohmann::json;

// Number of UTF-8 code points (column width approximation used for alignment).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Vault's client keeps numbers as json.Number, so they print as they arrived.
std::string NumberText(const json& v) { return v.dump(); }

std::string ValueForTable(const std::string& key, const json& v) {
  if (LooksLikeDuration(key) &&
      (v.is_number_integer() || (v.is_string() && !v.get<std::string>().empty() &&
                                 v.get<std::string>().find_first_not_of("0123456789") == std::string::npos))) {
    int64_t secs = v.is_number_integer() ? v.get<int64_t>() : std::stoll(v.get<std::string>());
    return HumanDuration(secs);
  }
  return GoValue(v);
}

void GoJsonString(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '<':
      case '>':
      case '&':
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      continue;
    }
    // U+2028 / U+2029 are escaped by Go's encoder.
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out += static_cast<char>(c);
  }
  out += '"';
}

void GoJsonValue(std::string& out, const json& v, int indent) {
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.type()) {
    case json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {  // nlohmann's object map is sorted
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        GoJsonString(out, it.key());
        out += ": ";
        GoJsonValue(out, it.value(), indent + 1);
      }
      newline(indent);
      out += '}';
      return;
    }
    case json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        GoJsonValue(out, e, indent + 1);
      }
      newline(indent);
      out += ']';
      return;
    }
    case json::value_t::string:
      GoJsonString(out, v.get_ref<const std::string&>());
      return;
    case json::value_t::number_float:
      out += NumberText(v);
      return;
    default:
      out += v.dump();
      return;
  }
}

// ---- YAML (go-yaml v2 conventions) ----

bool IsYamlNumber(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') i = 1;
  if (i >= s.size()) return false;
  if (s.substr(i) == ".inf" || s.substr(i) == ".Inf" || s.substr(i) == ".INF") return true;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  if (s.size() > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) return true;
  bool digits = false, dot = false, exp = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '_') {
    } else if (c == '.' && !dot && !exp) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && digits && !exp) {
      exp = true;
      if (i + 1 < s.size() && (s[i + 1] == '-' || s[i + 1] == '+')) ++i;
    } else {
      return false;
    }
  }
  return digits;
}

// go-yaml v2 resolves plain scalars that start like a date ("2006-1-2", "2006-1-2T15:04:05Z")
// to timestamps, so such strings are quoted.
bool LooksLikeTimestamp(std::string_view s) {
  size_t i = 0;
  auto digits = [&](size_t min, size_t max) {
    size_t start = i;
    while (i < s.size() && i - start < max && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start >= min;
  };
  if (!digits(4, 4) || i >= s.size() || s[i++] != '-') return false;
  if (!digits(1, 2) || i >= s.size() || s[i++] != '-') return false;
  if (!digits(1, 2)) return false;
  return i == s.size() || s[i] == 'T' || s[i] == 't' || s[i] == ' ';
}

bool ResolvesToNonString(std::string_view s) {
  if (LooksLikeTimestamp(s)) return true;
  static constexpr std::string_view kWords[] = {"y",  "Y",    "yes",  "Yes",  "YES",   "n",     "N",     "no",  "No",
                                                "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",  "On",
                                                "ON", "off",  "Off",  "OFF",  "~",     "null",  "Null",  "NULL"};
  for (auto w : kWords) {
    if (s == w) return true;
  }
  return IsYamlNumber(s);
}

bool PlainAllowed(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return false;
  static constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string_view::npos) {
    // "-", "?" and ":" may start a plain scalar when followed by a non-space.
    if (!((s.front() == '-' || s.front() == '?' || s.front() == ':') && s.size() > 1 && s[1] != ' ')) return false;
  }
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return false;
  if (s.back() == ':') return false;
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\t') return false;
  }
  return true;
}

std::string YamlDoubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string YamlScalarString(std::string_view s, int indent) {
  if (s.find('\n') != std::string_view::npos) {
    bool ends_nl = s.back() == '\n';
    std::string out = ends_nl ? "|" : "|-";
    std::string_view body = ends_nl ? s.substr(0, s.size() - 1) : s;
    if (!body.empty() && body.front() == ' ') out += "2";
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t nl = body.find('\n', pos);
      std::string_view line = body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      out += '\n';
      if (!line.empty()) {
        out.append(static_cast<size_t>(indent) * 2, ' ');
        out += line;
      }
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    return out;
  }
  if (s.empty()) return "\"\"";
  if (ResolvesToNonString(s)) return YamlDoubleQuoted(s);
  if (PlainAllowed(s)) return std::string(s);
  for (unsigned char c : s) {
    if (c < 0x20) return YamlDoubleQuoted(s);
  }
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string YamlScalar(const json& v, int indent) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::string:
      return YamlScalarString(v.get_ref<const std::string&>(), indent);
    case json::value_t::number_float:
      return NumberText(v);
    case json::value_t::object:
      return "{}";
    case json::value_t::array:
      return "[]";
    default:
      return v.dump();
  }
}

void YamlNode(std::string& out, const json& v, int indent);

void YamlMapBody(std::string& out, const json& v, int indent, bool first_inline) {
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!(first && first_inline)) out.append(static_cast<size_t>(indent) * 2, ' ');
    first = false;
    out += YamlScalarString(it.key(), indent + 1);
    out += ':';
    const json& child = it.value();
    if (child.is_object() && !child.empty()) {
      out += '\n';
      YamlMapBody(out, child, indent + 1, false);
    } else if (child.is_array() && !child.empty()) {
      out += '\n';
      YamlNode(out, child, indent);  // go-yaml v2 does not indent sequences under a mapping key
    } else {
      out += ' ';
      out += YamlScalar(child, indent + 1);
      out += '\n';
    }
  }
}

void YamlNode(std::string& out, const json& v, int indent) {
  if (v.is_object() && !v.empty()) {
    YamlMapBody(out, v, indent, false);
    return;
  }
  if (v.is_array() && !v.empty()) {
    for (const auto& e : v) {
      out.append(static_cast<size_t>(indent) * 2, ' ');
      out += "- ";
      if (e.is_object() && !e.empty()) {
        YamlMapBody(out, e, indent + 1, true);
      } else if (e.is_array() && !e.empty()) {
        out += '\n';
        YamlNode(out, e, indent + 1);
      } else {
        out += YamlScalar(e, indent + 1);
        out += '\n';
      }
    }
    return;
  }
  out.append(static_cast<size_t>(indent) * 2, ' ');
  out += YamlScalar(v, indent);
  out += '\n';
}

}  // namespace

std::string GoValue(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "<nil>";
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_float:
      return NumberText(v);
    case json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ' ';
        first = false;
        out += GoValue(e);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ' ';
        first = false;
        out += it.key() + ":" + GoValue(it.value());
      }
      return out + "]";
    }
    default:
      return v.dump();
  }
}

std::string HumanDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  bool neg = seconds < 0;
  uint64_t s = neg ? static_cast<uint64_t>(-(seconds + 1)) + 1 : static_cast<uint64_t>(seconds);
  uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  std::string out = neg ? "-" : "";
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(sec) + "s";
  // Drop the zero tails as Vault does: "1h0m0s" -> "1h", "1m0s" -> "1m", "1h0m5s" -> "1h5s".
  if (out.size() >= 3 && out.compare(out.size() - 3, 3, "m0s") == 0) out.resize(out.size() - 2);
  if (size_t idx = out.find("h0m"); idx != std::string::npos && idx > 0) out.erase(idx + 1, 2);
  return out;
}

bool LooksLikeDuration(std::string_view k) {
  auto ends = [&](std::string_view suffix) {
    return k.size() >= suffix.size() && k.substr(k.size() - suffix.size()) == suffix;
  };
  return k == "period" || ends("_period") || k == "ttl" || ends("_ttl") || k == "duration" || ends("_duration") ||
         k == "lease_max" || k == "ttl_max";
}

std::string Table(const std::vector<std::vector<std::string>>& input) {
  if (input.empty()) return "";
  std::vector<std::vector<std::string>> rows;
  rows.reserve(input.size() + 1);
  rows.push_back(input[0]);
  std::vector<std::string> underline;
  for (const auto& h : input[0]) underline.push_back(std::string(Width(h), '-'));
  rows.push_back(underline);
  for (size_t i = 1; i < input.size(); ++i) rows.push_back(input[i]);
  size_t cols = 0;
  for (const auto& r : rows) cols = std::max(cols, r.size());
  std::vector<size_t> widths(cols, 0);
  for (auto& r : rows) {
    for (auto& cell : r) {
      if (cell.empty()) cell = "n/a";
    }
    for (size_t c = 0; c < r.size(); ++c) widths[c] = std::max(widths[c], Width(r[c]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) {
        line.append(widths[c] - Width(r[c]), ' ');
        line += "    ";
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out.pop_back();
  return out;
}

std::string KeyValueTable(const json& object) {
  if (!object.is_object() || object.empty()) return "";
  std::vector<std::vector<std::string>> rows = {{"Key", "Value"}};
  for (auto it = object.begin(); it != object.end(); ++it)
    rows.push_back({it.key(), ValueForTable(it.key(), it.value())});
  return Table(rows);
}

std::string SecretTable(const json& r) {
  std::vector<std::vector<std::string>> rows = {{"Key", "Value"}};
  auto get = [&](const json& o, const char* k) -> json {
    if (o.is_object() && o.contains(k)) return o[k];
    return json();
  };
  int64_t lease = get(r, "lease_duration").is_number() ? get(r, "lease_duration").get<int64_t>() : 0;
  if (lease > 0) {
    std::string lease_id = get(r, "lease_id").is_string() ? get(r, "lease_id").get<std::string>() : "";
    if (!lease_id.empty()) {
      rows.push_back({"lease_id", lease_id});
      rows.push_back({"lease_duration", HumanDuration(lease)});
      rows.push_back({"lease_renewable", GoValue(get(r, "renewable"))});
    } else {
      rows.push_back({"refresh_interval", HumanDuration(lease)});
    }
  }
  json auth = get(r, "auth");
  if (auth.is_object()) {
    auto quoted_list = [&](const json& list) {
      std::string out = "[";
      bool first = true;
      if (list.is_array()) {
        for (const auto& e : list) {
          if (!first) out += ' ';
          first = false;
          out += "\"" + GoValue(e) + "\"";
        }
      }
      return out + "]";
    };
    rows.push_back({"token", GoValue(get(auth, "client_token"))});
    rows.push_back({"token_accessor", GoValue(get(auth, "accessor"))});
    int64_t ld = get(auth, "lease_duration").is_number() ? get(auth, "lease_duration").get<int64_t>() : 0;
    rows.push_back({"token_duration", ld == 0 ? "∞" : HumanDuration(ld)});
    rows.push_back(
        {"token_renewable", GoValue(get(auth, "renewable").is_null() ? json(false) : get(auth, "renewable"))});
    rows.push_back({"token_policies", quoted_list(get(auth, "token_policies"))});
    rows.push_back({"identity_policies", quoted_list(get(auth, "identity_policies"))});
    rows.push_back({"policies", quoted_list(get(auth, "policies"))});
    json meta = get(auth, "metadata");
    if (meta.is_object()) {
      for (auto it = meta.begin(); it != meta.end(); ++it)
        rows.push_back({"token_meta_" + it.key(), GoValue(it.value())});
    }
  }
  json data = get(r, "data");
  if (data.is_object()) {
    for (auto it = data.begin(); it != data.end(); ++it)
      rows.push_back({it.key(), ValueForTable(it.key(), it.value())});
  }
  if (rows.size() == 1) return "";
  return Table(rows);
}

std::string ListTable(const json& keys) {
  std::vector<std::string> sorted;
  if (keys.is_array()) {
    for (const auto& k : keys) sorted.push_back(GoValue(k));
  }
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::string>> rows = {{"Keys"}};
  for (auto& k : sorted) rows.push_back({k});
  return Table(rows);
}

std::string PadEqualSigns(std::string_view title, size_t total_len) {
  long signs = static_cast<long>(total_len) - static_cast<long>(title.size() + 2);
  if (signs <= 0) signs = 4;
  if (signs % 2 != 0) ++signs;
  std::string side(static_cast<size_t>(signs / 2), '=');
  return side + " " + std::string(title) + " " + side;
}

std::string HeaderForMap(std::string_view title, const json& object) {
  size_t max_key = 0;
  if (object.is_object()) {
    for (auto it = object.begin(); it != object.end(); ++it) max_key = std::max(max_key, it.key().size());
  }
  return PadEqualSigns(title, max_key + 4 + 5);
}

std::string GoJson(const json& v) {
  std::string out;
  GoJsonValue(out, v, 0);
  return out;
}

std::string SecretJson(const json& r) {
  if (!r.is_object()) return GoJson(r);
  auto field = [&](const char* k, const json& def) { return r.contains(k) ? r[k] : def; };
  std::vector<std::pair<std::string, json>> fields = {
      {"request_id", field("request_id", "")},
      {"lease_id", field("lease_id", "")},
      {"lease_duration", field("lease_duration", 0)},
      {"renewable", field("renewable", false)},
      {"data", field("data", nullptr)},
      {"warnings", field("warnings", nullptr)},
  };
  if (r.contains("auth") && !r["auth"].is_null()) fields.emplace_back("auth", r["auth"]);
  if (r.contains("wrap_info") && !r["wrap_info"].is_null()) fields.emplace_back("wrap_info", r["wrap_info"]);
  if (r.contains("mount_type") && r["mount_type"].is_string() && !r["mount_type"].get<std::string>().empty()) {
    fields.emplace_back("mount_type", r["mount_type"]);
  }
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : fields) {
    if (!first) out += ',';
    first = false;
    out += "\n  ";
    GoJsonString(out, k);
    out += ": ";
    GoJsonValue(out, v, 1);
  }
  out += "\n}";
  return out;
}

std::string Yaml(const json& v) {
  std::string out;
  YamlNode(out, v, 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string WarningsBlock(const json& r) {
  if (!r.is_object() || !r.contains("warnings") || !r["warnings"].is_array() || r["warnings"].empty()) return "";
  std::string out = "WARNING! The following warnings were returned from Vault:\n\n";
  for (const auto& w : r["warnings"]) {
    std::string text = "* " + GoValue(w);
    // Wrap at 78 columns with 2 spaces of padding, as Vault does.
    std::string wrapped;
    std::string line;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find(' ', pos);
      if (end == std::string::npos) end = text.size();
      std::string word = text.substr(pos, end - pos);
      if (!line.empty() && line.size() + 1 + word.size() > 76) {
        wrapped += "  " + line + "\n";
        line.clear();
      }
      if (!line.empty()) line += ' ';
      line += word;
      pos = end + 1;
    }
    if (!line.empty()) wrapped += "  " + line + "\n";
    out += wrapped + "\n";
  }
  return out;
}

json SecretField(const json& r, std::string_view field) {
  if (!r.is_object()) return json();
  const json* auth = r.contains("auth") && r["auth"].is_object() ? &r["auth"] : nullptr;
  if (auth) {
    auto a = [&](const char* k) { return auth->contains(k) ? (*auth)[k] : json(); };
    if (field == "token") return a("client_token");
    if (field == "token_accessor") return a("accessor");
    if (field == "token_duration") return a("lease_duration");
    if (field == "token_renewable") return a("renewable");
    if (field == "token_policies") return a("token_policies");
    if (field == "identity_policies") return a("identity_policies");
    if (field == "policies") return a("policies");
  }
  const json* wrap = r.contains("wrap_info") && r["wrap_info"].is_object() ? &r["wrap_info"] : nullptr;
  if (wrap) {
    auto w = [&](const char* k) { return wrap->contains(k) ? (*wrap)[k] : json(); };
    if (field == "wrapping_token") return w("token");
    if (field == "wrapping_accessor") return w("accessor");
    if (field == "wrapping_token_ttl") return w("ttl");
    if (field == "wrapping_token_creation_time") return w("creation_time");
    if (field == "wrapping_token_creation_path") return w("creation_path");
    if (field == "wrapped_accessor") return w("wrapped_accessor");
  }
  if (field == "refresh_interval" || field == "lease_duration") return r.value("lease_duration", json());
  if (field == "lease_id") return r.value("lease_id", json());
  if (field == "lease_renewable") return r.value("renewable", json());
  if (r.contains("data") && r["data"].is_object()) {
    const json& d = r["data"];
    auto it = d.find(std::string(field));
    if (it != d.end()) return *it;
  }
  return json();
}

}  // namespace coffer::cli
