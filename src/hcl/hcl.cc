#include "hcl/hcl.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace coffer::hcl {
namespace {

using Json = nlohmann::json;

enum class TokenType {
  kEof,
  kIdent,
  kString,
  kHeredoc,
  kInt,
  kFloat,
  kAssign,
  kComma,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;  // identifier name or decoded string
  int64_t int_value = 0;
  double float_value = 0;
  Position pos;
};

// What a token is, for "found ..." in error messages. Never includes string contents.
std::string Describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEof: return "end of file";
    case TokenType::kIdent: return "a bare word";
    case TokenType::kString: return "a string";
    case TokenType::kHeredoc: return "a heredoc";
    case TokenType::kInt:
    case TokenType::kFloat: return "a number";
    case TokenType::kAssign: return "'='";
    case TokenType::kComma: return "','";
    case TokenType::kLBrace: return "'{'";
    case TokenType::kRBrace: return "'}'";
    case TokenType::kLBracket: return "'['";
    case TokenType::kRBracket: return "']'";
  }
  return "a token";
}

// At most max_bytes of s, cut at a UTF-8 character boundary so messages stay valid UTF-8.
std::string Truncate(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

std::string PosText(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

bool IsIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c) || c == '-' || c == '.'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is malformed (overlong forms,
// surrogates and code points above U+10FFFF are malformed, as in Go and RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  unsigned c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view filename) : src_(text), filename_(filename) {}

  StatusOr<Body> ParseFile() {
    RETURN_IF_ERROR(CheckEncoding());
    // A UTF-8 byte order mark is not part of the text.
    if (src_.substr(0, 3) == "\xEF\xBB\xBF") offset_ = 3;
    RETURN_IF_ERROR(Advance());
    Body body;
    body.pos = Position{1, 1};
    RETURN_IF_ERROR(ParseBody(&body, /*top_level=*/true, /*depth=*/0));
    return body;
  }

 private:
  Status Error(Position p, std::string_view what) const {
    return InvalidArgument(std::string(filename_) + ":" + PosText(p) + ": " + std::string(what));
  }

  // Rejects malformed UTF-8 anywhere, so every string we hand out is valid UTF-8.
  Status CheckEncoding() {
    Position p{1, 1};
    for (size_t i = 0; i < src_.size();) {
      size_t n = Utf8SequenceLength(src_, i);
      if (n == 0) return Error(p, "invalid UTF-8 encoding");
      if (src_[i] == '\n') {
        ++p.line;
        p.column = 1;
      } else {
        ++p.column;
      }
      i += n;
    }
    return OkStatus();
  }

  // ---- Lexer ----

  bool AtEnd() const { return offset_ >= src_.size(); }
  char Peek(size_t ahead = 0) const {
    return offset_ + ahead < src_.size() ? src_[offset_ + ahead] : '\0';
  }
  Position Here() const { return Position{line_, column_}; }

  // Consumes one byte, keeping line and column (columns count code points).
  void Bump() {
    unsigned char c = static_cast<unsigned char>(src_[offset_++]);
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column_;
    }
  }
  void BumpN(size_t n) {
    for (size_t i = 0; i < n && !AtEnd(); ++i) Bump();
  }

  Status SkipTrivia() {
    while (!AtEnd()) {
      char c = Peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        Bump();
      } else if (c == '#' || (c == '/' && Peek(1) == '/')) {
        while (!AtEnd() && Peek() != '\n') Bump();
      } else if (c == '/' && Peek(1) == '*') {
        Position start = Here();
        BumpN(2);
        while (!AtEnd() && !(Peek() == '*' && Peek(1) == '/')) Bump();
        if (AtEnd()) return Error(start, "comment opened with '/*' is never closed with '*/'");
        BumpN(2);
      } else {
        break;
      }
    }
    return OkStatus();
  }

  // Reads the next token into tok_.
  Status Advance() {
    RETURN_IF_ERROR(SkipTrivia());
    tok_ = Token();
    tok_.pos = Here();
    if (AtEnd()) return OkStatus();
    unsigned char c = static_cast<unsigned char>(Peek());
    auto single = [&](TokenType t) {
      tok_.type = t;
      Bump();
      return OkStatus();
    };
    switch (c) {
      case '=': return single(TokenType::kAssign);
      case ',': return single(TokenType::kComma);
      case '{': return single(TokenType::kLBrace);
      case '}': return single(TokenType::kRBrace);
      case '[': return single(TokenType::kLBracket);
      case ']': return single(TokenType::kRBracket);
      case '"': return LexString();
      case '<':
        if (Peek(1) == '<') return LexHeredoc();
        break;
      default: break;
    }
    if (IsDigit(c) || (c == '-' && IsDigit(static_cast<unsigned char>(Peek(1))))) return LexNumber();
    if (IsIdentStart(c)) {
      size_t start = offset_;
      while (!AtEnd() && IsIdentChar(static_cast<unsigned char>(Peek()))) Bump();
      tok_.type = TokenType::kIdent;
      tok_.text = std::string(src_.substr(start, offset_ - start));
      return OkStatus();
    }
    std::string shown;
    if (c >= 0x20 && c < 0x7F) {
      shown = std::string("'") + static_cast<char>(c) + "'";
    } else {
      const char* hex = "0123456789abcdef";
      shown = std::string("byte 0x") + hex[c >> 4] + hex[c & 0xF];
    }
    return Error(tok_.pos, "unexpected character " + shown);
  }

  Status LexNumber() {
    size_t start = offset_;
    if (Peek() == '-') Bump();
    while (IsDigit(static_cast<unsigned char>(Peek()))) Bump();
    bool is_float = false;
    if (Peek() == '.' && IsDigit(static_cast<unsigned char>(Peek(1)))) {
      is_float = true;
      Bump();
      while (IsDigit(static_cast<unsigned char>(Peek()))) Bump();
    }
    if (Peek() == 'e' || Peek() == 'E') {
      size_t sign = (Peek(1) == '+' || Peek(1) == '-') ? 1 : 0;
      if (IsDigit(static_cast<unsigned char>(Peek(1 + sign)))) {
        is_float = true;
        BumpN(1 + sign);
        while (IsDigit(static_cast<unsigned char>(Peek()))) Bump();
      }
    }
    if (!AtEnd() && IsIdentChar(static_cast<unsigned char>(Peek()))) {
      return Error(tok_.pos, "invalid number (a value with letters, such as a duration, needs quotes: \"30m\")");
    }
    std::string_view digits = src_.substr(start, offset_ - start);
    const char* first = digits.data();
    const char* last = digits.data() + digits.size();
    if (is_float) {
      tok_.type = TokenType::kFloat;
      auto [ptr, ec] = std::from_chars(first, last, tok_.float_value);
      if (ec != std::errc() || ptr != last) return Error(tok_.pos, "number out of range");
    } else {
      tok_.type = TokenType::kInt;
      auto [ptr, ec] = std::from_chars(first, last, tok_.int_value);
      if (ec != std::errc() || ptr != last) return Error(tok_.pos, "integer out of range");
    }
    return OkStatus();
  }

  // Reads exactly n hex digits at the cursor (which sits after the escape letter).
  bool ReadHex(int n, uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      int d = HexDigit(Peek());
      if (d < 0 || AtEnd()) return false;
      v = v * 16 + static_cast<uint32_t>(d);
      Bump();
    }
    *out = v;
    return true;
  }

  Status LexString() {
    Position open = tok_.pos;
    tok_.type = TokenType::kString;
    Bump();  // opening quote
    std::string& out = tok_.text;
    while (true) {
      if (AtEnd() || Peek() == '\n') {
        return Error(open, "unterminated string: the closing '\"' is missing on this line");
      }
      char c = Peek();
      if (c == '"') {
        Bump();
        return OkStatus();
      }
      if (c != '\\') {
        out.push_back(c);
        Bump();
        continue;
      }
      Position esc = Here();
      Bump();  // backslash
      if (AtEnd() || Peek() == '\n') {
        return Error(open, "unterminated string: the closing '\"' is missing on this line");
      }
      char e = Peek();
      Bump();
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case 'u':
        case 'U': {
          uint32_t cp = 0;
          int digits = e == 'u' ? 4 : 8;
          if (!ReadHex(digits, &cp)) {
            return Error(esc, std::string("invalid escape: \\") + e + " needs " + std::to_string(digits) +
                                  " hex digits");
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return Error(esc, "invalid escape: not a Unicode code point");
          }
          AppendUtf8(&out, cp);
          break;
        }
        default: {
          std::string shown = (e >= 0x21 && e < 0x7F) ? std::string(" \"\\") + e + "\"" : "";
          return Error(esc, "invalid escape" + shown + " in string (valid: \\\" \\\\ \\n \\t \\r \\uXXXX)");
        }
      }
    }
  }

  // <<EOF ... EOF and <<-EOF ... EOF: the closing anchor may be indented; with '-', the
  // closing anchor's indentation is removed from every line (as HCL1 does) when all lines have it.
  Status LexHeredoc() {
    Position open = tok_.pos;
    tok_.type = TokenType::kHeredoc;
    BumpN(2);
    bool indented = false;
    if (Peek() == '-') {
      indented = true;
      Bump();
    }
    size_t anchor_start = offset_;
    while (!AtEnd() && (IsIdentChar(static_cast<unsigned char>(Peek())) && Peek() != '.')) Bump();
    std::string_view anchor = src_.substr(anchor_start, offset_ - anchor_start);
    if (anchor.empty()) return Error(open, "heredoc needs an anchor word after '<<', such as <<EOF");
    if (Peek() == '\r') Bump();
    if (Peek() != '\n') return Error(Here(), "heredoc anchor must be followed by a line break");
    Bump();

    std::vector<std::string_view> lines;
    while (true) {
      if (AtEnd()) {
        return Error(open, "heredoc is never closed: no line containing only \"" +
                               Truncate(anchor, 40) + "\"");
      }
      size_t eol = src_.find('\n', offset_);
      size_t line_end = eol == std::string_view::npos ? src_.size() : eol;
      std::string_view line = src_.substr(offset_, line_end - offset_);
      size_t ws = 0;
      while (ws < line.size() && (line[ws] == ' ' || line[ws] == '\t')) ++ws;
      std::string_view rest = line.substr(ws);
      while (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
      if (rest == anchor) {
        std::string_view indent = line.substr(0, ws);
        BumpN(line.size());
        tok_.text = JoinHeredoc(lines, indented ? indent : std::string_view());
        return OkStatus();
      }
      lines.push_back(line);
      BumpN(line_end - offset_ + (eol == std::string_view::npos ? 0 : 1));
    }
  }

  static std::string JoinHeredoc(const std::vector<std::string_view>& lines, std::string_view indent) {
    bool strip = !indent.empty();
    for (std::string_view l : lines) {
      bool blank = l.find_first_not_of(" \t\r") == std::string_view::npos;
      if (!blank && l.substr(0, indent.size()) != indent) strip = false;
    }
    std::string out;
    for (std::string_view l : lines) {
      if (strip) l.remove_prefix(std::min(indent.size(), l.size()));
      out.append(l);
      out.push_back('\n');
    }
    return out;
  }

  // ---- Parser ----

  Status CheckDepth(int depth, Position p) const {
    if (depth > kMaxDepth) {
      return Error(p, "nesting is deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    return OkStatus();
  }

  // Parses items until '}' (consumed) or, at top level, the end of the file.
  Status ParseBody(Body* body, bool top_level, int depth) {
    while (true) {
      switch (tok_.type) {
        case TokenType::kEof:
          if (top_level) return OkStatus();
          return Error(tok_.pos, "expected '}' to close the '{' at " + PosText(body->pos) + ", found end of file");
        case TokenType::kRBrace:
          if (top_level) return Error(tok_.pos, "unexpected '}': there is no open block to close");
          return Advance();
        case TokenType::kComma:
          RETURN_IF_ERROR(Advance());
          break;
        case TokenType::kIdent:
        case TokenType::kString:
          RETURN_IF_ERROR(ParseItem(body, depth));
          break;
        default:
          return Error(tok_.pos, "expected a key (a name or a quoted string), found " + Describe(tok_));
      }
    }
  }

  Status ParseItem(Body* body, int depth) {
    Token key = std::move(tok_);
    RETURN_IF_ERROR(Advance());
    // Labels sit on the key's line, so a forgotten '=' is not mistaken for a label of the next line.
    std::vector<std::string> labels;
    Token first_label;
    while ((tok_.type == TokenType::kIdent || tok_.type == TokenType::kString) && tok_.pos.line == key.pos.line) {
      if (labels.empty()) first_label = tok_;
      labels.push_back(std::move(tok_.text));
      RETURN_IF_ERROR(Advance());
    }
    std::string key_name = key.type == TokenType::kIdent ? Truncate(key.text, 60) : "\"" + Truncate(key.text, 60) + "\"";
    if (tok_.type == TokenType::kAssign) {
      RETURN_IF_ERROR(Advance());
      if (labels.empty()) {
        Attribute attr;
        attr.key = std::move(key.text);
        attr.pos = key.pos;
        RETURN_IF_ERROR(ParseValue(&attr.value, depth));
        body->attributes.push_back(std::move(attr));
        return OkStatus();
      }
      if (tok_.type != TokenType::kLBrace) {
        return Error(tok_.pos, "expected '{' after the labels of " + key_name + " =, found " + Describe(tok_));
      }
    } else if (tok_.type != TokenType::kLBrace) {
      if (labels.empty()) {
        return Error(tok_.pos, "expected '=' or '{' after " + key_name + ", found " + Describe(tok_));
      }
      // `enabled true` or `address "x"` followed by the next line: the '=' is what is missing.
      if (labels.size() == 1 && (first_label.type == TokenType::kIdent || tok_.pos.line != first_label.pos.line)) {
        return Error(first_label.pos, "expected '=' or '{' after " + key_name + ", found " + Describe(first_label));
      }
      return Error(tok_.pos, "expected '{' to open the " + key_name + " block, found " + Describe(tok_));
    }
    // Each label is one more level of nesting in the JSON form, so labels count toward the limit.
    int block_depth = depth + 1 + static_cast<int>(std::min<size_t>(labels.size(), kMaxDepth));
    RETURN_IF_ERROR(CheckDepth(block_depth, tok_.pos));
    Block block;
    block.type = std::move(key.text);
    block.labels = std::move(labels);
    block.pos = key.pos;
    block.body.pos = tok_.pos;
    RETURN_IF_ERROR(Advance());
    RETURN_IF_ERROR(ParseBody(&block.body, /*top_level=*/false, block_depth));
    body->blocks.push_back(std::move(block));
    return OkStatus();
  }

  Status ParseValue(Value* v, int depth) {
    v->pos = tok_.pos;
    switch (tok_.type) {
      case TokenType::kString:
      case TokenType::kHeredoc:
        v->kind = Value::Kind::kString;
        v->string_value = std::move(tok_.text);
        return Advance();
      case TokenType::kInt:
        v->kind = Value::Kind::kInt;
        v->int_value = tok_.int_value;
        return Advance();
      case TokenType::kFloat:
        v->kind = Value::Kind::kFloat;
        v->float_value = tok_.float_value;
        return Advance();
      case TokenType::kIdent:
        if (tok_.text == "true" || tok_.text == "false") {
          v->kind = Value::Kind::kBool;
          v->bool_value = tok_.text == "true";
          return Advance();
        }
        // Do not echo the word: an unquoted value may be a secret.
        return Error(tok_.pos, "expected a value (string, number, true/false, list or object), found a bare word; "
                               "strings need double quotes");
      case TokenType::kLBracket:
        RETURN_IF_ERROR(CheckDepth(depth + 1, tok_.pos));
        v->kind = Value::Kind::kList;
        return ParseList(v, depth + 1);
      case TokenType::kLBrace:
        RETURN_IF_ERROR(CheckDepth(depth + 1, tok_.pos));
        v->kind = Value::Kind::kObject;
        v->object.pos = tok_.pos;
        RETURN_IF_ERROR(Advance());
        return ParseBody(&v->object, /*top_level=*/false, depth + 1);
      default:
        return Error(tok_.pos,
                     "expected a value (string, number, true/false, list or object), found " + Describe(tok_));
    }
  }

  Status ParseList(Value* v, int depth) {
    Position open = tok_.pos;
    RETURN_IF_ERROR(Advance());
    auto unclosed = [&] {
      return Error(tok_.pos, "expected ']' to close the '[' at " + PosText(open) + ", found end of file");
    };
    while (true) {
      if (tok_.type == TokenType::kRBracket) return Advance();
      if (tok_.type == TokenType::kEof) return unclosed();
      Value element;
      RETURN_IF_ERROR(ParseValue(&element, depth));
      v->list.push_back(std::move(element));
      if (tok_.type == TokenType::kComma) {
        RETURN_IF_ERROR(Advance());
      } else if (tok_.type == TokenType::kEof) {
        return unclosed();
      } else if (tok_.type != TokenType::kRBracket) {
        return Error(tok_.pos, "expected ',' or ']' in the list opened at " + PosText(open) + ", found " +
                                   Describe(tok_));
      }
    }
  }

  std::string_view src_;
  std::string_view filename_;
  size_t offset_ = 0;
  int line_ = 1;
  int column_ = 1;
  Token tok_;
};

// Puts value at parent[keys[0]][keys[1]]...; an occupied leaf becomes (or grows) an array, an
// occupied non-object step gets a fresh object appended, as HCL1's decoder does for repeats.
void Insert(Json* parent, const std::vector<std::string_view>& keys, Json value) {
  Json* cur = parent;
  for (size_t i = 0; i < keys.size(); ++i) {
    Json& slot = (*cur)[std::string(keys[i])];
    bool leaf = i + 1 == keys.size();
    if (slot.is_null()) {
      slot = leaf ? std::move(value) : Json::object();
      if (leaf) return;
      cur = &slot;
      continue;
    }
    if (!leaf && slot.is_object()) {
      cur = &slot;
      continue;
    }
    if (!slot.is_array()) {
      Json previous = std::move(slot);
      slot = Json::array();
      slot.push_back(std::move(previous));
    }
    if (leaf) {
      slot.push_back(std::move(value));
      return;
    }
    slot.push_back(Json::object());
    cur = &slot.back();
  }
}

}  // namespace

const Attribute* Body::FindAttribute(std::string_view key) const {
  for (auto it = attributes.rbegin(); it != attributes.rend(); ++it) {
    if (it->key == key) return &*it;
  }
  return nullptr;
}

std::vector<const Block*> Body::BlocksOfType(std::string_view type) const {
  std::vector<const Block*> out;
  for (const Block& b : blocks) {
    if (b.type == type) out.push_back(&b);
  }
  return out;
}

const char* Value::TypeName() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt:
    case Kind::kFloat: return "number";
    case Kind::kString: return "string";
    case Kind::kList: return "list";
    case Kind::kObject: return "object";
  }
  return "value";
}

StatusOr<Body> Parse(std::string_view text, std::string_view filename) {
  Parser parser(text, filename);
  return parser.ParseFile();
}

Json ToJson(const Value& value) {
  switch (value.kind) {
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kBool: return value.bool_value;
    case Value::Kind::kInt: return value.int_value;
    case Value::Kind::kFloat: return value.float_value;
    case Value::Kind::kString: return value.string_value;
    case Value::Kind::kList: {
      Json out = Json::array();
      for (const Value& v : value.list) out.push_back(ToJson(v));
      return out;
    }
    case Value::Kind::kObject: return ToJson(value.object);
  }
  return nullptr;
}

Json ToJson(const Body& body) {
  Json out = Json::object();
  for (const Attribute& a : body.attributes) {
    if (a.value.kind == Value::Kind::kObject) {
      Insert(&out, {a.key}, ToJson(a.value.object));
    } else {
      out[a.key] = ToJson(a.value);
    }
  }
  for (const Block& b : body.blocks) {
    std::vector<std::string_view> keys{b.type};
    keys.insert(keys.end(), b.labels.begin(), b.labels.end());
    Insert(&out, keys, ToJson(b.body));
  }
  return out;
}

}  // namespace coffer::hcl
