#include "policy/identity_template.h"

#include <utility>

#include "base/encoding.h"

namespace coffer::policy {
namespace {

constexpr std::string_view kProblemPrefix = "failed to validate policy templating: ";

// What one template refers to. kNever: valid, but it never resolves in ACL mode (groups, whole
// maps and lists).
struct Parameter {
  enum class Kind { kEntityId, kEntityName, kEntityMetadata, kAliasId, kAliasName, kAliasMetadata,
                    kAliasCustomMetadata, kNever };
  Kind kind = Kind::kNever;
  std::string_view accessor;  // alias forms
  std::string_view key;       // metadata forms
};

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// `rest` after "metadata." / "custom_metadata.": a non-empty key (which may contain dots).
bool TakeKey(std::string_view rest, std::string_view prefix, std::string_view* key) {
  if (!rest.starts_with(prefix)) return false;
  *key = rest.substr(prefix.size());
  return !key->empty();
}

// The group selector after "identity.groups.": (ids|names).<group>.(id|name|metadata.<key>).
bool ValidGroupSelector(std::string_view rest) {
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return false;
  std::string_view by = rest.substr(0, dot);
  if (by != "ids" && by != "names") return false;
  rest.remove_prefix(dot + 1);
  dot = rest.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  std::string_view field = rest.substr(dot + 1);
  std::string_view key;
  return field == "id" || field == "name" || TakeKey(field, "metadata.", &key);
}

std::optional<Parameter> ParseParameter(std::string_view p) {
  using Kind = Parameter::Kind;
  Parameter out;
  if (p.starts_with("identity.groups.")) {
    if (!ValidGroupSelector(p.substr(16))) return std::nullopt;
    return out;  // kNever: Coffer has no groups
  }
  if (!p.starts_with("identity.entity.")) return std::nullopt;
  std::string_view rest = p.substr(16);
  if (rest == "id") {
    out.kind = Kind::kEntityId;
  } else if (rest == "name") {
    out.kind = Kind::kEntityName;
  } else if (rest == "metadata" || rest == "groups.ids" || rest == "groups.names") {
    out.kind = Kind::kNever;
  } else if (TakeKey(rest, "metadata.", &out.key)) {
    out.kind = Kind::kEntityMetadata;
  } else if (rest.starts_with("aliases.")) {
    rest.remove_prefix(8);
    size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string_view::npos) return std::nullopt;
    out.accessor = rest.substr(0, dot);
    std::string_view field = rest.substr(dot + 1);
    if (field == "id") {
      out.kind = Kind::kAliasId;
    } else if (field == "name") {
      out.kind = Kind::kAliasName;
    } else if (field == "metadata" || field == "custom_metadata") {
      out.kind = Kind::kNever;
    } else if (TakeKey(field, "metadata.", &out.key)) {
      out.kind = Kind::kAliasMetadata;
    } else if (TakeKey(field, "custom_metadata.", &out.key)) {
      out.kind = Kind::kAliasCustomMetadata;
    } else {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  return out;
}

const std::string* Find(const std::map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? nullptr : &it->second;
}

// The value of `p` for `identity`, or nullptr when it has none.
const std::string* Resolve(const Parameter& p, const IdentityContext& identity) {
  using Kind = Parameter::Kind;
  const IdentityContext::Alias* alias = nullptr;
  if (p.kind == Kind::kAliasId || p.kind == Kind::kAliasName || p.kind == Kind::kAliasMetadata ||
      p.kind == Kind::kAliasCustomMetadata) {
    auto it = identity.aliases.find(std::string(p.accessor));
    if (it == identity.aliases.end()) return nullptr;
    alias = &it->second;
  }
  switch (p.kind) {
    case Kind::kEntityId:
      return &identity.entity_id;
    case Kind::kEntityName:
      return &identity.entity_name;
    case Kind::kEntityMetadata:
      return Find(identity.metadata, p.key);
    case Kind::kAliasId:
      return &alias->id;
    case Kind::kAliasName:
      return &alias->name;
    case Kind::kAliasMetadata:
      return Find(alias->metadata, p.key);
    case Kind::kAliasCustomMetadata:
      return Find(alias->custom_metadata, p.key);
    case Kind::kNever:
      return nullptr;
  }
  return nullptr;
}

// A value that can stand in a path pattern without changing what the rule matches beyond the
// literal text.
bool SafeValue(std::string_view v) {
  if (v.empty()) return false;
  if (v.find('*') != std::string_view::npos || v.find("{{") != std::string_view::npos ||
      v.find("}}") != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (true) {
    size_t slash = v.find('/', start);
    std::string_view part = v.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "+" || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// Walks the templates of `pattern` as Vault splits it (on "{{", then each piece on "}}"),
// calling on_text(literal) and on_template(inner, parameter). Returns "" or the problem.
template <typename OnText, typename OnTemplate>
std::string Walk(std::string_view pattern, OnText on_text, OnTemplate on_template) {
  size_t open = pattern.find("{{");
  std::string_view head = pattern.substr(0, open);
  if (head.find("}}") != std::string_view::npos) {
    return std::string(kProblemPrefix) + "unbalanced templating characters (\"}}\" without \"{{\")";
  }
  on_text(head);
  while (open != std::string_view::npos) {
    size_t next = pattern.find("{{", open + 2);
    std::string_view piece =
        pattern.substr(open + 2, next == std::string_view::npos ? std::string_view::npos : next - open - 2);
    size_t close = piece.find("}}");
    if (close == std::string_view::npos) return std::string(kProblemPrefix) + "\"{{\" is never closed";
    if (piece.find("}}", close + 2) != std::string_view::npos) {
      return std::string(kProblemPrefix) + "unbalanced templating characters (\"}}\" without \"{{\")";
    }
    std::string_view inner = Trim(piece.substr(0, close));
    std::optional<Parameter> parameter = ParseParameter(inner);
    if (!parameter) return std::string(kProblemPrefix) + "unknown template parameter " + QuotedForMessage(inner);
    if (!on_template(*parameter)) return "unresolved";
    on_text(piece.substr(close + 2));
    open = next;
  }
  return "";
}

}  // namespace

std::string TemplateProblem(std::string_view pattern, bool* templated) {
  *templated = false;
  return Walk(
      pattern, [](std::string_view) {},
      [&](const Parameter&) {
        *templated = true;
        return true;
      });
}

std::optional<std::string> RenderTemplate(std::string_view pattern, const IdentityContext& identity) {
  std::string out;
  out.reserve(pattern.size() + 32);
  std::string problem = Walk(
      pattern, [&](std::string_view text) { out += text; },
      [&](const Parameter& p) {
        const std::string* value = Resolve(p, identity);
        if (value == nullptr || !SafeValue(*value)) return false;
        out += *value;
        return true;
      });
  if (!problem.empty()) return std::nullopt;
  // Paths in Vault start after the '/' of the API path, also once rendered.
  size_t slashes = out.find_first_not_of('/');
  out.erase(0, slashes == std::string::npos ? out.size() : slashes);
  return out;
}

}  // namespace coffer::policy
