#include "cli/policy_format.h"

#include <algorithm>
#include <vector>

namespace coffer::cli {
namespace {

struct Line {
  std::string text;  // trimmed content (or verbatim heredoc body line)
  int depth = 0;     // indentation level
  bool verbatim = false;
  size_t eq = std::string::npos;  // position of the attribute '=' in text (for alignment)
};

std::string TrimRight(std::string_view s) {
  size_t e = s.find_last_not_of(" \t\r");
  return e == std::string_view::npos ? "" : std::string(s.substr(0, e + 1));
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  return TrimRight(s.substr(b));
}

// Scans one line outside strings and comments: net bracket depth change, the leading closers
// (which dedent the line itself), the first top-level '=' and a heredoc opener.
struct Scan {
  int delta = 0;
  int leading_closers = 0;
  size_t eq = std::string::npos;
  std::string heredoc;  // terminator word if the line opens a heredoc
  bool heredoc_indented = false;
};

Scan ScanLine(const std::string& s) {
  Scan r;
  bool in_string = false;
  bool leading = true;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '#' || (c == '/' && i + 1 < s.size() && s[i + 1] == '/')) break;
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      if (end == std::string::npos) break;
      i = end + 1;
      continue;
    }
    if (c == '"') {
      in_string = true;
      leading = false;
      continue;
    }
    if (c == '<' && i + 1 < s.size() && s[i + 1] == '<') {
      size_t j = i + 2;
      if (j < s.size() && s[j] == '-') {
        r.heredoc_indented = true;
        ++j;
      }
      size_t k = j;
      while (k < s.size() && (std::isalnum(static_cast<unsigned char>(s[k])) || s[k] == '_')) ++k;
      if (k > j) {
        r.heredoc = s.substr(j, k - j);
        break;
      }
    }
    if (c == '{' || c == '[') {
      ++r.delta;
      leading = false;
    } else if (c == '}' || c == ']') {
      --r.delta;
      if (leading) ++r.leading_closers;
    } else if (c == '=' && r.eq == std::string::npos && r.delta == 0) {
      r.eq = i;
      leading = false;
    } else if (c != ' ' && c != '\t') {
      leading = false;
    }
  }
  return r;
}

// Outside strings and comments: runs of spaces become one space, a comma is followed by one
// space, no space after '[' or '(' nor before ']', ')' or ','. Comments and heredoc markers
// (and whatever follows them on the line) are kept as written.
std::string NormalizeSpacing(const std::string& s) {
  std::string out;
  bool in_string = false;
  bool pending_space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < s.size()) {
        out += s[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    const bool comment = c == '#' || (c == '/' && i + 1 < s.size() && (s[i + 1] == '/' || s[i + 1] == '*'));
    const bool heredoc = c == '<' && i + 1 < s.size() && s[i + 1] == '<';
    if (comment || heredoc) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      out += s.substr(i);
      return out;
    }
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    const bool closer = c == ']' || c == ')' || c == ',';
    const bool after_opener = !out.empty() && (out.back() == '[' || out.back() == '(');
    if (c == '{' && !out.empty() && !after_opener) pending_space = true;  // `path "x" {`
    if (pending_space && !closer && !after_opener) out += ' ';
    pending_space = false;
    out += c;
    if (c == '"') in_string = true;
    if (c == ',') pending_space = true;
  }
  return out;
}

// "key   =   value" -> "key = value" (only the first top-level '=').
std::string NormalizeEquals(const std::string& s, size_t eq, size_t* new_eq) {
  std::string key = TrimRight(s.substr(0, eq));
  std::string value = Trim(s.substr(eq + 1));
  *new_eq = key.size() + 1;
  return value.empty() ? key + " =" : key + " = " + value;
}

}  // namespace

std::string FormatPolicyHcl(std::string_view text) {
  std::vector<Line> lines;
  int depth = 0;
  std::string heredoc_end;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string raw(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!heredoc_end.empty()) {
      lines.push_back({TrimRight(raw), depth, true});
      if (Trim(raw) == heredoc_end) heredoc_end.clear();
      continue;
    }
    std::string t = NormalizeSpacing(Trim(raw));
    Scan sc = ScanLine(t);
    Line line;
    line.depth = std::max(0, depth - sc.leading_closers);
    if (sc.eq != std::string::npos && !t.empty() && t[0] != '#') {
      size_t new_eq = 0;
      t = NormalizeEquals(t, sc.eq, &new_eq);
      line.eq = new_eq;
    }
    line.text = t;
    lines.push_back(line);
    depth = std::max(0, depth + sc.delta);
    if (!sc.heredoc.empty()) heredoc_end = sc.heredoc;
  }

  // Align '=' in runs of consecutive single-line attributes at the same depth.
  for (size_t i = 0; i < lines.size();) {
    if (lines[i].verbatim || lines[i].eq == std::string::npos) {
      ++i;
      continue;
    }
    size_t j = i;
    size_t width = 0;
    while (j < lines.size() && !lines[j].verbatim && lines[j].eq != std::string::npos &&
           lines[j].depth == lines[i].depth) {
      width = std::max(width, lines[j].eq - 1);  // key length
      ++j;
      // A line that opens a block or list ends the run after itself.
      if (ScanLine(lines[j - 1].text).delta != 0) break;
    }
    for (size_t k = i; k < j; ++k) {
      size_t key_len = lines[k].eq - 1;
      lines[k].text =
          lines[k].text.substr(0, key_len) + std::string(width - key_len, ' ') + lines[k].text.substr(key_len);
    }
    i = j;
  }

  std::string out;
  bool pending_blank = false;
  for (const auto& l : lines) {
    if (l.verbatim) {
      out += l.text + "\n";
      continue;
    }
    if (l.text.empty()) {
      pending_blank = !out.empty();
      continue;
    }
    if (pending_blank) out += "\n";
    pending_blank = false;
    out += std::string(static_cast<size_t>(l.depth) * 2, ' ') + l.text + "\n";
  }
  return out;
}

}  // namespace coffer::cli
