#include "logical/framework.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

#include "base/duration.h"

namespace coffer::logical {

using nlohmann::json;

namespace {

// ---- Rendering client values in error messages ---------------------------------------------

constexpr size_t kMaxEchoBytes = 32;

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

// A client string quoted for an error message: at most kMaxEchoBytes of input, cut on a
// character boundary, with control characters and invalid UTF-8 replaced, so the message is
// short, printable and valid UTF-8 whatever the client sent.
std::string QuoteForError(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(s, i);
    size_t step = len == 0 ? 1 : len;
    if (i + step > kMaxEchoBytes) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else if (len == 1 && (c < 0x20 || c == 0x7F)) {
      out += '?';
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out.append(s.substr(i, len));
    }
    i += step;
  }
  if (i < s.size()) out += "...";
  out += '"';
  return out;
}

std::string DescribeValue(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return QuoteForError(v.get_ref<const std::string&>());
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return v.dump();
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "null";
  }
}

const char* ExpectedText(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "expected a string";
    case FieldType::kInt:
      return "expected an integer";
    case FieldType::kBool:
      return "expected a boolean (true or false)";
    case FieldType::kDuration:
      return "expected a duration such as \"30s\", \"1h\" or a number of seconds";
    case FieldType::kStringSlice:
      return "expected a list of strings or a comma-separated string";
    case FieldType::kMap:
      return "expected a JSON object";
    case FieldType::kKVPairs:
      return "expected an object of string values or a list of \"key=value\" strings";
    case FieldType::kRaw:
      return "expected any value";
  }
  return "expected a valid value";
}

// ---- Conversions ---------------------------------------------------------------------------

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest text that reads back as the same
// double, never in exponent form.
std::string FloatText(double d) {
  char buf[400];  // fixed notation of DBL_MAX is 309 digits
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  if (ec != std::errc()) return json(d).dump();
  return std::string(buf, end);
}

std::string NumberText(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return FloatText(v.get<double>());
}

// A whole number that fits int64, from an integral JSON number or a float with no fraction.
std::optional<int64_t> JsonToInt64(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (!std::isfinite(d) || std::trunc(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// A decimal integer with an optional sign and nothing else.
std::optional<int64_t> TextToInt64(std::string_view s) {
  bool plus = !s.empty() && s.front() == '+';
  if (plus) s.remove_prefix(1);
  if (s.empty() || (plus && !(s.front() >= '0' && s.front() <= '9'))) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// The forms Go's strconv.ParseBool accepts.
std::optional<bool> TextToBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") return false;
  return std::nullopt;
}

std::optional<json> ParseJsonText(std::string_view s) {
  json parsed = json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// Splits on ',' trimming each entry and dropping empty ones.
std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view entry = Trim(s.substr(start, end - start));
    if (!entry.empty()) out.emplace_back(entry);
    start = end + 1;
  }
  return out;
}

std::optional<json> ToString(const json& v) {
  if (v.is_string()) return v;
  if (v.is_boolean()) return json(v.get<bool>() ? "true" : "false");
  if (v.is_number()) return json(NumberText(v));
  return std::nullopt;
}

std::optional<json> ToInt(const json& v) {
  std::optional<int64_t> n;
  if (v.is_number()) n = JsonToInt64(v);
  if (v.is_string()) n = TextToInt64(v.get_ref<const std::string&>());
  if (!n) return std::nullopt;
  return json(*n);
}

std::optional<json> ToBool(const json& v) {
  if (v.is_boolean()) return v;
  if (v.is_string()) {
    std::optional<bool> b = TextToBool(v.get_ref<const std::string&>());
    if (b) return json(*b);
    return std::nullopt;
  }
  if (v.is_number_integer()) {  // includes unsigned
    std::optional<int64_t> n = JsonToInt64(v);
    if (n && (*n == 0 || *n == 1)) return json(*n == 1);
  }
  return std::nullopt;
}

std::optional<json> ToDuration(const json& v) {
  if (v.is_number_integer()) {
    std::optional<int64_t> n = JsonToInt64(v);
    if (!n) return std::nullopt;
    return json(*n);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d <= -9.2e18 || d >= 9.2e18) return std::nullopt;
    return json(static_cast<int64_t>(std::trunc(d)));  // fractions truncate, as in durations
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty()) return json(int64_t{0});  // Vault reads an empty duration as zero
    StatusOr<int64_t> seconds = ParseDurationSeconds(s);
    if (!seconds.ok()) return std::nullopt;
    return json(*seconds);
  }
  return std::nullopt;
}

std::optional<json> StringArray(const json& v) {
  if (!v.is_array()) return std::nullopt;
  for (const json& e : v) {
    if (!e.is_string()) return std::nullopt;
  }
  return v;
}

std::optional<json> ToStringSlice(const json& v) {
  if (v.is_array()) return StringArray(v);
  if (!v.is_string()) return std::nullopt;
  std::string_view s = Trim(v.get_ref<const std::string&>());
  if (!s.empty() && s.front() == '[') {
    std::optional<json> parsed = ParseJsonText(s);
    if (parsed) return StringArray(*parsed);
    return std::nullopt;
  }
  json out = json::array();
  for (std::string& entry : SplitComma(s)) out.push_back(std::move(entry));
  return out;
}

std::optional<json> ToMap(const json& v) {
  if (v.is_object()) return v;
  if (v.is_string()) {
    std::optional<json> parsed = ParseJsonText(v.get_ref<const std::string&>());
    if (parsed && parsed->is_object()) return parsed;
  }
  return std::nullopt;
}

std::optional<json> PairsFromObject(const json& obj) {
  json out = json::object();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::optional<json> s = ToString(it.value());
    if (!s) return std::nullopt;
    out[it.key()] = std::move(*s);
  }
  return out;
}

std::optional<json> PairsFromStrings(const std::vector<std::string>& entries) {
  json out = json::object();
  for (const std::string& entry : entries) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

std::optional<json> ToKVPairs(const json& v) {
  if (v.is_object()) return PairsFromObject(v);
  if (v.is_array()) {
    std::vector<std::string> entries;
    for (const json& e : v) {
      if (!e.is_string()) return std::nullopt;
      entries.push_back(e.get<std::string>());
    }
    return PairsFromStrings(entries);
  }
  if (!v.is_string()) return std::nullopt;
  std::string_view s = Trim(v.get_ref<const std::string&>());
  if (!s.empty() && s.front() == '{') {
    std::optional<json> parsed = ParseJsonText(s);
    if (parsed && parsed->is_object()) return PairsFromObject(*parsed);
    return std::nullopt;
  }
  return PairsFromStrings(SplitComma(s));
}

std::optional<json> Convert(FieldType type, const json& v) {
  switch (type) {
    case FieldType::kString:
      return ToString(v);
    case FieldType::kInt:
      return ToInt(v);
    case FieldType::kBool:
      return ToBool(v);
    case FieldType::kDuration:
      return ToDuration(v);
    case FieldType::kStringSlice:
      return ToStringSlice(v);
    case FieldType::kMap:
      return ToMap(v);
    case FieldType::kKVPairs:
      return ToKVPairs(v);
    case FieldType::kRaw:
      return v;
  }
  return std::nullopt;
}

Status ConvertInto(const Field& field, const json& value, std::map<std::string, json>* values) {
  std::optional<json> converted = Convert(field.type, value);
  if (!converted) {
    return InvalidArgument("field \"" + field.name + "\": " + ExpectedText(field.type) + ", got " +
                           DescribeValue(value));
  }
  (*values)[field.name] = std::move(*converted);
  return OkStatus();
}

const json& EmptyObject() {
  static const json* const kEmpty = new json(json::object());
  return *kEmpty;
}

// "[a b]": Go's %v rendering of a []string, which Vault's warnings use.
std::string GoList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ' ';
    out += items[i];
  }
  return out + "]";
}

}  // namespace

// ---- FieldData -----------------------------------------------------------------------------

StatusOr<FieldData> FieldData::Parse(const std::vector<Field>& schema, const json& data,
                                     const std::map<std::string, std::string>& captures) {
  if (!data.is_null() && !data.is_object()) {
    return InvalidArgument("request data must be a JSON object");
  }
  FieldData fd;
  fd.raw_ = data.is_null() ? &EmptyObject() : &data;
  for (const Field& field : schema) fd.schema_[field.name] = &field;

  for (const auto& [name, value] : captures) {
    auto it = fd.schema_.find(name);
    if (it == fd.schema_.end()) continue;
    RETURN_IF_ERROR(ConvertInto(*it->second, json(value), &fd.values_));
  }
  if (data.is_object()) {
    for (auto it = data.begin(); it != data.end(); ++it) {
      const std::string& key = it.key();
      if (captures.count(key) > 0) continue;  // the path wins over the body
      auto field = fd.schema_.find(key);
      if (field == fd.schema_.end()) {
        fd.unknown_.push_back(key);
        continue;
      }
      if (it.value().is_null()) continue;
      RETURN_IF_ERROR(ConvertInto(*field->second, it.value(), &fd.values_));
    }
  }
  for (const Field& field : schema) {
    if (field.required && fd.values_.count(field.name) == 0) {
      return InvalidArgument("missing required field \"" + field.name + "\"");
    }
  }
  std::sort(fd.unknown_.begin(), fd.unknown_.end());
  return fd;
}

bool FieldData::Has(const std::string& name) const { return values_.count(name) > 0; }

const json* FieldData::Lookup(const std::string& name, std::initializer_list<FieldType> types, json* scratch) const {
  auto field = schema_.find(name);
  assert(field != schema_.end() && "getter for an undeclared field");
  if (field == schema_.end()) return nullptr;
  FieldType type = field->second->type;
  bool type_ok = std::find(types.begin(), types.end(), type) != types.end();
  assert(type_ok && "getter of the wrong type for this field");
  if (!type_ok) return nullptr;
  auto value = values_.find(name);
  if (value != values_.end()) return &value->second;
  const json& fallback = field->second->default_value;
  if (fallback.is_null()) return nullptr;
  std::optional<json> converted = Convert(type, fallback);
  assert(converted && "field default does not convert to the field's type");
  if (!converted) return nullptr;
  *scratch = std::move(*converted);
  return scratch;
}

std::string FieldData::GetString(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kString}, &scratch);
  return v ? v->get<std::string>() : std::string();
}

int64_t FieldData::GetInt(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kInt}, &scratch);
  return v ? v->get<int64_t>() : 0;
}

bool FieldData::GetBool(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kBool}, &scratch);
  return v ? v->get<bool>() : false;
}

int64_t FieldData::GetDurationSeconds(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kDuration}, &scratch);
  return v ? v->get<int64_t>() : 0;
}

std::vector<std::string> FieldData::GetStringSlice(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kStringSlice}, &scratch);
  std::vector<std::string> out;
  if (v) {
    for (const json& e : *v) out.push_back(e.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> FieldData::GetKVPairs(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kKVPairs}, &scratch);
  std::map<std::string, std::string> out;
  if (v) {
    for (auto it = v->begin(); it != v->end(); ++it) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

json FieldData::GetJson(const std::string& name) const {
  json scratch;
  const json* v = Lookup(name, {FieldType::kMap, FieldType::kKVPairs, FieldType::kRaw}, &scratch);
  return v ? *v : json();
}

// ---- Pattern matching ----------------------------------------------------------------------

namespace {

struct Token {
  enum class Kind { kLiteral, kSegment, kRest, kRestNonEmpty };
  Kind kind;
  std::string literal;  // kLiteral
  size_t capture = 0;   // index into the capture slots, for the other kinds
};

[[noreturn]] void BadPattern(const std::string& pattern, const char* why) {
  std::fprintf(stderr, "coffer: invalid path pattern \"%s\": %s\n", pattern.c_str(), why);
  std::abort();
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Matches tokens[ti..] against s[pos..], filling capture slots. {name} is greedy and backs off
// only when a later token needs it to; {name*}/{name+} are always last.
bool MatchFrom(const std::vector<Token>& tokens, size_t ti, std::string_view s, size_t pos,
               std::vector<std::string_view>* slots) {
  for (; ti < tokens.size(); ++ti) {
    const Token& t = tokens[ti];
    switch (t.kind) {
      case Token::Kind::kLiteral:
        if (s.substr(pos, t.literal.size()) != t.literal) return false;
        pos += t.literal.size();
        break;
      case Token::Kind::kRest:
        (*slots)[t.capture] = s.substr(pos);
        return true;
      case Token::Kind::kRestNonEmpty:
        if (pos >= s.size()) return false;
        (*slots)[t.capture] = s.substr(pos);
        return true;
      case Token::Kind::kSegment: {
        size_t end = s.find('/', pos);
        if (end == std::string_view::npos) end = s.size();
        if (end == pos) return false;
        const Token* next = ti + 1 < tokens.size() ? &tokens[ti + 1] : nullptr;
        // Common cases need no backtracking: the segment runs to the next '/' or the end.
        if (next == nullptr || (next->kind == Token::Kind::kLiteral && next->literal[0] == '/')) {
          (*slots)[t.capture] = s.substr(pos, end - pos);
          pos = end;
          break;
        }
        for (size_t stop = end; stop > pos; --stop) {
          (*slots)[t.capture] = s.substr(pos, stop - pos);
          if (MatchFrom(tokens, ti + 1, s, stop, slots)) return true;
        }
        return false;
      }
    }
  }
  return pos == s.size();
}

}  // namespace

struct FrameworkBackend::CompiledPath {
  Path path;
  std::vector<Token> tokens;
  std::vector<std::string> capture_names;  // by slot
  bool optional_trailing_slash = false;

  explicit CompiledPath(Path p) : path(std::move(p)) {
    std::string_view pattern = path.pattern;
    if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/?") {
      optional_trailing_slash = true;
      pattern.remove_suffix(2);
    }
    size_t i = 0;
    while (i < pattern.size()) {
      if (!tokens.empty() &&
          (tokens.back().kind == Token::Kind::kRest || tokens.back().kind == Token::Kind::kRestNonEmpty)) {
        BadPattern(path.pattern, "{name*} and {name+} must end the pattern");
      }
      if (pattern[i] == '}') BadPattern(path.pattern, "unmatched '}'");
      if (pattern[i] != '{') {
        size_t next = pattern.find_first_of("{}", i);
        if (next == std::string_view::npos) next = pattern.size();
        tokens.push_back(Token{Token::Kind::kLiteral, std::string(pattern.substr(i, next - i))});
        i = next;
        continue;
      }
      size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) BadPattern(path.pattern, "unclosed '{'");
      std::string_view name = pattern.substr(i + 1, close - i - 1);
      Token::Kind kind = Token::Kind::kSegment;
      if (!name.empty() && name.back() == '*') kind = Token::Kind::kRest;
      if (!name.empty() && name.back() == '+') kind = Token::Kind::kRestNonEmpty;
      if (kind != Token::Kind::kSegment) name.remove_suffix(1);
      if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
        BadPattern(path.pattern, "capture names are letters, digits, '_' and '-'");
      }
      if (std::find(capture_names.begin(), capture_names.end(), name) != capture_names.end()) {
        BadPattern(path.pattern, "a capture name is used twice");
      }
      tokens.push_back(Token{kind, "", capture_names.size()});
      capture_names.emplace_back(name);
      i = close + 1;
    }
    for (const std::string& name : capture_names) {
      bool declared =
          std::any_of(path.fields.begin(), path.fields.end(), [&](const Field& f) { return f.name == name; });
      if (!declared) path.fields.push_back(Field{name, FieldType::kString, "Captured from the path."});
    }
  }

  bool Matches(std::string_view rel, std::vector<std::string_view>* slots) const {
    if (MatchFrom(tokens, 0, rel, 0, slots)) return true;
    return optional_trailing_slash && !rel.empty() && rel.back() == '/' &&
           MatchFrom(tokens, 0, rel.substr(0, rel.size() - 1), 0, slots);
  }
};

FrameworkBackend::FrameworkBackend(std::vector<Path> paths, std::string help) : help_(std::move(help)) {
  paths_.reserve(paths.size());
  for (Path& p : paths) {
    auto compiled = std::make_shared<CompiledPath>(std::move(p));
    max_captures_ = std::max(max_captures_, compiled->capture_names.size());
    paths_.push_back(std::move(compiled));
  }
}

FrameworkBackend::~FrameworkBackend() = default;

bool FrameworkBackend::IsUnauthenticated(std::string_view relative_path) const {
  for (const std::string& pattern : unauthenticated_) {
    if (!pattern.empty() && pattern.back() == '*') {
      std::string_view prefix(pattern.data(), pattern.size() - 1);
      if (relative_path.substr(0, prefix.size()) == prefix) return true;
    } else if (relative_path == pattern) {
      return true;
    }
  }
  return false;
}

const FrameworkBackend::CompiledPath* FrameworkBackend::Match(const std::string& rel,
                                                              std::map<std::string, std::string>* captures) const {
  std::vector<std::string_view> slots(max_captures_);
  for (const auto& compiled : paths_) {
    if (!compiled->Matches(rel, &slots)) continue;
    captures->clear();
    for (size_t i = 0; i < compiled->capture_names.size(); ++i) {
      captures->emplace(compiled->capture_names[i], std::string(slots[i]));
    }
    return compiled.get();
  }
  return nullptr;
}

Response FrameworkBackend::RootHelp() const {
  std::string text = help_;
  if (!paths_.empty()) {
    text += "\n\n## PATHS\n\nThe following paths are supported by this backend:\n";
    for (const auto& compiled : paths_) {
      text += "\n    " + compiled->path.pattern + "\n        " + compiled->path.help_synopsis + "\n";
    }
  }
  return Response::WithData(json{{"help", std::move(text)}});
}

StatusOr<Response> FrameworkBackend::HandleRequest(Request& req) {
  std::string rel = req.RelativePath();
  if (req.operation == Operation::kHelp && rel.empty()) return RootHelp();

  std::map<std::string, std::string> captures;
  const CompiledPath* compiled = Match(rel, &captures);
  if (compiled == nullptr) return NotFound("unsupported path");
  const Path& path = compiled->path;

  auto op = path.operations.find(req.operation);
  if (op == path.operations.end()) {
    if (req.operation != Operation::kHelp) return UnsupportedOperation("unsupported operation");
    std::string text = path.help_synopsis;
    if (!path.help_description.empty()) text += "\n\n" + path.help_description;
    return Response::WithData(json{{"help", std::move(text)}});
  }

  ASSIGN_OR_RETURN(FieldData fields, FieldData::Parse(path.fields, req.data, captures));
  ASSIGN_OR_RETURN(Response resp, op->second(req, fields));

  if (!resp.Empty() && !resp.raw_status) {
    if (!path.takes_arbitrary_fields && !fields.unknown().empty()) {
      resp.warnings.push_back("Endpoint ignored these unrecognized parameters: " + GoList(fields.unknown()));
    }
    std::vector<std::string> replaced;
    if (req.data.is_object()) {
      for (const auto& [name, value] : captures) {
        auto it = req.data.find(name);
        if (it != req.data.end() && !it->is_null()) replaced.push_back(name);
      }
    }
    if (!replaced.empty()) {
      resp.warnings.push_back(
          "Endpoint replaced the value of these parameters with the values captured from the "
          "endpoint's path: " +
          GoList(replaced));
    }
  }
  return resp;
}

StatusOr<std::optional<bool>> FrameworkBackend::ExistenceCheck(Request& req) {
  std::map<std::string, std::string> captures;
  const CompiledPath* compiled = Match(req.RelativePath(), &captures);
  if (compiled == nullptr || !compiled->path.existence_check) return std::optional<bool>();
  ASSIGN_OR_RETURN(FieldData fields, FieldData::Parse(compiled->path.fields, req.data, captures));
  ASSIGN_OR_RETURN(bool exists, compiled->path.existence_check(req, fields));
  return std::optional<bool>(exists);
}

}  // namespace coffer::logical
