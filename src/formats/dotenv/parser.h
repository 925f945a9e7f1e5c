// dotenv files as dotenvx reads them, and an editor that rewrites only the values it must.
//
// Parsing follows dotenvx's line grammar exactly (measured against dotenvx 2.38):
//   [export ]KEY=VALUE  or  KEY: VALUE, KEY made of [A-Za-z0-9_.-];
//   VALUE is '...' (literal; \' unescapes), "..." (\n \r \t become control characters),
//   `...`, or unquoted up to the first '#'; quoted values may span lines; a quoted value
//   followed by anything but whitespace or a #comment is read as an unquoted value instead;
//   lines that do not match (comments, blank lines, garbage) are skipped, never an error;
//   CRLF and CR line ends read as LF.
// Expansion (Resolve) follows dotenvx too: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default},
// ${VAR:+alt}, ${VAR+alt} in unquoted, double-quoted and backtick values, the process
// environment winning over earlier file values; \$ stays a literal '$'. Command substitution
// ($(...)) is NOT run: such text is kept literally (dotenvx would execute it).
//
// Thread-compatible value types; no I/O here.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::dotenv {

// How a value was written. kNone is unquoted.
enum class Quote : char { kNone = 0, kSingle = '\'', kDouble = '"', kBacktick = '`' };

struct Entry {
  std::string key;
  std::string value;  // quotes removed, escapes of its quote style applied, not expanded
  Quote quote = Quote::kNone;
  bool exported = false;
  // The byte range of the document's text that holds the value: from just after '=' (or ':')
  // to the end of the value (closing quote included, trailing blanks and comment excluded).
  // Rewriting a value replaces exactly this range.
  size_t value_begin = 0;
  size_t value_end = 0;
};

// True for names dotenvx accepts as keys: one or more of [A-Za-z0-9_.-].
bool IsValidKey(std::string_view key);

class Document {
 public:
  // Never fails: lines that are not assignments are kept as they are and ignored.
  static Document Parse(std::string_view text);

  // The whole file (line ends normalised to LF).
  const std::string& text() const { return text_; }
  // Every assignment in file order; a key may occur more than once (the last one wins).
  const std::vector<Entry>& entries() const { return entries_; }
  // The last assignment of key, or null.
  const Entry* Find(std::string_view key) const;

  // A new value for entries()[index]. Applying edits keeps the entry's quoting when the value
  // reads back identically in it, else picks the first quote style that does (kInvalidArgument
  // naming the key when none can hold the value). All else in the file stays byte for byte.
  struct Edit {
    size_t index;
    std::string value;
  };
  Status Apply(const std::vector<Edit>& edits);

  // Sets key: rewrites every assignment of it, or appends `KEY=<quote>value<quote>` (on a new
  // line) when the key is absent. kInvalidArgument for a key dotenvx could not read back.
  Status Set(std::string_view key, std::string_view value, Quote quote_for_new = Quote::kDouble);

  // Inserts text at the very beginning (used for the public-key banner).
  void Prepend(std::string_view text);

 private:
  std::string text_;
  std::vector<Entry> entries_;
};

// The environment dotenvx would produce from a document.
struct ResolveOptions {
  // The process environment (null = empty). Its values win over the file's unless overload.
  const std::map<std::string, std::string>* process_env = nullptr;
  bool overload = false;
  // Called for values that start with "encrypted:"; an error leaves the value as it is and is
  // collected in Resolved::errors. Null = leave encrypted values untouched.
  std::function<StatusOr<std::string>(const std::string& key, const std::string& value)> decrypt;
};

struct Resolved {
  // key → value in first-appearance order, each key once (its last assignment wins).
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<Status> errors;
  const std::string* Get(std::string_view key) const;
};

Resolved Resolve(const Document& doc, const ResolveOptions& options);

// dotenvx's variable expansion of one value against env (exposed for tests and the fuzzer).
// `literals` holds single-quoted values seen so far (expansion stops at their references).
// env looks a name up (null when unset).
using Lookup = std::function<const std::string*(const std::string& name)>;
std::string Expand(std::string value, const Lookup& env, const std::map<std::string, std::string>& literals);

}  // namespace coffer::dotenv
