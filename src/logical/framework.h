// The backend framework: an engine is data. It declares Paths (a pattern, typed fields,
// one handler per operation, an optional existence check, help text) and the framework does
// the matching, field validation (clear 400s naming the field), help and unsupported-operation
// answers. Modelled on Vault's sdk/framework, written for C++.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "logical/backend.h"
#include "logical/request.h"

namespace coffer::logical {

enum class FieldType {
  // Exact conversion rules: see FieldData.
  kString,       // JSON string; numbers and bools are converted to their text
  kInt,          // JSON number or numeric string; rejects fractions and garbage
  kBool,         // JSON bool or "true"/"false"/"1"/"0"/"t"/"f"
  kDuration,     // seconds as number, or a string in any form ParseDurationSeconds accepts
  kStringSlice,  // JSON array of strings, or a comma-separated string
  kMap,          // JSON object
  kKVPairs,      // JSON object whose values are strings (map<string,string>)
  kRaw,          // anything, passed through unchanged
};

struct Field {
  std::string name{};
  FieldType type = FieldType::kString;
  std::string description{};
  nlohmann::json default_value = nullptr;  // returned by Get when the field was not supplied
  bool required = false;                   // a missing required field is a 400
};

// Validated request fields: request data (body or query) plus the pattern's captures.
// Conversions follow Vault's framework; every type also accepts its text form, because query
// parameters arrive as strings:
//   kString      string; numbers and bools become their text (1.5 -> "1.5", true -> "true")
//   kInt         integral number, or a decimal string ("42", "-7"); not 1.5, "abc" or bools
//   kBool        true/false; "true"/"false"/"1"/"0"/"t"/"f" (and Go's "T", "TRUE", ...); 0 and 1
//   kDuration    number of seconds, or any string ParseDurationSeconds accepts; "" means 0
//   kStringSlice array of strings; or a string: a JSON array, else comma-separated (entries
//                trimmed, empty ones dropped)
//   kMap         object, or a string holding a JSON object
//   kKVPairs     object with scalar values (converted as kString), a list of "k=v" strings, or a
//                string: a JSON object, else comma-separated "k=v" pairs
//   kRaw         anything
// A JSON null counts as not supplied. A FieldData borrows `schema` and `data`: both must outlive
// it (the framework guarantees this for handlers). Immutable after Parse, so safe to share.
class FieldData {
 public:
  // Checks every supplied field against its declared type (captures override body fields of
  // the same name). The first mismatch, in field-name order, is an InvalidArgument
  // `field "ttl": expected a duration such as "30s", "1h" or a number of seconds, got "30x"`
  // (values are echoed cut to 32 bytes, containers only described); a missing required field
  // is `missing required field "name"`; data that is neither an object nor null is rejected.
  // Unknown fields are collected, sorted (see unknown()), so the caller can warn about them.
  static StatusOr<FieldData> Parse(const std::vector<Field>& schema, const nlohmann::json& data,
                                   const std::map<std::string, std::string>& captures);
  // Temporaries would dangle: FieldData keeps pointers into schema and data.
  static StatusOr<FieldData> Parse(std::vector<Field>&&, const nlohmann::json&,
                                   const std::map<std::string, std::string>&) = delete;
  static StatusOr<FieldData> Parse(const std::vector<Field>&, nlohmann::json&&,
                                   const std::map<std::string, std::string>&) = delete;
  static StatusOr<FieldData> Parse(std::vector<Field>&&, nlohmann::json&&,
                                   const std::map<std::string, std::string>&) = delete;

  bool Has(const std::string& name) const;  // supplied by the client (or a capture)
  // Typed getters return the normalized value, else the field's default (converted by the same
  // rules), else the type's zero value. Calling a getter for an undeclared field, or of the
  // wrong type, is a programming error (asserts; the zero value in release builds).
  std::string GetString(const std::string& name) const;
  int64_t GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  int64_t GetDurationSeconds(const std::string& name) const;
  std::vector<std::string> GetStringSlice(const std::string& name) const;
  std::map<std::string, std::string> GetKVPairs(const std::string& name) const;
  nlohmann::json GetJson(const std::string& name) const;  // kMap, kKVPairs, kRaw; null if unset
  const std::vector<std::string>& unknown() const { return unknown_; }
  const nlohmann::json& raw() const { return *raw_; }  // the request data as supplied

 private:
  FieldData() = default;
  // The stored or default value of `name`, checked against the allowed types; nullptr when
  // neither exists. `scratch` holds a converted default.
  const nlohmann::json* Lookup(const std::string& name, std::initializer_list<FieldType> types,
                               nlohmann::json* scratch) const;

  std::map<std::string, const Field*> schema_;
  std::map<std::string, nlohmann::json> values_;  // normalized
  std::vector<std::string> unknown_;
  const nlohmann::json* raw_ = nullptr;
};

using Handler = std::function<StatusOr<Response>(Request& req, const FieldData& fields)>;
using ExistenceFunc = std::function<StatusOr<bool>(Request& req, const FieldData& fields)>;

struct Path {
  // Pattern over the path relative to the mount. Literal text must match exactly; {name}
  // captures one or more characters other than '/'; {name*} captures the rest of the path
  // (possibly empty, may contain '/'); {name+} the rest, non-empty. A trailing "/?" makes a
  // final slash optional. Captures must also be declared in `fields` (as kString); one that
  // is not is declared as a kString field automatically. A malformed pattern (unclosed brace,
  // empty name, {name*} or {name+} not at the end) aborts at construction: it is a bug.
  std::string pattern{};
  std::vector<Field> fields{};
  std::map<Operation, Handler> operations{};
  ExistenceFunc existence_check{};  // empty: no check
  // When true, fields not in the schema are not reported as unknown (KV stores free-form data).
  bool takes_arbitrary_fields = false;
  std::string help_synopsis{};
  std::string help_description{};
};

class FrameworkBackend : public Backend {
 public:
  // Compiles every pattern once. `help` is the backend's overview, shown for help on the root.
  FrameworkBackend(std::vector<Path> paths, std::string help);
  ~FrameworkBackend() override;

  // Matches the first Path whose pattern matches req.RelativePath(), validates fields and calls
  // the handler for req.operation. No matching path: 404 "unsupported path". A matching path
  // without that operation: 405 "unsupported operation". kHelp: {"help": "<synopsis>\n\n
  // <description>"} from the path unless the path declares its own kHelp handler; kHelp on the
  // mount root lists every path under the backend help. As in Vault, warnings are added only to
  // a non-empty response (a bare 204 stays bare): unknown fields, unless the path takes
  // arbitrary fields, give "Endpoint ignored these unrecognized parameters: [a b]" (sorted);
  // body fields overridden by captures give "Endpoint replaced the value of these parameters
  // with the values captured from the endpoint's path: [a]". Thread-safe if the handlers are.
  StatusOr<Response> HandleRequest(Request& req) override;
  // The matched path's existence check on validated fields; std::nullopt when no path matches
  // or the path has no check.
  StatusOr<std::optional<bool>> ExistenceCheck(Request& req) override;

  // Auth methods: the paths that need no token, as Vault's PathsSpecial.Unauthenticated lists
  // them: an exact relative path ("login"), or a prefix ending in '*' ("login/*"). Call before
  // serving requests.
  void SetUnauthenticatedPaths(std::vector<std::string> patterns) { unauthenticated_ = std::move(patterns); }
  bool IsUnauthenticated(std::string_view relative_path) const override;

 private:
  struct CompiledPath;
  const CompiledPath* Match(const std::string& rel, std::map<std::string, std::string>* captures) const;
  Response RootHelp() const;
  std::vector<std::shared_ptr<CompiledPath>> paths_;
  std::string help_;
  size_t max_captures_ = 0;
  std::vector<std::string> unauthenticated_;
};

}  // namespace coffer::logical
