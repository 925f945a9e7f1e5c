#include "policy/acl.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace coffer::policy {
namespace {

using nlohmann::json;

// Orders parameter names ignoring ASCII case, so a request key finds its (lower-cased) policy
// entry without building a lower-cased copy.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      int ca = std::tolower(static_cast<unsigned char>(a[i]));
      int cb = std::tolower(static_cast<unsigned char>(b[i]));
      if (ca != cb) return ca < cb;
    }
    return a.size() < b.size();
  }
};
using ParameterMap = std::map<std::string, std::vector<json>, CaseInsensitiveLess>;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Everything the policies say about one pattern, merged.
struct Permissions {
  uint32_t capabilities = 0;
  int64_t min_wrapping_ttl = 0;
  int64_t max_wrapping_ttl = 0;
  ParameterMap allowed;
  ParameterMap denied;
  std::vector<std::string> required;
};

Permissions FromRules(const PathRules& r) {
  Permissions p;
  p.capabilities = r.capabilities;
  p.min_wrapping_ttl = r.min_wrapping_ttl;
  p.max_wrapping_ttl = r.max_wrapping_ttl;
  p.allowed.insert(r.allowed_parameters.begin(), r.allowed_parameters.end());
  p.denied.insert(r.denied_parameters.begin(), r.denied_parameters.end());
  p.required = r.required_parameters;
  return p;
}

void MergeParameters(const std::map<std::string, std::vector<json>>& incoming, ParameterMap* existing) {
  for (const auto& [key, values] : incoming) {
    auto it = existing->find(key);
    if (it == existing->end()) {
      existing->emplace(key, values);
    } else if (values.empty() || it->second.empty()) {
      it->second.clear();  // an empty list allows (or denies) any value: it absorbs the other
    } else {
      it->second.insert(it->second.begin(), values.begin(), values.end());
    }
  }
}

// Folds one more block for the same pattern into `p`, as Vault's NewACL does.
void Merge(const PathRules& r, Permissions* p) {
  if (p->capabilities & kDeny) return;
  if (r.capabilities & kDeny) {
    *p = Permissions();
    p->capabilities = kDeny;
    return;
  }
  p->capabilities |= r.capabilities;
  // The smaller bounds win: the shortest-lived wrapping the policies allow.
  if (r.max_wrapping_ttl > 0 && (p->max_wrapping_ttl == 0 || r.max_wrapping_ttl < p->max_wrapping_ttl)) {
    p->max_wrapping_ttl = r.max_wrapping_ttl;
  }
  if (r.min_wrapping_ttl > 0 && (p->min_wrapping_ttl == 0 || r.min_wrapping_ttl < p->min_wrapping_ttl)) {
    p->min_wrapping_ttl = r.min_wrapping_ttl;
  }
  MergeParameters(r.allowed_parameters, &p->allowed);
  MergeParameters(r.denied_parameters, &p->denied);
  for (const std::string& name : r.required_parameters) {
    if (std::find(p->required.begin(), p->required.end(), name) == p->required.end()) p->required.push_back(name);
  }
}

bool Grants(uint32_t capabilities) { return !(capabilities & kDeny) && (capabilities & kAllCapabilities) != 0; }

bool HasSegmentWildcard(std::string_view pattern) {
  return pattern == "+" || pattern.starts_with("+/") || pattern.find("/+") != std::string_view::npos;
}

// Vault's GlobbedStringsMatch: `item` may start and/or end with '*'; a lone "*" is literal.
bool GlobMatch(std::string_view item, std::string_view value) {
  if (item.size() < 2) return value == item;
  bool leading = item.front() == '*';
  bool trailing = item.back() == '*';
  if (leading && trailing) return value.find(item.substr(1, item.size() - 2)) != std::string_view::npos;
  if (leading) return value.ends_with(item.substr(1));
  if (trailing) return value.starts_with(item.substr(0, item.size() - 1));
  return value == item;
}

bool InList(const json& value, const std::vector<json>& list) {
  for (const json& item : list) {
    if (item.is_null() || value.is_null()) {
      if (item.is_null() && value.is_null()) return true;
    } else if (item.is_string()) {
      if (value.is_string() && GlobMatch(item.get_ref<const std::string&>(), value.get_ref<const std::string&>())) {
        return true;
      }
    } else if (item == value) {
      return true;
    }
  }
  return false;
}

bool StringInList(std::string_view value, const std::vector<json>& list) {
  for (const json& item : list) {
    if (item.is_string() && GlobMatch(item.get_ref<const std::string&>(), value)) return true;
  }
  return false;
}

std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\v\f";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// Calls `fn` on each trimmed comma-separated part of `s` until it returns false; returns whether
// every call returned true.
template <typename Fn>
bool EveryCommaPart(std::string_view s, Fn fn) {
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    std::string_view part =
        TrimSpace(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!fn(part)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// Vault's valueInAllowedParameterList. A string also counts as its comma-separated parts (clients
// send list fields that way); unlike Vault, an empty string is not vacuously allowed.
bool ValueAllowed(const json& value, const std::vector<json>& list) {
  if (list.empty() || InList(value, list)) return true;
  if (value.is_array()) {
    for (const json& element : value) {
      if (!InList(element, list)) return false;
    }
    return true;
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty()) return false;
    return EveryCommaPart(s, [&](std::string_view part) { return StringInList(part, list); });
  }
  return false;
}

// Vault's valueInDeniedParameterList: any element or comma-separated part denied denies.
bool ValueDenied(const json& value, const std::vector<json>& list) {
  if (list.empty() || InList(value, list)) return true;
  if (value.is_array()) {
    for (const json& element : value) {
      if (InList(element, list)) return true;
    }
    return false;
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty()) return false;
    return !EveryCommaPart(s, [&](std::string_view part) { return !StringInList(part, list); });
  }
  return false;
}

bool ParametersAllowed(const Permissions& p, const json& data) {
  const bool is_object = data.is_object();
  for (const std::string& name : p.required) {
    if (!is_object || data.find(name) == data.end()) return false;
  }
  if (!is_object || data.empty()) return true;
  if (!p.denied.empty()) {
    if (p.denied.find(std::string_view("*")) != p.denied.end()) return false;
    for (auto it = data.begin(); it != data.end(); ++it) {
      auto denied = p.denied.find(std::string_view(it.key()));
      if (denied != p.denied.end() && ValueDenied(it.value(), denied->second)) return false;
    }
  }
  if (p.allowed.empty()) return true;
  const bool allowed_all = p.allowed.find(std::string_view("*")) != p.allowed.end();
  if (allowed_all && p.allowed.size() == 1) return true;
  for (auto it = data.begin(); it != data.end(); ++it) {
    auto allowed = p.allowed.find(std::string_view(it.key()));
    if (allowed == p.allowed.end()) {
      if (!allowed_all) return false;
    } else if (!ValueAllowed(it.value(), allowed->second)) {
      return false;
    }
  }
  return true;
}

uint32_t CapabilityFor(logical::Operation op) {
  switch (op) {
    case logical::Operation::kRead:
      return kRead;
    case logical::Operation::kList:
      return kList;
    case logical::Operation::kCreate:
      return kCreate;
    case logical::Operation::kUpdate:
      return kUpdate;
    case logical::Operation::kPatch:
      return kPatch;
    case logical::Operation::kDelete:
      return kDelete;
    case logical::Operation::kHelp:
      return 0;
  }
  return 0;
}

std::string_view StripLeadingSlashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

}  // namespace

struct Acl::Rules {
  struct PrefixRule {
    std::string prefix;  // the pattern without its '*'
    int parent = -1;     // index of the longest other prefix rule that is a prefix of this one
    Permissions perms;
  };
  struct SegmentRule {
    std::string pattern;                // without a trailing '*' (Vault's wcPath)
    std::vector<std::string> segments;  // pattern split on '/'
    size_t first_wildcard = 0;          // offset of the first '+'
    int wildcards = 0;                  // number of '+' segments
    bool is_prefix = false;             // the pattern ended in '*'
    Permissions perms;
  };
  // A non-exact rule that matched, with what the priority order looks at.
  struct Candidate {
    size_t first_wildcard;
    bool is_prefix;
    int wildcards;
    std::string_view pattern;
    const Permissions* perms;
  };

  std::unordered_map<std::string, Permissions, StringHash, std::equal_to<>> exact;
  std::vector<std::pair<std::string_view, const Permissions*>> exact_sorted;  // for prefix walks
  std::vector<PrefixRule> prefixes;                                           // sorted by prefix
  // The prefixes again, packed into one buffer in the same order: the binary search touches
  // only these bytes, not the rules.
  std::string prefix_arena;
  std::vector<std::string_view> prefix_keys;
  std::vector<SegmentRule> segment_rules;
  // `+` rules indexed by their first segment, which a matching path's first segment must equal
  // (a literal first segment cannot be a trailing-'*' one: a `+` rule has at least two segments
  // unless it is "+" itself). Rules starting with `+` are kept apart and always tried.
  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> segment_rules_by_first;
  std::vector<uint32_t> segment_rules_leading_plus;

  // Vault's ordering: true when `a` has lower priority than `b`.
  static bool LowerPriority(const Candidate& a, const Candidate& b) {
    if (a.first_wildcard != b.first_wildcard) return a.first_wildcard < b.first_wildcard;
    if (a.is_prefix != b.is_prefix) return a.is_prefix;
    if (a.wildcards != b.wildcards) return a.wildcards > b.wildcards;
    if (a.pattern.size() != b.pattern.size()) return a.pattern.size() < b.pattern.size();
    return a.pattern < b.pattern;
  }

  // The longest prefix rule that is a prefix of `path`. The greatest prefix <= path shares some
  // leading characters with it; the answer is that rule or the nearest enclosing one no longer
  // than the shared part.
  const PrefixRule* LongestPrefix(std::string_view path) const {
    auto it = std::upper_bound(prefix_keys.begin(), prefix_keys.end(), path);
    if (it == prefix_keys.begin()) return nullptr;
    int index = static_cast<int>(it - prefix_keys.begin()) - 1;
    std::string_view candidate = prefix_keys[index];
    size_t common = 0;
    size_t limit = std::min(candidate.size(), path.size());
    while (common < limit && candidate[common] == path[common]) ++common;
    while (index >= 0 && prefix_keys[index].size() > common) index = prefixes[index].parent;
    return index >= 0 ? &prefixes[index] : nullptr;
  }

  static bool SegmentMatch(const SegmentRule& rule, std::string_view path, size_t path_segments) {
    const size_t n = rule.segments.size();
    if (path_segments < n) return false;
    if (!rule.is_prefix && path_segments != n) return false;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t slash = path.find('/', start);
      size_t end = slash == std::string_view::npos ? path.size() : slash;
      std::string_view part = path.substr(start, end - start);
      const std::string& want = rule.segments[i];
      if (want != "+" && part != want && !(rule.is_prefix && i == n - 1 && part.starts_with(want))) return false;
      start = end + 1;
    }
    return true;
  }

  const Permissions* FindNonExact(std::string_view path) const {
    const PrefixRule* prefix = LongestPrefix(path);
    if (segment_rules.empty()) return prefix ? &prefix->perms : nullptr;
    Candidate best{};
    bool have = false;
    if (prefix != nullptr) {
      best = Candidate{prefix->prefix.size(), true, 0, prefix->prefix, &prefix->perms};
      have = true;
    }
    const size_t path_segments = static_cast<size_t>(std::count(path.begin(), path.end(), '/')) + 1;
    auto consider = [&](const std::vector<uint32_t>& indexes) {
      for (uint32_t index : indexes) {
        const SegmentRule& rule = segment_rules[index];
        if (!SegmentMatch(rule, path, path_segments)) continue;
        Candidate c{rule.first_wildcard, rule.is_prefix, rule.wildcards, rule.pattern, &rule.perms};
        if (!have || LowerPriority(best, c)) {
          best = c;
          have = true;
        }
      }
    };
    consider(segment_rules_leading_plus);
    if (auto it = segment_rules_by_first.find(path.substr(0, path.find('/'))); it != segment_rules_by_first.end()) {
      consider(it->second);
    }
    return have ? best.perms : nullptr;
  }

  // The rule deciding `path`; `list` adds Vault's LIST fallback to the path without its '/'.
  const Permissions* Find(std::string_view path, bool list) const {
    if (auto it = exact.find(path); it != exact.end()) return &it->second;
    if (list && !path.empty() && path.back() == '/') {
      std::string_view trimmed = path.substr(0, path.size() - 1);
      if (auto it = exact.find(trimmed); it != exact.end()) return &it->second;
      if (const Permissions* p = FindNonExact(trimmed)) return p;
    }
    return FindNonExact(path);
  }
};

Acl::Acl() : rules_(std::make_unique<Rules>()) {}
Acl::~Acl() = default;

std::shared_ptr<const Acl> Acl::Create(const std::vector<std::shared_ptr<const Policy>>& policies,
                                       const IdentityContext* identity) {
  std::shared_ptr<Acl> acl(new Acl());
  for (const auto& policy : policies) {
    if (policy != nullptr && policy->name == "root") {
      acl->root_ = true;
      return acl;
    }
  }

  Rules& rules = *acl->rules_;
  std::map<std::string, Permissions> prefixes;  // sorted: becomes rules.prefixes
  std::map<std::string, Permissions> segments;  // keyed by the full pattern, '*' included
  auto add = [](auto& table, const std::string& key, const PathRules& r) {
    auto it = table.find(key);
    if (it == table.end()) {
      table.emplace(key, FromRules(r));
    } else {
      Merge(r, &it->second);
    }
  };
  auto place = [&](const std::string& pattern, const PathRules& r) {
    if (HasSegmentWildcard(pattern)) {
      add(segments, pattern, r);
    } else if (!pattern.empty() && pattern.back() == '*') {
      add(prefixes, pattern.substr(0, pattern.size() - 1), r);
    } else {
      add(rules.exact, pattern, r);
    }
  };
  for (const auto& policy : policies) {
    if (policy == nullptr) continue;
    for (const PathRules& r : policy->paths) {
      if (!r.templated) {
        place(r.pattern, r);
      } else if (identity != nullptr) {
        if (std::optional<std::string> rendered = RenderTemplate(r.pattern, *identity)) place(*rendered, r);
      }
    }
  }

  rules.exact_sorted.reserve(rules.exact.size());
  for (const auto& [pattern, perms] : rules.exact) rules.exact_sorted.emplace_back(pattern, &perms);
  std::sort(rules.exact_sorted.begin(), rules.exact_sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // In sorted order every enclosing prefix of an entry comes before it, forming a chain on the
  // stack.
  std::vector<int> chain;
  rules.prefixes.reserve(prefixes.size());
  for (auto& [prefix, perms] : prefixes) {
    while (!chain.empty() && !std::string_view(prefix).starts_with(rules.prefixes[chain.back()].prefix)) {
      chain.pop_back();
    }
    Rules::PrefixRule entry;
    entry.prefix = prefix;
    entry.parent = chain.empty() ? -1 : chain.back();
    entry.perms = std::move(perms);
    chain.push_back(static_cast<int>(rules.prefixes.size()));
    rules.prefixes.push_back(std::move(entry));
  }

  size_t arena_size = 0;
  for (const auto& r : rules.prefixes) arena_size += r.prefix.size();
  rules.prefix_arena.reserve(arena_size);  // no reallocation: the views below stay valid
  rules.prefix_keys.reserve(rules.prefixes.size());
  for (const auto& r : rules.prefixes) {
    size_t at = rules.prefix_arena.size();
    rules.prefix_arena += r.prefix;
    rules.prefix_keys.emplace_back(rules.prefix_arena.data() + at, r.prefix.size());
  }

  rules.segment_rules.reserve(segments.size());
  for (auto& [pattern, perms] : segments) {
    Rules::SegmentRule rule;
    rule.is_prefix = pattern.back() == '*';
    rule.pattern = rule.is_prefix ? pattern.substr(0, pattern.size() - 1) : pattern;
    rule.first_wildcard = pattern.find('+');
    size_t start = 0;
    while (true) {
      size_t slash = rule.pattern.find('/', start);
      rule.segments.push_back(
          rule.pattern.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (rule.segments.back() == "+") ++rule.wildcards;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    rule.perms = std::move(perms);
    const uint32_t index = static_cast<uint32_t>(rules.segment_rules.size());
    if (rule.segments.front() == "+") {
      rules.segment_rules_leading_plus.push_back(index);
    } else {
      rules.segment_rules_by_first[rule.segments.front()].push_back(index);
    }
    rules.segment_rules.push_back(std::move(rule));
  }
  return acl;
}

AclResult Acl::Check(std::string_view path, logical::Operation op, const nlohmann::json& request_data,
                     int64_t wrap_ttl_seconds) const {
  if (root_) return AclResult{true, true, kAllCapabilities};
  if (op == logical::Operation::kHelp) return AclResult{true, false, 0};

  path = StripLeadingSlashes(path);
  const Permissions* p = nullptr;
  if (op == logical::Operation::kList && (path.empty() || path.back() != '/')) {
    // Vault's HTTP layer ends every LIST path with '/'; do the same for callers that do not,
    // on the stack for any reasonable path.
    constexpr size_t kStackPath = 512;
    if (path.size() < kStackPath) {
      char buffer[kStackPath];
      path.copy(buffer, path.size());
      buffer[path.size()] = '/';
      p = rules_->Find(std::string_view(buffer, path.size() + 1), /*list=*/true);
    } else {
      std::string slashed(path);
      slashed += '/';
      p = rules_->Find(slashed, /*list=*/true);
    }
  } else {
    p = rules_->Find(path, op == logical::Operation::kList);
  }
  AclResult result;
  if (p == nullptr) return result;
  result.capabilities = p->capabilities;
  result.sudo = (p->capabilities & kSudo) != 0;
  if ((p->capabilities & CapabilityFor(op)) == 0) return result;

  if (p->max_wrapping_ttl > 0 && (wrap_ttl_seconds <= 0 || wrap_ttl_seconds > p->max_wrapping_ttl)) return result;
  if (p->min_wrapping_ttl > 0 && (wrap_ttl_seconds <= 0 || wrap_ttl_seconds < p->min_wrapping_ttl)) return result;
  // Merging can produce bounds no single block could.
  if (p->min_wrapping_ttl > 0 && p->max_wrapping_ttl > 0 && p->max_wrapping_ttl < p->min_wrapping_ttl) return result;

  if (op == logical::Operation::kRead || op == logical::Operation::kCreate || op == logical::Operation::kUpdate ||
      op == logical::Operation::kPatch) {
    if (!ParametersAllowed(*p, request_data)) return result;
  }
  result.allowed = true;
  return result;
}

size_t Acl::rule_count() const { return rules_->exact.size() + rules_->prefixes.size() + rules_->segment_rules.size(); }

uint32_t Acl::Capabilities(std::string_view path) const {
  if (root_) return kAllCapabilities;
  const Permissions* p = rules_->Find(StripLeadingSlashes(path), /*list=*/true);
  return p == nullptr ? 0 : p->capabilities;
}

std::vector<std::string> Acl::CapabilityNamesFor(std::string_view path) const {
  if (root_) return {"root"};
  uint32_t capabilities = Capabilities(path);
  if (!Grants(capabilities)) return {"deny"};
  return CapabilityNames(capabilities);
}

bool Acl::HasMountAccess(std::string_view mount_path) const {
  if (root_) return true;
  std::string path(StripLeadingSlashes(mount_path));
  if (path.empty() || path.back() != '/') path += '/';
  if (Grants(Capabilities(path))) return true;

  // Any granting exact or prefix rule at or below the mount.
  const Rules& rules = *rules_;
  auto exact = std::lower_bound(
      rules.exact_sorted.begin(), rules.exact_sorted.end(), std::string_view(path),
      [](const std::pair<std::string_view, const Permissions*>& e, std::string_view p) { return e.first < p; });
  for (; exact != rules.exact_sorted.end() && exact->first.starts_with(path); ++exact) {
    if (Grants(exact->second->capabilities)) return true;
  }
  auto prefix = std::lower_bound(rules.prefixes.begin(), rules.prefixes.end(), std::string_view(path),
                                 [](const Rules::PrefixRule& r, std::string_view p) { return r.prefix < p; });
  for (; prefix != rules.prefixes.end() && std::string_view(prefix->prefix).starts_with(path); ++prefix) {
    if (Grants(prefix->perms.capabilities)) return true;
  }

  // `+` rules, walked as Vault's CheckAllowedFromNonExactPaths does for a bare mount: the rule's
  // leading segments must cover the mount's segments.
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    parts.push_back(
        std::string_view(path).substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (const Rules::SegmentRule& rule : rules.segment_rules) {
    std::vector<std::string_view> matched;
    const size_t n = rule.segments.size();
    for (size_t i = 0; i < n && i < parts.size(); ++i) {
      const std::string& want = rule.segments[i];
      if (want == "+" || want == parts[i]) {
        matched.push_back(parts[i]);
      } else if (rule.is_prefix && i == n - 1 && parts[i].starts_with(want)) {
        matched.insert(matched.end(), parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
      }
      if (i + 2 == parts.size()) {
        std::string joined;
        for (std::string_view m : matched) {
          joined += m;
          joined += '/';
        }
        if (std::string_view(joined).starts_with(path) && Grants(rule.perms.capabilities)) return true;
        break;
      }
    }
  }
  return false;
}

}  // namespace coffer::policy
