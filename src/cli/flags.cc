#include "cli/flags.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>

#include "base/duration.h"

namespace coffer::cli {

struct FlagSet::Flag {
  std::string name;
  std::string usage;
  std::string example;  // shown as -name=<example>; empty for bools
  std::string default_text;
  std::string env;
  bool is_bool = false;
  bool hidden = false;
  bool set = false;
  // Applies a value; returns an error description ("parse error") or "" on success.
  std::function<std::string(const std::string&)> apply;
};

FlagSet::FlagSet() = default;
FlagSet::~FlagSet() = default;

bool ParseGoBool(std::string_view t, bool* out) {
  if (t == "1" || t == "t" || t == "T" || t == "TRUE" || t == "true" || t == "True") {
    *out = true;
    return true;
  }
  if (t == "0" || t == "f" || t == "F" || t == "FALSE" || t == "false" || t == "False") {
    *out = false;
    return true;
  }
  return false;
}

namespace {

const char* EnvOrNull(const std::string& env) {
  if (env.empty()) return nullptr;
  const char* v = std::getenv(env.c_str());
  return (v && *v) ? v : nullptr;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

void FlagSet::Section(std::string title) {
  auto it = std::find_if(sections_.begin(), sections_.end(), [&](const auto& s) { return s.first == title; });
  if (it != sections_.end()) {
    current_ = static_cast<size_t>(it - sections_.begin());
    return;
  }
  sections_.emplace_back(std::move(title), std::vector<Flag*>{});
  current_ = sections_.size() - 1;
}

FlagSet::Flag& FlagSet::Add(std::string name, std::string usage, std::string example, std::string env) {
  auto f = std::make_unique<Flag>();
  f->name = std::move(name);
  f->usage = std::move(usage);
  f->example = std::move(example);
  f->env = std::move(env);
  Flag* raw = f.get();
  flags_.push_back(std::move(f));
  if (sections_.empty()) Section("Command Options");
  sections_[current_].second.push_back(raw);
  return *raw;
}

void FlagSet::String(std::string name, std::string* target, std::string usage, std::string env, std::string example) {
  Flag& f = Add(std::move(name), std::move(usage), std::move(example), std::move(env));
  f.default_text = *target;
  if (const char* v = EnvOrNull(f.env)) *target = v;
  f.apply = [target](const std::string& v) {
    *target = v;
    return std::string();
  };
}

void FlagSet::Bool(std::string name, bool* target, std::string usage, std::string env) {
  Flag& f = Add(std::move(name), std::move(usage), "", std::move(env));
  f.is_bool = true;
  f.default_text = *target ? "true" : "false";
  if (const char* v = EnvOrNull(f.env)) {
    bool b;
    if (ParseGoBool(v, &b)) *target = b;
  }
  f.apply = [target](const std::string& v) {
    bool b;
    if (!ParseGoBool(v, &b)) return std::string("parse error");
    *target = b;
    return std::string();
  };
}

void FlagSet::Int(std::string name, int64_t* target, std::string usage, std::string example) {
  Flag& f = Add(std::move(name), std::move(usage), std::move(example), "");
  f.default_text = std::to_string(*target);
  f.apply = [target](const std::string& v) {
    if (v.empty()) return std::string("parse error");
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 0);
    if (end == nullptr || *end != '\0') return std::string("parse error");
    if (errno == ERANGE) return std::string("value out of range");
    *target = n;
    return std::string();
  };
}

void FlagSet::Duration(std::string name, std::string* target, std::string usage, std::string env) {
  Flag& f = Add(std::move(name), std::move(usage), "duration", std::move(env));
  f.default_text = *target;
  if (const char* v = EnvOrNull(f.env)) *target = v;
  f.apply = [target](const std::string& v) {
    auto parsed = ParseDurationSeconds(v);
    if (!parsed.ok()) return std::string("invalid duration");
    *target = v;
    return std::string();
  };
}

void FlagSet::StringList(std::string name, std::vector<std::string>* target, std::string usage, bool split_commas,
                         std::string example) {
  Flag& f = Add(std::move(name), std::move(usage), std::move(example), "");
  f.apply = [target, split_commas](const std::string& v) {
    if (!split_commas) {
      target->push_back(Trim(v));
      return std::string();
    }
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string part =
          Trim(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!part.empty()) target->push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return std::string();
  };
}

void FlagSet::StringMap(std::string name, std::map<std::string, std::string>* target, std::string usage,
                        std::string example) {
  Flag& f = Add(std::move(name), std::move(usage), std::move(example), "");
  f.apply = [target](const std::string& v) {
    size_t eq = v.find('=');
    if (eq == std::string::npos) return std::string("missing = in key=value pair");
    (*target)[Trim(std::string_view(v).substr(0, eq))] = Trim(std::string_view(v).substr(eq + 1));
    return std::string();
  };
}

void FlagSet::DefaultText(std::string_view name, std::string text) {
  if (Flag* f = Find(name)) f->default_text = std::move(text);
}

void FlagSet::Hide(std::string_view name) {
  if (Flag* f = Find(name)) f->hidden = true;
}

FlagSet::Flag* FlagSet::Find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

bool FlagSet::Has(std::string_view name) const { return Find(name) != nullptr; }

bool FlagSet::IsSet(std::string_view name) const {
  Flag* f = Find(name);
  return f != nullptr && f->set;
}

FlagSet::ParseResult FlagSet::Parse(const std::vector<std::string>& args) {
  rest_.clear();
  error_.clear();
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s.size() < 2 || s[0] != '-') break;
    size_t minuses = 1;
    if (s[1] == '-') {
      minuses = 2;
      if (s.size() == 2) {  // "--" ends the flags and is consumed
        ++i;
        break;
      }
    }
    std::string name = s.substr(minuses);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      error_ = "bad flag syntax: " + s;
      return ParseResult::kError;
    }
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    Flag* f = Find(name);
    if (f == nullptr) {
      if (name == "help" || name == "h") return ParseResult::kHelp;
      error_ = "flag provided but not defined: -" + name;
      return ParseResult::kError;
    }
    if (f->is_bool) {
      std::string err = f->apply(has_value ? value : "true");
      if (!err.empty()) {
        error_ = "invalid boolean value \"" + value + "\" for -" + name + ": " + err;
        return ParseResult::kError;
      }
    } else {
      if (!has_value) {
        if (i + 1 >= args.size()) {
          error_ = "flag needs an argument: -" + name;
          return ParseResult::kError;
        }
        value = args[++i];
      }
      std::string err = f->apply(value);
      if (!err.empty()) {
        error_ = "invalid value \"" + value + "\" for flag -" + name + ": " + err;
        return ParseResult::kError;
      }
    }
    f->set = true;
  }
  rest_.assign(args.begin() + static_cast<std::ptrdiff_t>(std::min(i, args.size())), args.end());
  return ParseResult::kOk;
}

std::vector<std::string> FlagSet::Names() const {
  std::vector<std::string> out;
  for (const auto& f : flags_) {
    if (!f->hidden) out.push_back(f->name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string WrapWithPadding(std::string_view text, size_t pad, size_t width) {
  size_t limit = width > pad ? width - pad : 20;
  std::string out;
  std::string line;
  size_t pos = 0;
  auto flush = [&] {
    out.append(pad, ' ');
    out += line;
    out += '\n';
    line.clear();
  };
  while (pos < text.size()) {
    if (text[pos] == '\n') {
      flush();
      ++pos;
      continue;
    }
    size_t end = text.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > limit) flush();
    if (!line.empty()) line += ' ';
    line += word;
    pos = end;
    if (pos < text.size() && text[pos] == ' ') ++pos;
  }
  if (!line.empty()) flush();
  if (!out.empty()) out.pop_back();
  return out;
}

std::string FlagSet::Help() const {
  std::string out;
  for (const auto& [title, flags] : sections_) {
    bool any = std::any_of(flags.begin(), flags.end(), [](Flag* f) { return !f->hidden; });
    if (!any) continue;
    out += title + ":\n\n";
    for (Flag* f : flags) {
      if (f->hidden) continue;
      out += "  -" + f->name;
      if (!f->example.empty()) out += "=<" + f->example + ">";
      out += "\n";
      std::string usage = f->usage;
      if (!f->default_text.empty()) usage += " The default is " + f->default_text + ".";
      if (!f->env.empty()) usage += " This can also be specified via the " + f->env + " environment variable.";
      // Collapse whitespace like Vault's help does.
      std::string collapsed;
      bool space = false;
      for (char c : usage) {
        if (c == ' ' || c == '\t' || c == '\n') {
          space = true;
          continue;
        }
        if (space && !collapsed.empty()) collapsed += ' ';
        space = false;
        collapsed += c;
      }
      out += WrapWithPadding(collapsed, 6) + "\n\n";
    }
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string TrailingFlagWarning(const std::vector<std::string>& positional) {
  static constexpr std::string_view kGlobal[] = {"format", "output-curl-string", "output-policy", "detailed"};
  std::string listed;
  for (const auto& a : positional) {
    if (a.empty() || a[0] != '-' || a == "-") continue;
    std::string_view name = a;
    name.remove_prefix(name.find_first_not_of('-') == std::string_view::npos ? name.size()
                                                                             : name.find_first_not_of('-'));
    name = name.substr(0, name.find('='));
    if (std::find(std::begin(kGlobal), std::end(kGlobal), name) != std::end(kGlobal)) continue;
    if (!listed.empty()) listed += ",";
    listed += a;
  }
  if (listed.empty()) return "";
  return "Command flags must be provided before positional arguments. The following arguments will not be "
         "parsed as flags: [" +
         listed + "]";
}

}  // namespace coffer::cli
