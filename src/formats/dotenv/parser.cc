#include "formats/dotenv/parser.h"

#include <algorithm>

namespace coffer::dotenv {
namespace {

// JavaScript's \s, restricted to ASCII (non-ASCII spaces are rare in env files).
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}
bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

size_t SkipSpaces(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

std::string_view Trim(std::string_view v) {
  size_t b = 0, e = v.size();
  while (b < e && IsSpace(v[b])) ++b;
  while (e > b && IsSpace(v[e - 1])) --e;
  return v.substr(b, e - b);
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string NormalizeNewlines(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// The end of the assignment's tail: after position p only blanks up to the line end, or blanks
// and a #comment. Returns false when something else follows.
bool TailOk(std::string_view s, size_t p) {
  while (p < s.size() && IsSpace(s[p]) && s[p] != '\n') ++p;
  return p == s.size() || s[p] == '\n' || s[p] == '#';
}

// The quoted alternative of the value grammar: optional blanks, then q ... q where \q does not
// close, followed by a valid tail. Mirrors the regex's backtracking order: the first unescaped
// closing quote first, then each escaped quote from the last to the first. Returns the end
// (one past the closing quote) or npos.
size_t MatchQuoted(std::string_view s, size_t v, char q) {
  size_t w = SkipSpaces(s, v);
  if (w >= s.size() || s[w] != q) return std::string_view::npos;
  std::vector<size_t> escaped;  // positions of quotes preceded by a backslash
  size_t primary = std::string_view::npos;
  size_t i = w + 1;
  while (i < s.size()) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == q) {
      escaped.push_back(i + 1);
      i += 2;
    } else if (s[i] == q) {
      primary = i;
      break;
    } else {
      ++i;
    }
  }
  if (primary != std::string_view::npos && TailOk(s, primary + 1)) return primary + 1;
  for (auto it = escaped.rbegin(); it != escaped.rend(); ++it) {
    if (TailOk(s, *it + 1)) return *it + 1;
  }
  return std::string_view::npos;
}

struct Match {
  Entry entry;
  size_t end;  // where scanning resumes (the next line start is searched from here)
};

// The value part of an assignment starting at v; fills value range and raw text.
void MatchValue(std::string_view s, size_t v, Entry* e, std::string_view* raw) {
  for (char q : {'\'', '"', '`'}) {
    size_t end = MatchQuoted(s, v, q);
    if (end != std::string_view::npos) {
      e->value_begin = v;
      e->value_end = end;
      *raw = s.substr(v, end - v);
      return;
    }
  }
  size_t end = v;
  while (end < s.size() && s[end] != '#' && s[end] != '\n') ++end;
  e->value_begin = v;
  if (end > v) {
    // Trailing blanks before a comment are not part of the value's range.
    *raw = s.substr(v, end - v);
    size_t t = end;
    while (t > v && IsSpace(s[t - 1])) --t;
    e->value_end = t;
  } else {
    e->value_end = v;
    *raw = {};
  }
}

// Quote removal and escapes, as dotenvx's clean step.
void CleanValue(std::string_view raw, Entry* e) {
  std::string_view v = Trim(raw);
  char first = v.empty() ? '\0' : v.front();
  e->quote = (first == '\'' || first == '"' || first == '`') ? static_cast<Quote>(first) : Quote::kNone;
  std::string out(v);
  if (e->quote != Quote::kNone && out.size() >= 2 && out.back() == first) out = out.substr(1, out.size() - 2);
  if (e->quote == Quote::kSingle) ReplaceAll(out, "\\'", "'");
  if (e->quote == Quote::kDouble) {
    ReplaceAll(out, "\\n", "\n");
    ReplaceAll(out, "\\r", "\r");
    ReplaceAll(out, "\\t", "\t");
  }
  e->value = std::move(out);
}

// Tries KEY at k (after optional export); returns the match or nullopt.
std::optional<Match> MatchAssignment(std::string_view s, size_t k, bool exported) {
  size_t i = k;
  while (i < s.size() && IsKeyChar(s[i])) ++i;
  if (i == k) return std::nullopt;
  Match m;
  m.entry.key = std::string(s.substr(k, i - k));
  m.entry.exported = exported;
  size_t v;
  size_t eq = SkipSpaces(s, i);
  if (eq < s.size() && s[eq] == '=') {
    v = eq + 1;
  } else if (i + 1 < s.size() && s[i] == ':' && IsSpace(s[i + 1])) {
    v = i + 2;
  } else {
    return std::nullopt;
  }
  std::string_view raw;
  MatchValue(s, v, &m.entry, &raw);
  CleanValue(raw, &m.entry);
  m.end = std::max(m.entry.value_end, v);
  return m;
}

std::optional<Match> MatchAt(std::string_view s, size_t line_start) {
  size_t i = SkipSpaces(s, line_start);
  if (s.substr(i, 6) == "export" && i + 6 < s.size() && IsSpace(s[i + 6])) {
    if (auto m = MatchAssignment(s, SkipSpaces(s, i + 6), true)) return m;
  }
  return MatchAssignment(s, i, false);
}

std::vector<Entry> Scan(std::string_view s) {
  std::vector<Entry> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next_from = pos;
    if (auto m = MatchAt(s, pos)) {
      next_from = m->end;
      out.push_back(std::move(m->entry));
    }
    size_t nl = s.find('\n', next_from);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

// Renders value in quote q; empty when q cannot hold it (checked by reading it back).
std::optional<std::string> Render(std::string_view value, Quote q, std::string_view rest_of_line) {
  std::string body(value);
  std::string raw;
  if (q == Quote::kNone) {
    // Unquoted text that starts with a quote could pair with a quote on a later line.
    if (!body.empty() && (body[0] == '\'' || body[0] == '"' || body[0] == '`')) return std::nullopt;
    raw = body;
  } else {
    // A carriage return cannot stay literal (readers turn it into a line end); double quotes
    // have an escape for it.
    if (q == Quote::kDouble) ReplaceAll(body, "\r", "\\r");
    raw = std::string(1, static_cast<char>(q)) + body + std::string(1, static_cast<char>(q));
  }
  std::string probe = NormalizeNewlines("K=" + raw + std::string(rest_of_line));
  std::vector<Entry> back = Scan(probe);
  if (back.empty() || back[0].key != "K" || back[0].value != value || back[0].quote != q ||
      back[0].value_end != 2 + raw.size()) {
    return std::nullopt;
  }
  return raw;
}

std::string UnsafeEditMessage(std::string_view key) {
  return "cannot write " + std::string(key) +
         " without changing how other lines of the file read (look for an unterminated quote)";
}

StatusOr<std::string> RenderFor(const Entry& e, std::string_view value, std::string_view rest_of_line) {
  std::vector<Quote> order;
  if (e.quote == Quote::kSingle) {
    order = {Quote::kSingle, Quote::kDouble, Quote::kBacktick};
  } else {
    order = {e.quote, Quote::kDouble, Quote::kBacktick, Quote::kSingle};
  }
  for (Quote q : order) {
    if (auto raw = Render(value, q, rest_of_line)) return *raw;
  }
  return InvalidArgument("the value of " + e.key + " cannot be written in any dotenv quoting");
}

// dotenvx applies String.prototype.replace(template, replacement): the replacement's $$, $&,
// $` and $' patterns are interpreted.
std::string Substitute(std::string_view replacement, std::string_view matched, std::string_view before,
                       std::string_view after) {
  std::string out;
  for (size_t i = 0; i < replacement.size(); ++i) {
    char c = replacement[i];
    if (c == '$' && i + 1 < replacement.size()) {
      char n = replacement[i + 1];
      if (n == '$') { out.push_back('$'); ++i; continue; }
      if (n == '&') { out.append(matched); ++i; continue; }
      if (n == '`') { out.append(before); ++i; continue; }
      if (n == '\'') { out.append(after); ++i; continue; }
    }
    out.push_back(c);
  }
  return out;
}

bool HasExpansionPattern(std::string_view v) {
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i] != '$') continue;
    if (IsNameStart(v[i + 1])) return true;
    if (v[i + 1] == '{' && i + 2 < v.size() && v[i + 2] != '}') {
      size_t close = v.find('}', i + 2);
      if (close != std::string_view::npos) return true;
    }
  }
  return false;
}

struct Reference {
  size_t pos, len;
  std::string expression;
};

// The first ${...} or $NAME not preceded by a backslash.
std::optional<Reference> FindReference(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || (i > 0 && s[i - 1] == '\\') || i + 1 >= s.size()) continue;
    if (s[i + 1] == '{') {
      size_t j = i + 2;
      while (j < s.size() && s[j] != '{' && s[j] != '}') ++j;
      if (j < s.size() && s[j] == '}' && j > i + 2) return Reference{i, j + 1 - i, std::string(s.substr(i + 2, j - i - 2))};
    }
    if (IsNameStart(s[i + 1])) {
      size_t j = i + 1;
      while (j < s.size() && IsNameChar(s[j])) ++j;
      return Reference{i, j - i, std::string(s.substr(i + 1, j - i - 1))};
    }
  }
  return std::nullopt;
}

std::vector<std::string> Split(std::string_view s, std::string_view sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) break;
    parts.emplace_back(s.substr(start, p - start));
    start = p + sep.size();
  }
  parts.emplace_back(s.substr(start));
  return parts;
}

std::string Join(const std::vector<std::string>& parts, size_t from, std::string_view sep) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) {
    if (i > from) out.append(sep);
    out.append(parts[i]);
  }
  return out;
}

// Bounds on expansion, so self-referential process values cannot loop forever.
constexpr int kMaxExpansions = 256;
constexpr size_t kMaxExpandedSize = 256 * 1024;

}  // namespace

bool IsValidKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), IsKeyChar);
}

Document Document::Parse(std::string_view text) {
  Document d;
  d.text_ = NormalizeNewlines(text);
  d.entries_ = Scan(d.text_);
  return d;
}

const Entry* Document::Find(std::string_view key) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->key == key) return &*it;
  }
  return nullptr;
}

Status Document::Apply(const std::vector<Edit>& edits) {
  std::vector<const Edit*> sorted;
  for (const Edit& e : edits) {
    if (e.index >= entries_.size()) return InvalidArgument("edit of an entry that does not exist");
    sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Edit* a, const Edit* b) { return a->index < b->index; });
  std::string out;
  out.reserve(text_.size() + edits.size() * 64);
  size_t copied = 0;
  for (const Edit* edit : sorted) {
    const Entry& e = entries_[edit->index];
    if (e.value_begin < copied) continue;  // duplicate edit of one entry: the first wins
    size_t line_end = text_.find('\n', e.value_end);
    std::string_view rest =
        std::string_view(text_).substr(e.value_end, (line_end == std::string::npos ? text_.size() : line_end) - e.value_end);
    ASSIGN_OR_RETURN(std::string raw, RenderFor(e, edit->value, rest));
    out.append(text_, copied, e.value_begin - copied);
    out.append(raw);
    copied = e.value_end;
  }
  out.append(text_, copied, std::string::npos);
  std::vector<Entry> after = Scan(out);
  // The edit must not change how any other line reads (e.g. an unterminated quote earlier in
  // the file that a new quote would close).
  std::vector<const std::string*> expected(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) expected[i] = &entries_[i].value;
  for (const Edit* edit : sorted) expected[edit->index] = &edit->value;
  bool same = after.size() == entries_.size();
  for (size_t i = 0; same && i < after.size(); ++i) {
    same = after[i].key == entries_[i].key && after[i].value == *expected[i];
  }
  if (!same) return InvalidArgument(UnsafeEditMessage(sorted.empty() ? "" : entries_[sorted[0]->index].key));
  text_ = std::move(out);
  entries_ = std::move(after);
  return OkStatus();
}

Status Document::Set(std::string_view key, std::string_view value, Quote quote_for_new) {
  if (!IsValidKey(key)) {
    return InvalidArgument("invalid key name \"" + std::string(key) + "\": use letters, digits, '_', '.' or '-'");
  }
  std::vector<Edit> edits;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key == key) edits.push_back({i, std::string(value)});
  }
  if (!edits.empty()) return Apply(edits);
  Entry probe;
  probe.key = std::string(key);
  probe.quote = quote_for_new;
  ASSIGN_OR_RETURN(std::string raw, RenderFor(probe, value, ""));
  std::string out = text_;
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  out += std::string(key) + "=" + raw + "\n";
  std::vector<Entry> after = Scan(out);
  bool same = after.size() == entries_.size() + 1 && after.back().key == key && after.back().value == value;
  for (size_t i = 0; same && i < entries_.size(); ++i) {
    same = after[i].key == entries_[i].key && after[i].value == entries_[i].value;
  }
  if (!same) return InvalidArgument(UnsafeEditMessage(key));
  text_ = std::move(out);
  entries_ = std::move(after);
  return OkStatus();
}

void Document::Prepend(std::string_view text) {
  text_.insert(0, NormalizeNewlines(text));
  entries_ = Scan(text_);
}

const std::string* Resolved::Get(std::string_view key) const {
  for (const auto& [k, v] : values) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Expand(std::string value, const Lookup& env, const std::map<std::string, std::string>& literals) {
  std::string result = std::move(value);
  for (int round = 0; round < kMaxExpansions && result.size() <= kMaxExpandedSize; ++round) {
    std::optional<Reference> ref = FindReference(result);
    if (!ref) break;
    std::string template_text = result.substr(ref->pos, ref->len);
    const std::string& expr = ref->expression;
    // The first operator (leftmost; at one position ":+" before "+" before ":-" before "-").
    std::string splitter = "null";  // dotenvx splits on String(null) when there is no operator
    for (size_t i = 0; i < expr.size(); ++i) {
      if (expr[i] == ':' && i + 1 < expr.size() && (expr[i + 1] == '+' || expr[i + 1] == '-')) {
        splitter = expr.substr(i, 2);
        break;
      }
      if (expr[i] == '+' || expr[i] == '-') {
        splitter = expr.substr(i, 1);
        break;
      }
    }
    std::vector<std::string> parts = Split(expr, splitter);
    const std::string& name = parts[0];
    const std::string* found = env(name);
    bool set = found != nullptr && !found->empty();
    std::string replacement;
    if (splitter == ":+" || splitter == "+") {
      replacement = set ? Join(parts, 1, splitter) : "";
    } else {
      replacement = set ? *found : Join(parts, 1, splitter);
    }
    size_t at = result.find(template_text);  // replace() targets the first occurrence
    std::string before = result.substr(0, at);
    std::string after = result.substr(at + template_text.size());
    result = before + Substitute(replacement, template_text, before, after) + after;
    if (found != nullptr && result == *found) break;
    auto lit = literals.find(name);
    if (lit != literals.end() && !lit->second.empty() && HasExpansionPattern(lit->second)) break;
  }
  return result;
}

Resolved Resolve(const Document& doc, const ResolveOptions& options) {
  static const std::map<std::string, std::string> kEmpty;
  const std::map<std::string, std::string>& process = options.process_env ? *options.process_env : kEmpty;
  Resolved out;
  std::map<std::string, size_t> index;
  std::map<std::string, std::string> running;  // values so far, for progressive expansion
  std::map<std::string, std::string> literals;
  for (const Entry& e : doc.entries()) {
    std::string value = e.value;
    auto in_process = process.find(e.key);
    if (!options.overload && in_process != process.end()) value = in_process->second;
    if (options.decrypt && value.rfind("encrypted:", 0) == 0) {
      StatusOr<std::string> plain = options.decrypt(e.key, value);
      if (plain.ok()) {
        value = std::move(*plain);
      } else {
        out.errors.push_back(plain.status());
      }
    }
    bool process_set = in_process != process.end() && !in_process->second.empty();
    if (e.quote != Quote::kSingle && (!process_set || options.overload)) {
      if (value.find('$') != std::string::npos) {
        const auto& first = options.overload ? running : process;
        const auto& second = options.overload ? process : running;
        Lookup env = [&](const std::string& name) -> const std::string* {
          if (auto it = first.find(name); it != first.end()) return &it->second;
          if (auto it = second.find(name); it != second.end()) return &it->second;
          return nullptr;
        };
        value = Expand(std::move(value), env, literals);
        ReplaceAll(value, "\\$", "$");
      }
    }
    if (e.quote == Quote::kSingle) literals[e.key] = value;
    running[e.key] = value;
    auto it = index.find(e.key);
    if (it == index.end()) {
      index.emplace(e.key, out.values.size());
      out.values.emplace_back(e.key, value);
    } else {
      out.values[it->second].second = value;
    }
  }
  return out;
}

}  // namespace coffer::dotenv
