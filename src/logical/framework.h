// The backend framework: an engine is data. It declares Paths (a pattern, typed fields,
// one handler per operation, an optional existence check, help text) and the framework does
// the matching, field validation (clear 400s naming the field), help and unsupported-operation
// answers. Modelled on Vault's sdk/framework, written for C++.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "logical/backend.h"
#include "logical/request.h"

namespace coffer::logical {

enum class FieldType {
  kString,       // JSON string; numbers and bools are converted to their text as Vault does
  kInt,          // JSON number or numeric string; rejects fractions and garbage
  kBool,         // JSON bool or "true"/"false"/"1"/"0"
  kDuration,     // seconds as number, or a string in any form ParseDurationSeconds accepts
  kStringSlice,  // JSON array of strings, or a comma-separated string
  kMap,          // JSON object
  kKVPairs,      // JSON object whose values are strings (map<string,string>)
  kRaw,          // anything, passed through unchanged
};

struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  std::string description;
  nlohmann::json default_value = nullptr;  // returned by Get when the field was not supplied
  bool required = false;                   // a missing required field is a 400
};

// Validated request fields: request data (body or query) plus the pattern's captures.
class FieldData {
 public:
  // Checks every supplied field against its declared type; the first mismatch is a 400
  // "field \"ttl\": expected a duration such as \"30s\" or \"1h\"" style error. Unknown fields
  // are collected (see unknown()) so the caller can warn about them.
  static StatusOr<FieldData> Parse(const std::vector<Field>& schema, const nlohmann::json& data,
                                   const std::map<std::string, std::string>& captures);

  bool Has(const std::string& name) const;          // supplied by the client (or a capture)
  // Typed getters return the normalized value or the field's default. Calling a getter for an
  // undeclared field, or of the wrong type, is a programming error (asserts).
  std::string GetString(const std::string& name) const;
  int64_t GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  int64_t GetDurationSeconds(const std::string& name) const;
  std::vector<std::string> GetStringSlice(const std::string& name) const;
  nlohmann::json GetJson(const std::string& name) const;  // kMap, kKVPairs, kRaw
  const std::vector<std::string>& unknown() const { return unknown_; }
  const nlohmann::json& raw() const { return raw_; }     // the request data as supplied

 private:
  std::map<std::string, const Field*> schema_;
  std::map<std::string, nlohmann::json> values_;  // normalized
  std::vector<std::string> unknown_;
  nlohmann::json raw_;
};

using Handler = std::function<StatusOr<Response>(Request& req, const FieldData& fields)>;
using ExistenceFunc = std::function<StatusOr<bool>(Request& req, const FieldData& fields)>;

struct Path {
  // Pattern over the path relative to the mount. Literal text must match exactly; {name}
  // captures one or more characters other than '/'; {name*} captures the rest of the path
  // (possibly empty, may contain '/'); {name+} the rest, non-empty. A trailing "/?" makes a
  // final slash optional. Captures must also be declared in `fields` (as kString).
  std::string pattern;
  std::vector<Field> fields;
  std::map<Operation, Handler> operations;
  ExistenceFunc existence_check;  // empty: no check
  // When true, fields not in the schema are not reported as unknown (KV stores free-form data).
  bool takes_arbitrary_fields = false;
  std::string help_synopsis;
  std::string help_description;
};

class FrameworkBackend : public Backend {
 public:
  FrameworkBackend(std::vector<Path> paths, std::string help);

  // Matches the first Path whose pattern matches req.RelativePath(), validates fields and calls
  // the handler for req.operation. No matching path: 404 "unsupported path". A matching path
  // without that operation: 405 "unsupported operation". kHelp: {"help": "..."} from the path.
  // Unknown fields add the warning "Endpoint ignored these unrecognized parameters: [a b]".
  StatusOr<Response> HandleRequest(Request& req) override;
  StatusOr<std::optional<bool>> ExistenceCheck(Request& req) override;

 private:
  struct CompiledPath;
  const CompiledPath* Match(const std::string& rel, std::map<std::string, std::string>* captures) const;
  std::vector<std::shared_ptr<CompiledPath>> paths_;
  std::string help_;
};

}  // namespace coffer::logical
