// libFuzzer target: hcl::Parse and hcl::ToJson on arbitrary bytes. Besides crashes and sanitizer
// reports it checks the contract: errors are InvalidArgument "<file>:<line>:<col>: ...", and the
// JSON of any parsed file serializes (all strings are valid UTF-8).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hcl/hcl.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

void CheckPositions(const coffer::hcl::Body& body);

void CheckValue(const coffer::hcl::Value& v) {
  Require(v.pos.line >= 1 && v.pos.column >= 1);
  for (const coffer::hcl::Value& element : v.list) CheckValue(element);
  if (v.kind == coffer::hcl::Value::Kind::kObject) CheckPositions(v.object);
}

void CheckPositions(const coffer::hcl::Body& body) {
  Require(body.pos.line >= 1 && body.pos.column >= 1);
  for (const coffer::hcl::Attribute& a : body.attributes) {
    Require(a.pos.line >= 1 && a.pos.column >= 1);
    CheckValue(a.value);
  }
  for (const coffer::hcl::Block& b : body.blocks) {
    Require(b.pos.line >= 1 && b.pos.column >= 1);
    CheckPositions(b.body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  coffer::StatusOr<coffer::hcl::Body> body = coffer::hcl::Parse(text, "fuzz.hcl");
  if (!body.ok()) {
    Require(body.status().code() == coffer::StatusCode::kInvalidArgument);
    Require(body.status().message().rfind("fuzz.hcl:", 0) == 0);
    (void)nlohmann::json(body.status().message()).dump();  // messages are valid UTF-8
    return 0;
  }
  CheckPositions(*body);
  (void)coffer::hcl::ToJson(*body).dump();
  return 0;
}
