// A parser for the HCL (version 1) subset that HashiCorp Vault uses for ACL policies and server
// configs: attributes, labelled blocks, strings, heredocs, numbers, bools, lists, objects and
// comments. Every node keeps its 1-based line and column so callers can point at mistakes.
// Parse never crashes or hangs: nesting is limited to kMaxDepth levels and every error is a value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace coffer::hcl {

inline constexpr int kMaxDepth = 100;  // lists, objects and blocks nested deeper are rejected

struct Position {
  int line = 0;    // 1-based; 0 means "not from a file"
  int column = 0;  // 1-based, counted in characters (UTF-8 code points), a tab counts as one
};

struct Attribute;
struct Block;

// The contents of a file, a block or an object value: attributes and blocks in source order.
// HCL1 treats `key = { ... }` and `key { ... }` alike; the parser keeps what was written and
// ToJson merges both spellings into the same JSON.
struct Body {
  std::vector<Attribute> attributes;
  std::vector<Block> blocks;
  Position pos;  // the opening '{' (1:1 for a whole file)

  // The last attribute named key, or nullptr (a later assignment overrides an earlier one).
  const Attribute* FindAttribute(std::string_view key) const;
  // Every block of this type, in source order.
  std::vector<const Block*> BlocksOfType(std::string_view type) const;
};

struct Value {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList, kObject };

  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::string string_value;  // decoded: escapes resolved, heredoc indentation removed
  std::vector<Value> list;
  Body object;
  Position pos;  // where the value starts

  bool IsNumber() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  // "null", "bool", "number", "string", "list" or "object": for error messages.
  const char* TypeName() const;
};

// `key = value`. The position is the key's.
struct Attribute {
  std::string key;
  Value value;
  Position pos;
};

// `type "label" ... { body }` (also HCL1's `type "label" = { body }`). The position is the type's.
struct Block {
  std::string type;
  std::vector<std::string> labels;
  Body body;
  Position pos;
};

// Parses a whole file. Errors are InvalidArgument "<filename>:<line>:<column>: <problem>", naming
// what was expected and what was found; they may name a key but never quote a value (which may
// be secret).
StatusOr<Body> Parse(std::string_view text, std::string_view filename);

// The JSON HCL1 would produce: attributes become keys; a block nests one object level per label
// (`path "a" { x = 1 }` → {"path": {"a": {"x": 1}}}); a block or object-valued attribute repeated
// with the same type and labels turns that slot into an array of objects; any other repeated
// attribute keeps its last value.
nlohmann::json ToJson(const Body& body);
nlohmann::json ToJson(const Value& value);

}  // namespace coffer::hcl
