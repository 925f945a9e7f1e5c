#include "policy/policy.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "base/duration.h"
#include "base/encoding.h"
#include "hcl/hcl.h"
#include "policy/identity_template.h"

namespace coffer::policy {
namespace {

using nlohmann::json;

struct NamedCapability {
  const char* name;
  Capability bit;
};
// Sorted by name: CapabilityNames relies on this order.
constexpr NamedCapability kCapabilities[] = {
    {"create", kCreate}, {"delete", kDelete}, {"deny", kDeny}, {"list", kList},
    {"patch", kPatch},   {"read", kRead},     {"sudo", kSudo}, {"update", kUpdate},
};

constexpr size_t kMaxNameLength = 128;

// The 1-based line and column (in code points) of byte `offset` of `text`.
hcl::Position PositionOfByte(std::string_view text, size_t offset) {
  hcl::Position pos{1, 1};
  offset = std::min(offset, text.size());
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++pos.line;
      pos.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++pos.column;
    }
  }
  return pos;
}

// The useful part of an nlohmann parse error ("syntax error while parsing object - unexpected
// end of input; expected '}'"), without the library prefix, its byte-based position and the
// "last read" echo of the input.
std::string JsonSyntaxReason(std::string_view what) {
  size_t column = what.find("column ");
  size_t start = column == std::string_view::npos ? std::string_view::npos : what.find(": ", column);
  if (start == std::string_view::npos) return "syntax error";
  std::string_view reason = what.substr(start + 2);
  size_t echo = reason.find("; last read: '");
  if (echo == std::string_view::npos) return std::string(reason);
  std::string out(reason.substr(0, echo));
  size_t expected = reason.find("; expected ", echo);
  if (expected != std::string_view::npos) out += reason.substr(expected);
  return out;
}

// JSON as the HCL tree the decoder reads, without positions (line 0).
StatusOr<hcl::Value> ValueFromJson(const json& j, int depth) {
  if (depth > hcl::kMaxDepth) {
    return InvalidArgument("nested more than " + std::to_string(hcl::kMaxDepth) + " levels deep");
  }
  hcl::Value v;
  switch (j.type()) {
    case json::value_t::object:
      v.kind = hcl::Value::Kind::kObject;
      for (const auto& [key, item] : j.items()) {
        hcl::Attribute attr;
        attr.key = key;
        ASSIGN_OR_RETURN(attr.value, ValueFromJson(item, depth + 1));
        v.object.attributes.push_back(std::move(attr));
      }
      break;
    case json::value_t::array:
      v.kind = hcl::Value::Kind::kList;
      for (const json& item : j) {
        ASSIGN_OR_RETURN(hcl::Value element, ValueFromJson(item, depth + 1));
        v.list.push_back(std::move(element));
      }
      break;
    case json::value_t::string:
      v.kind = hcl::Value::Kind::kString;
      v.string_value = j.get_ref<const std::string&>();
      break;
    case json::value_t::boolean:
      v.kind = hcl::Value::Kind::kBool;
      v.bool_value = j.get<bool>();
      break;
    case json::value_t::number_integer:
      v.kind = hcl::Value::Kind::kInt;
      v.int_value = j.get<int64_t>();
      break;
    case json::value_t::number_unsigned:
      if (j.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        v.kind = hcl::Value::Kind::kInt;
        v.int_value = static_cast<int64_t>(j.get<uint64_t>());
      } else {
        v.kind = hcl::Value::Kind::kFloat;
        v.float_value = static_cast<double>(j.get<uint64_t>());
      }
      break;
    case json::value_t::number_float:
      v.kind = hcl::Value::Kind::kFloat;
      v.float_value = j.get<double>();
      break;
    default:
      v.kind = hcl::Value::Kind::kNull;
      break;
  }
  return v;
}

// A problem with a path pattern, or "" when it is well formed. Sets *templated when the pattern
// uses identity templating (checked by TemplateProblem); the wildcard rules then apply to the
// pattern with each template standing for one plain word.
std::string PatternProblem(std::string_view written, bool* templated) {
  std::string problem = TemplateProblem(written, templated);
  if (!problem.empty()) return problem;
  std::string skeleton;
  if (*templated) {
    for (size_t at = 0; at < written.size();) {
      size_t open = written.find("{{", at);
      skeleton += written.substr(at, open == std::string_view::npos ? std::string_view::npos : open - at);
      if (open == std::string_view::npos) break;
      skeleton += 'x';
      at = written.find("}}", open + 2) + 2;  // TemplateProblem saw it closed
    }
  }
  std::string_view pattern = *templated ? std::string_view(skeleton) : written;
  size_t star = pattern.find('*');
  if (star != std::string_view::npos && star != pattern.size() - 1) {
    return "\"*\" is only allowed at the end of a path (use \"+\" for one segment)";
  }
  size_t seg_start = 0;
  while (seg_start <= pattern.size()) {
    size_t slash = pattern.find('/', seg_start);
    size_t seg_end = slash == std::string_view::npos ? pattern.size() : slash;
    std::string_view segment = pattern.substr(seg_start, seg_end - seg_start);
    if (segment.find('+') != std::string_view::npos && segment != "+") {
      return segment == "+*" ? "invalid use of wildcards ('+*' is forbidden)" : "\"+\" must be a whole path segment";
    }
    if (slash == std::string_view::npos) break;
    seg_start = slash + 1;
  }
  return "";
}

struct LocatedRules {
  hcl::Position pos;
  PathRules rules;
};

// Turns the HCL tree of a policy into PathRules, with errors pointing into the source.
class Decoder {
 public:
  explicit Decoder(std::string name) : name_(std::move(name)) {}

  Status Error(const hcl::Position& pos, std::string_view problem) const {
    std::string message = "policy " + name_ + ": ";
    if (pos.line > 0) message += std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
    message += problem;
    return InvalidArgument(std::move(message));
  }

  Status DecodeFile(const hcl::Body& body) {
    for (const hcl::Attribute& attr : body.attributes) {
      if (attr.key == "name") continue;  // Vault accepts and ignores it
      if (attr.key != "path") return UnknownTopLevelKey(attr.pos, attr.key);
      RETURN_IF_ERROR(DecodePathContainer(attr.value));
    }
    for (const hcl::Block& block : body.blocks) {
      if (block.type != "path") return UnknownTopLevelKey(block.pos, block.type);
      if (block.labels.size() == 1) {
        RETURN_IF_ERROR(DecodePath(block.labels[0], block.pos, block.body));
      } else if (block.labels.empty()) {
        RETURN_IF_ERROR(DecodePathContainerBody(block.body));
      } else {
        return Error(block.pos, "a path block takes one label, the path pattern");
      }
    }
    return OkStatus();
  }

  std::vector<PathRules> TakePaths() {
    std::stable_sort(rules_.begin(), rules_.end(), [](const LocatedRules& a, const LocatedRules& b) {
      return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
    });
    std::vector<PathRules> out;
    out.reserve(rules_.size());
    for (LocatedRules& r : rules_) out.push_back(std::move(r.rules));
    return out;
  }

 private:
  Status UnknownTopLevelKey(const hcl::Position& pos, std::string_view key) const {
    return Error(pos, "unknown key " + QuotedForMessage(key) + " (a policy holds only path blocks)");
  }

  // `path = { "<pattern>" = { ... } }` (HCL) or `"path": {"<pattern>": {...}}` (JSON), or a list
  // of such objects.
  Status DecodePathContainer(const hcl::Value& value) {
    if (value.kind == hcl::Value::Kind::kObject) return DecodePathContainerBody(value.object);
    if (value.kind == hcl::Value::Kind::kList) {
      for (const hcl::Value& item : value.list) {
        if (item.kind != hcl::Value::Kind::kObject) {
          return Error(item.pos, "\"path\" must map path patterns to rules, found a " + std::string(item.TypeName()));
        }
        RETURN_IF_ERROR(DecodePathContainerBody(item.object));
      }
      return OkStatus();
    }
    return Error(value.pos, "\"path\" must map path patterns to rules, found a " + std::string(value.TypeName()));
  }

  Status DecodePathContainerBody(const hcl::Body& body) {
    for (const hcl::Attribute& attr : body.attributes) {
      if (attr.value.kind == hcl::Value::Kind::kObject) {
        RETURN_IF_ERROR(DecodePath(attr.key, attr.pos, attr.value.object));
      } else if (attr.value.kind == hcl::Value::Kind::kList) {
        for (const hcl::Value& item : attr.value.list) {
          if (item.kind != hcl::Value::Kind::kObject) {
            return Error(item.pos, "path " + QuotedForMessage(attr.key) + ": rules must be an object");
          }
          RETURN_IF_ERROR(DecodePath(attr.key, attr.pos, item.object));
        }
      } else {
        return Error(attr.value.pos,
                     "path " + QuotedForMessage(attr.key) + ": rules must be an object, found a " + attr.value.TypeName());
      }
    }
    for (const hcl::Block& block : body.blocks) {
      if (!block.labels.empty()) return Error(block.pos, "path " + QuotedForMessage(block.type) + ": unexpected label");
      RETURN_IF_ERROR(DecodePath(block.type, block.pos, block.body));
    }
    return OkStatus();
  }

  Status DecodePath(std::string_view written, const hcl::Position& pos, const hcl::Body& body) {
    LocatedRules located;
    located.pos = pos;
    PathRules& rules = located.rules;
    // Paths in Vault start after the '/' of the API path.
    if (!written.empty() && written.front() == '/') written.remove_prefix(1);
    rules.pattern = std::string(written);
    const std::string where = "path " + QuotedForMessage(rules.pattern) + ": ";
    std::string problem = PatternProblem(rules.pattern, &rules.templated);
    if (!problem.empty()) return Error(pos, where + problem);

    const hcl::Attribute* capabilities = nullptr;
    const hcl::Attribute* legacy = nullptr;
    const hcl::Attribute* required = nullptr;
    const hcl::Attribute* min_ttl = nullptr;
    const hcl::Attribute* max_ttl = nullptr;
    std::vector<std::pair<hcl::Position, const hcl::Body*>> allowed, denied;
    for (const hcl::Attribute& attr : body.attributes) {
      const std::string& key = attr.key;
      if (key == "capabilities") {
        capabilities = &attr;
      } else if (key == "policy") {
        legacy = &attr;
      } else if (key == "required_parameters") {
        required = &attr;
      } else if (key == "min_wrapping_ttl") {
        min_ttl = &attr;
      } else if (key == "max_wrapping_ttl") {
        max_ttl = &attr;
      } else if (key == "allowed_parameters" || key == "denied_parameters") {
        if (attr.value.kind != hcl::Value::Kind::kObject) {
          return Error(attr.value.pos, where + key + " must be an object, found a " + attr.value.TypeName());
        }
        (key == "allowed_parameters" ? allowed : denied).emplace_back(attr.pos, &attr.value.object);
      } else if (key == "comment") {
        continue;
      } else if (key == "mfa_methods" || key == "control_group") {
        return Error(attr.pos, where + key + " is a Vault Enterprise feature that Coffer does not support");
      } else {
        return Error(attr.pos, where + "unknown key " + QuotedForMessage(key));
      }
    }
    for (const hcl::Block& block : body.blocks) {
      if ((block.type == "allowed_parameters" || block.type == "denied_parameters") && block.labels.empty()) {
        (block.type == "allowed_parameters" ? allowed : denied).emplace_back(block.pos, &block.body);
      } else if (block.type == "control_group") {
        return Error(block.pos, where + "control_group is a Vault Enterprise feature that Coffer does not support");
      } else {
        return Error(block.pos, where + "unknown key " + QuotedForMessage(block.type));
      }
    }

    uint32_t bits = 0;
    if (legacy != nullptr) {
      ASSIGN_OR_RETURN(bits, LegacyPolicy(where, legacy->value));
    }
    if (capabilities != nullptr) {
      ASSIGN_OR_RETURN(uint32_t listed, CapabilityList(where, capabilities->value));
      bits |= listed;
    }
    // Deny overrides everything else in the block.
    rules.capabilities = (bits & kDeny) ? kDeny : bits;

    for (const auto& [at, object] : allowed) {
      RETURN_IF_ERROR(DecodeParameters(where + "allowed_parameters: ", *object, &rules.allowed_parameters));
    }
    for (const auto& [at, object] : denied) {
      RETURN_IF_ERROR(DecodeParameters(where + "denied_parameters: ", *object, &rules.denied_parameters));
    }
    if (required != nullptr) {
      ASSIGN_OR_RETURN(rules.required_parameters, RequiredParameters(where, required->value));
    }
    if (min_ttl != nullptr) {
      ASSIGN_OR_RETURN(rules.min_wrapping_ttl, Ttl(where + "min_wrapping_ttl: ", min_ttl->value));
    }
    if (max_ttl != nullptr) {
      ASSIGN_OR_RETURN(rules.max_wrapping_ttl, Ttl(where + "max_wrapping_ttl: ", max_ttl->value));
    }
    if (rules.min_wrapping_ttl > 0 && rules.max_wrapping_ttl > 0 && rules.max_wrapping_ttl < rules.min_wrapping_ttl) {
      return Error(max_ttl->pos, where + "max_wrapping_ttl cannot be less than min_wrapping_ttl");
    }
    if (rules.capabilities == kDeny) {
      // As in Vault, a denying block carries nothing else.
      rules.allowed_parameters.clear();
      rules.denied_parameters.clear();
      rules.required_parameters.clear();
      rules.min_wrapping_ttl = rules.max_wrapping_ttl = 0;
    }
    rules_.push_back(std::move(located));
    return OkStatus();
  }

  // The pre-0.5 `policy = "read"` shorthand, mapped as Vault maps it.
  StatusOr<uint32_t> LegacyPolicy(const std::string& where, const hcl::Value& value) const {
    if (value.kind != hcl::Value::Kind::kString) {
      return Error(value.pos, where + "policy must be a string, found a " + value.TypeName());
    }
    const std::string& p = value.string_value;
    if (p == "deny") return uint32_t{kDeny};
    if (p == "read") return uint32_t{kRead | kList};
    if (p == "write") return uint32_t{kCreate | kRead | kUpdate | kDelete | kList};
    if (p == "sudo") return uint32_t{kCreate | kRead | kUpdate | kDelete | kList | kSudo};
    return Error(value.pos, where + "invalid policy " + QuotedForMessage(p) + " (expected deny, read, write or sudo)");
  }

  StatusOr<uint32_t> CapabilityList(const std::string& where, const hcl::Value& value) const {
    std::vector<const hcl::Value*> items;
    if (value.kind == hcl::Value::Kind::kString) {
      items.push_back(&value);
    } else if (value.kind == hcl::Value::Kind::kList) {
      for (const hcl::Value& item : value.list) items.push_back(&item);
    } else {
      return Error(value.pos, where + "capabilities must be a list of strings, found a " + value.TypeName());
    }
    uint32_t bits = 0;
    for (const hcl::Value* item : items) {
      if (item->kind != hcl::Value::Kind::kString) {
        return Error(item->pos, where + "capabilities must be a list of strings, found a " + item->TypeName());
      }
      uint32_t bit = CapabilityFromName(item->string_value);
      if (bit == 0) return Error(item->pos, where + "invalid capability " + QuotedForMessage(item->string_value));
      bits |= bit;
    }
    return bits;
  }

  Status DecodeParameters(const std::string& where, const hcl::Body& object,
                          std::map<std::string, std::vector<json>>* out) const {
    if (!object.blocks.empty()) {
      const hcl::Block& block = object.blocks.front();
      return Error(block.pos, where + "the value of " + QuotedForMessage(block.type) + " must be a list");
    }
    for (const hcl::Attribute& attr : object.attributes) {
      const std::string& key = attr.key;
      if (key.starts_with("/")) {
        return Error(attr.pos, where + "parameter key " + QuotedForMessage(key) +
                                   ": nested parameter paths are not supported; name a top-level parameter");
      }
      if (key.find('*') != std::string::npos && key != "*") {
        return Error(attr.pos, where + "parameter key " + QuotedForMessage(key) + " cannot contain non-tail wildcards");
      }
      if (attr.value.kind != hcl::Value::Kind::kList) {
        return Error(attr.value.pos,
                     where + "the value of " + QuotedForMessage(key) + " must be a list, found a " + attr.value.TypeName());
      }
      std::vector<json> values;
      values.reserve(attr.value.list.size());
      for (const hcl::Value& item : attr.value.list) values.push_back(hcl::ToJson(item));
      (*out)[AsciiLower(key)] = std::move(values);
    }
    return OkStatus();
  }

  StatusOr<std::vector<std::string>> RequiredParameters(const std::string& where, const hcl::Value& value) const {
    std::vector<const hcl::Value*> items;
    if (value.kind == hcl::Value::Kind::kString) {
      items.push_back(&value);
    } else if (value.kind == hcl::Value::Kind::kList) {
      for (const hcl::Value& item : value.list) items.push_back(&item);
    } else {
      return Error(value.pos, where + "required_parameters must be a list of strings, found a " + value.TypeName());
    }
    std::vector<std::string> out;
    for (const hcl::Value* item : items) {
      if (item->kind != hcl::Value::Kind::kString) {
        return Error(item->pos, where + "required_parameters must be a list of strings, found a " + item->TypeName());
      }
      if (item->string_value.find('*') != std::string::npos) {
        return Error(item->pos, where + "required_parameters: parameter key " + QuotedForMessage(item->string_value) +
                                    ": wildcard is not permitted here");
      }
      std::string lowered = AsciiLower(item->string_value);
      if (std::find(out.begin(), out.end(), lowered) == out.end()) out.push_back(std::move(lowered));
    }
    return out;
  }

  StatusOr<int64_t> Ttl(const std::string& where, const hcl::Value& value) const {
    int64_t seconds = 0;
    switch (value.kind) {
      case hcl::Value::Kind::kInt:
        seconds = value.int_value;
        break;
      case hcl::Value::Kind::kFloat:
        if (!(value.float_value > -9.2e18 && value.float_value < 9.2e18)) {
          return Error(value.pos, where + "duration out of range");
        }
        seconds = static_cast<int64_t>(value.float_value);
        break;
      case hcl::Value::Kind::kString: {
        auto parsed = ParseDurationSeconds(value.string_value);
        if (!parsed.ok()) {
          return Error(value.pos, where + "invalid duration " + QuotedForMessage(value.string_value) +
                                      " (use a number of seconds or a duration such as \"30s\", \"1h\")");
        }
        seconds = *parsed;
        break;
      }
      default:
        return Error(value.pos, where + "expected a duration, found a " + std::string(value.TypeName()));
    }
    if (seconds < 0) return Error(value.pos, where + "must not be negative");
    return seconds;
  }

  std::string name_;
  std::vector<LocatedRules> rules_;
};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '@' || c == '+' ||
         c == '=' || c == ':' || c == ',';
}

}  // namespace

uint32_t CapabilityFromName(std::string_view name) {
  for (const NamedCapability& c : kCapabilities) {
    if (name == c.name) return c.bit;
  }
  return 0;
}

std::vector<std::string> CapabilityNames(uint32_t capabilities) {
  if (capabilities & kDeny) return {"deny"};
  std::vector<std::string> names;
  for (const NamedCapability& c : kCapabilities) {
    if (capabilities & c.bit) names.emplace_back(c.name);
  }
  return names;
}

StatusOr<std::string> NormalizePolicyName(std::string_view name) {
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) name.remove_prefix(1);
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.remove_suffix(1);
  std::string lowered = AsciiLower(name);
  if (lowered.empty()) return InvalidArgument("invalid policy name \"\": a policy name cannot be empty");
  if (lowered.size() > kMaxNameLength) {
    return InvalidArgument("invalid policy name " + QuotedForMessage(lowered) + ": longer than " +
                           std::to_string(kMaxNameLength) + " characters");
  }
  for (char c : lowered) {
    if (!IsNameChar(c)) {
      return InvalidArgument("invalid policy name " + QuotedForMessage(lowered) +
                             ": use letters, digits and - _ . @ + = : , only");
    }
  }
  return lowered;
}

StatusOr<Policy> ParsePolicy(std::string_view name, std::string_view text) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizePolicyName(name));
  Decoder decoder(normalized);

  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    json document;
    try {
      document = json::parse(text);
    } catch (const json::parse_error& e) {
      size_t at = e.byte > 0 ? e.byte - 1 : 0;
      return decoder.Error(PositionOfByte(text, at), "invalid JSON: " + JsonSyntaxReason(e.what()));
    } catch (const json::exception&) {
      return decoder.Error(hcl::Position{}, "invalid JSON (a number is out of range)");
    }
    if (!document.is_object()) return decoder.Error(hcl::Position{}, "a JSON policy must be an object");
    auto root = ValueFromJson(document, 0);
    if (!root.ok()) return decoder.Error(hcl::Position{}, root.status().message());
    RETURN_IF_ERROR(decoder.DecodeFile(root->object));
  } else {
    // With no file name, hcl errors read ":<line>:<column>: <problem>".
    auto body = hcl::Parse(text, "");
    if (!body.ok()) {
      Status error = body.status();
      std::string_view message = error.message();
      if (message.starts_with(":")) message.remove_prefix(1);
      return InvalidArgument("policy " + normalized + ": " + std::string(message));
    }
    RETURN_IF_ERROR(decoder.DecodeFile(*body));
  }

  Policy policy;
  policy.name = std::move(normalized);
  policy.raw = std::string(text);
  policy.paths = decoder.TakePaths();
  return policy;
}

}  // namespace coffer::policy
