// Command-line flags with the semantics of Go's `flag` package, which Vault's CLI uses:
//   -name, --name, -name=value, --name=value, and `-name value` for non-bool flags;
//   bool flags take only the `=` form for a value (`-force=false`); `-force false` is the flag
//   followed by the positional argument "false";
//   parsing stops at the first argument that is not a flag ("-" alone is positional) or at "--"
//   (which is consumed); repeatable flags (lists, maps) append on every occurrence.
// Flags are grouped in named sections for help output ("HTTP Options:", "Common Options:").
//
// A FlagSet binds each flag to a caller-owned target; targets must outlive the FlagSet.
// Not thread-safe; one FlagSet per command invocation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::cli {

class FlagSet {
 public:
  enum class ParseResult { kOk, kHelp, kError };

  FlagSet();
  ~FlagSet();
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Starts (or returns to) a help section; flags added afterwards are listed under it.
  // Sections print in the order they were first started.
  void Section(std::string title);

  // Every Add* takes the flag name without dashes. `env`, when set and present in the
  // environment, provides the default (as Vault's flags do). `usage` is one paragraph.
  void String(std::string name, std::string* target, std::string usage, std::string env = {},
              std::string example = "string");
  void Bool(std::string name, bool* target, std::string usage, std::string env = {});
  void Int(std::string name, int64_t* target, std::string usage, std::string example = "int");
  // Accepts Vault's duration forms ("30", "30s", "1h30m", "7d"); stores the text as given
  // (validated) so the server sees what the user wrote.
  void Duration(std::string name, std::string* target, std::string usage, std::string env = {});
  // Repeatable: each occurrence appends. With split_commas, "a,b" appends "a" and "b".
  void StringList(std::string name, std::vector<std::string>* target, std::string usage, bool split_commas = false,
                  std::string example = "string");
  // Repeatable key=value pairs (`-options version=2 -options foo=bar`).
  void StringMap(std::string name, std::map<std::string, std::string>* target, std::string usage,
                 std::string example = "key=value");
  // Overrides the "The default is ..." text in help ("" hides it).
  void DefaultText(std::string_view name, std::string text);
  // Hidden flags parse but are not listed in help.
  void Hide(std::string_view name);

  // Parses args. kHelp for -h/-help/--help when not defined as flags; kError with error()
  // holding Go's message ("flag provided but not defined: -x", "flag needs an argument: -x",
  // `invalid boolean value "x" for -f: parse error`, `invalid value "x" for flag -n: ...`).
  ParseResult Parse(const std::vector<std::string>& args);
  const std::vector<std::string>& args() const { return rest_; }
  const std::string& error() const { return error_; }

  bool IsSet(std::string_view name) const;
  bool Has(std::string_view name) const;
  // All visible flag names, sorted (for completion).
  std::vector<std::string> Names() const;
  // Vault-style help: "Section:\n\n  -name=<example>\n      usage (wrapped)\n\n" per flag.
  std::string Help() const;

 private:
  struct Flag;
  Flag* Find(std::string_view name) const;
  Flag& Add(std::string name, std::string usage, std::string example, std::string env);

  std::vector<std::unique_ptr<Flag>> flags_;
  std::vector<std::pair<std::string, std::vector<Flag*>>> sections_;
  size_t current_ = 0;
  std::vector<std::string> rest_;
  std::string error_;
};

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
bool ParseGoBool(std::string_view text, bool* out);

// Wraps text at `width` columns (greedy, on spaces) and indents every line by `pad` spaces.
std::string WrapWithPadding(std::string_view text, size_t pad, size_t width = 78);

// Vault's warning for flag-like arguments left after the positionals (flags after positional
// arguments are not parsed); empty when there are none. `-` and the global output flags
// (-format, -output-curl-string, -detailed, which are honoured anywhere) are not reported.
std::string TrailingFlagWarning(const std::vector<std::string>& positional);

}  // namespace coffer::cli
