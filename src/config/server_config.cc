#include "config/server_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "hcl/hcl.h"

namespace coffer::config {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Where a setting or section was written: a line in an HCL file, or a key path in a JSON file.
struct Origin {
  std::string file;
  bool json = false;
  int line = 0;      // HCL only
  std::string path;  // JSON only: the containing object's key path, e.g. "listener[0].tcp"
};

// One `key = value`. JSON values keep only their kind when they are lists or objects, which is
// all the checks below need (every known setting is a scalar).
struct Setting {
  std::string key;
  hcl::Value value;
  Origin origin;
};

// A `storage "sqlite" { ... }`, `backend "..."` or `listener "tcp" { ... }` block.
struct Section {
  std::string kind;
  std::string label;
  Origin origin;  // JSON: the path of the block itself
  std::vector<Setting> settings;
};

// Both syntaxes are first reduced to this, so one interpreter serves HCL and JSON.
struct Document {
  std::vector<Setting> settings;
  std::vector<Section> sections;
};

bool IsSectionKind(std::string_view key) { return key == "storage" || key == "backend" || key == "listener"; }

// At most max_bytes of s, cut at a UTF-8 boundary so messages stay valid UTF-8.
std::string Clip(std::string_view s, size_t max_bytes = 60) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

std::string Quote(std::string_view s) { return "\"" + Clip(s) + "\""; }

std::string JoinPath(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string Where(const Origin& o) { return o.json ? o.file : o.file + ":" + std::to_string(o.line); }

// `server.hcl:7: listener "tcp": tls_min_version <what>` or `server.json: listener[0].tcp.tls_min_version <what>`.
Status FieldError(const Setting& s, std::string_view context, std::string_view what) {
  if (s.origin.json) {
    return InvalidArgument(s.origin.file + ": " + JoinPath(s.origin.path, s.key) + " " + std::string(what));
  }
  std::string prefix = Where(s.origin) + ": ";
  if (!context.empty()) prefix += std::string(context) + ": ";
  return InvalidArgument(prefix + s.key + " " + std::string(what));
}

Status SectionError(const Section& sec, std::string_view what) {
  if (sec.origin.json) return InvalidArgument(sec.origin.file + ": " + sec.origin.path + ": " + std::string(what));
  return InvalidArgument(Where(sec.origin) + ": " + std::string(what));
}

std::string UnknownKeyWarning(const Setting& s, std::string_view context) {
  if (s.origin.json) return s.origin.file + ": unknown key " + Quote(JoinPath(s.origin.path, s.key)) + " ignored";
  std::string prefix = Where(s.origin) + ": ";
  if (!context.empty()) prefix += std::string(context) + ": ";
  return prefix + "unknown key " + Quote(s.key) + " ignored";
}

std::string Got(const hcl::Value& v) {
  if (v.kind == hcl::Value::Kind::kString) return "got " + Quote(v.string_value);
  return std::string("got a ") + v.TypeName();
}

StatusOr<std::string> StringField(const Setting& s, std::string_view context) {
  if (s.value.kind != hcl::Value::Kind::kString) return FieldError(s, context, "must be a string, " + Got(s.value));
  return s.value.string_value;
}

// true/false, 1/0, or the strings Go's strconv.ParseBool accepts (Vault parses these fields so).
StatusOr<bool> BoolField(const Setting& s, std::string_view context) {
  const hcl::Value& v = s.value;
  if (v.kind == hcl::Value::Kind::kBool) return v.bool_value;
  if (v.kind == hcl::Value::Kind::kInt && (v.int_value == 0 || v.int_value == 1)) return v.int_value == 1;
  if (v.kind == hcl::Value::Kind::kString) {
    static constexpr std::string_view kTrue[] = {"1", "t", "T", "true", "True", "TRUE"};
    static constexpr std::string_view kFalse[] = {"0", "f", "F", "false", "False", "FALSE"};
    if (std::find(std::begin(kTrue), std::end(kTrue), v.string_value) != std::end(kTrue)) return true;
    if (std::find(std::begin(kFalse), std::end(kFalse), v.string_value) != std::end(kFalse)) return false;
  }
  std::string got = v.kind == hcl::Value::Kind::kInt ? "got " + std::to_string(v.int_value) : Got(v);
  return FieldError(s, context, "must be true or false, " + got);
}

// A Vault duration ("768h", "30m", "1h30m") or a whole number of seconds; never negative.
StatusOr<int64_t> DurationField(const Setting& s, std::string_view context) {
  const hcl::Value& v = s.value;
  int64_t seconds = 0;
  if (v.kind == hcl::Value::Kind::kInt) {
    seconds = v.int_value;
  } else if (v.kind == hcl::Value::Kind::kString) {
    StatusOr<int64_t> parsed = ParseDurationSeconds(v.string_value);
    if (!parsed.ok()) {
      return FieldError(s, context,
                        "must be a duration such as \"768h\" or \"30m\", or a number of seconds, " + Got(v));
    }
    seconds = *parsed;
  } else {
    return FieldError(s, context, "must be a duration such as \"768h\" or \"30m\", or a number of seconds, " + Got(v));
  }
  if (seconds < 0) return FieldError(s, context, "must not be negative");
  return seconds;
}

StatusOr<std::string> OneOfField(const Setting& s, std::string_view context,
                                 const std::vector<std::string_view>& allowed) {
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  if (s.value.kind == hcl::Value::Kind::kString &&
      std::find(allowed.begin(), allowed.end(), s.value.string_value) != allowed.end()) {
    return s.value.string_value;
  }
  return FieldError(s, context, "must be one of " + list + ", " + Got(s.value));
}

// host:port with a numeric port; IPv6 hosts in brackets ("[::]:8200"); an empty host means all.
bool IsHostPort(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  int port_number = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    port_number = port_number * 10 + (c - '0');
  }
  if (port_number > 65535) return false;
  if (!host.empty() && host.front() == '[') return host.size() > 2 && host.back() == ']';
  return host.find_first_of(":[] \t/") == std::string_view::npos;
}

StatusOr<ListenerConfig> InterpretListener(const Section& sec, std::vector<std::string>* warnings) {
  ListenerConfig listener;
  listener.source = sec.origin.json ? sec.origin.file + ": " + sec.origin.path : Where(sec.origin);
  if (sec.label != "tcp") {
    return SectionError(sec, "listener type " + Quote(sec.label) + " is not supported (supported: tcp)");
  }
  const std::string context = "listener " + Quote(sec.label);
  for (const Setting& s : sec.settings) {
    if (s.key == "address") {
      ASSIGN_OR_RETURN(listener.address, StringField(s, context));
      if (!IsHostPort(listener.address)) {
        return FieldError(s, context, "must be host:port such as \"0.0.0.0:8200\", " + Got(s.value));
      }
    } else if (s.key == "tls_disable") {
      ASSIGN_OR_RETURN(listener.tls_disable, BoolField(s, context));
    } else if (s.key == "tls_cert_file") {
      ASSIGN_OR_RETURN(listener.tls_cert_file, StringField(s, context));
    } else if (s.key == "tls_key_file") {
      ASSIGN_OR_RETURN(listener.tls_key_file, StringField(s, context));
    } else if (s.key == "tls_min_version") {
      ASSIGN_OR_RETURN(listener.tls_min_version, OneOfField(s, context, {"tls10", "tls11", "tls12", "tls13"}));
    } else if (s.key == "cluster_address") {
      // Vault's cluster port; Coffer has no cluster listener, so it is accepted and unused.
    } else {
      warnings->push_back(UnknownKeyWarning(s, context));
    }
  }
  if (!listener.tls_disable) {
    auto missing = [&](std::string_view field) {
      return SectionError(sec, context + ": " + std::string(field) +
                                   " is required when TLS is enabled (set tls_disable = true to serve plain HTTP)");
    };
    if (listener.tls_cert_file.empty()) return missing("tls_cert_file");
    if (listener.tls_key_file.empty()) return missing("tls_key_file");
  }
  return listener;
}

StatusOr<StorageConfig> InterpretStorage(const Section& sec, std::vector<std::string>* warnings) {
  StorageConfig storage;
  storage.source = sec.origin.json ? sec.origin.file + ": " + sec.origin.path : Where(sec.origin);
  storage.type = sec.label;
  if (sec.label != "sqlite" && sec.label != "inmem" && sec.label != "file") {
    return SectionError(sec, sec.kind + " type " + Quote(sec.label) + " is not supported (supported: sqlite, inmem, file)");
  }
  const std::string context = sec.kind + " " + Quote(sec.label);
  for (const Setting& s : sec.settings) {
    const hcl::Value& v = s.value;
    std::string text;
    switch (v.kind) {
      case hcl::Value::Kind::kString: text = v.string_value; break;
      case hcl::Value::Kind::kBool: text = v.bool_value ? "true" : "false"; break;
      case hcl::Value::Kind::kInt: text = std::to_string(v.int_value); break;
      case hcl::Value::Kind::kFloat: {
        std::ostringstream out;
        out << v.float_value;
        text = out.str();
        break;
      }
      default: return FieldError(s, context, "must be a string, number or bool, " + Got(v));
    }
    storage.options[s.key] = std::move(text);
  }
  if (storage.type != "inmem") {
    auto path = storage.options.find("path");
    if (path == storage.options.end() || path->second.empty()) {
      return SectionError(sec, context + ": path is required");
    }
    if (storage.type == "file") {
      // Vault's file backend keeps a directory tree; Coffer keeps the same data in one SQLite
      // database inside that directory, so existing configs work unchanged.
      std::string dir = path->second;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      path->second = (dir == "/" ? "" : dir) + "/coffer.db";
      storage.type = "sqlite";
      warnings->push_back((sec.origin.json ? sec.origin.file + ": " + sec.origin.path : Where(sec.origin)) + ": " +
                          context + " is served by the embedded SQLite store at " + path->second);
    }
  }
  return storage;
}

StatusOr<ServerConfig> Interpret(const Document& doc) {
  ServerConfig config;
  for (const Setting& s : doc.settings) {
    const std::string_view key = s.key;
    if (key == "api_addr") {
      ASSIGN_OR_RETURN(config.api_addr, StringField(s, ""));
    } else if (key == "cluster_addr") {
      continue;  // accepted for compatibility; Coffer has no cluster port
    } else if (key == "disable_mlock") {
      ASSIGN_OR_RETURN(config.disable_mlock, BoolField(s, ""));
    } else if (key == "ui") {
      ASSIGN_OR_RETURN(config.ui, BoolField(s, ""));
    } else if (key == "default_lease_ttl" || key == "max_lease_ttl") {
      ASSIGN_OR_RETURN(int64_t seconds, DurationField(s, ""));
      // Like Vault, zero means "not set": the built-in default stays.
      if (seconds == 0) continue;
      (key == "default_lease_ttl" ? config.default_lease_ttl : config.max_lease_ttl) = seconds;
    } else if (key == "log_level") {
      hcl::Value lowered = s.value;
      if (lowered.kind == hcl::Value::Kind::kString) {
        std::string& text = lowered.string_value;
        text.erase(0, text.find_first_not_of(" \t"));
        text.erase(text.find_last_not_of(" \t") + 1);
        std::transform(text.begin(), text.end(), text.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      }
      Setting normalized{s.key, std::move(lowered), s.origin};
      ASSIGN_OR_RETURN(config.log_level,
                       OneOfField(normalized, "", {"trace", "debug", "info", "warn", "err", "error"}));
      if (config.log_level == "err") config.log_level = "error";
    } else {
      config.warnings.push_back(UnknownKeyWarning(s, ""));
      continue;
    }
    config.explicit_keys.insert(s.key);
  }

  const Section* first_storage = nullptr;
  for (const Section& sec : doc.sections) {
    if (sec.kind == "listener") {
      ASSIGN_OR_RETURN(ListenerConfig listener, InterpretListener(sec, &config.warnings));
      config.listeners.push_back(std::move(listener));
      continue;
    }
    if (first_storage != nullptr) {
      std::string first = first_storage->origin.json ? first_storage->origin.path : Where(first_storage->origin);
      return SectionError(sec, "only one storage block is allowed; the first is at " + first);
    }
    first_storage = &sec;
    ASSIGN_OR_RETURN(config.storage, InterpretStorage(sec, &config.warnings));
  }
  return config;
}

// ---- HCL front end ----

// The value recorded for a block we do not interpret (e.g. `telemetry {}`): an empty object, so
// the setting is reported as unknown or ignored with its position like any attribute.
hcl::Value BlockMarker() {
  hcl::Value v;
  v.kind = hcl::Value::Kind::kObject;
  return v;
}

StatusOr<Document> DocumentFromHcl(std::string_view text, std::string_view filename) {
  ASSIGN_OR_RETURN(hcl::Body body, hcl::Parse(text, filename));
  Document doc;
  auto origin = [&](hcl::Position p) { return Origin{std::string(filename), false, p.line, ""}; };
  for (const hcl::Attribute& a : body.attributes) {
    if (IsSectionKind(a.key)) {
      return InvalidArgument(Where(origin(a.pos)) + ": " + a.key + " must be a block, as in " + a.key +
                             (a.key == "listener" ? " \"tcp\"" : " \"sqlite\"") + " { ... }");
    }
    doc.settings.push_back(Setting{a.key, a.value, origin(a.pos)});
  }
  for (const hcl::Block& b : body.blocks) {
    if (!IsSectionKind(b.type)) {
      doc.settings.push_back(Setting{b.type, BlockMarker(), origin(b.pos)});
      continue;
    }
    if (b.labels.size() != 1) {
      return InvalidArgument(Where(origin(b.pos)) + ": a " + b.type + " block needs exactly one label, its type, as in " +
                             b.type + (b.type == "listener" ? " \"tcp\"" : " \"sqlite\"") + " { ... }");
    }
    Section sec{b.type, b.labels[0], origin(b.pos), {}};
    for (const hcl::Attribute& a : b.body.attributes) sec.settings.push_back(Setting{a.key, a.value, origin(a.pos)});
    for (const hcl::Block& nested : b.body.blocks) {
      sec.settings.push_back(Setting{nested.type, BlockMarker(), origin(nested.pos)});
    }
    // Attributes and nested blocks were gathered separately; restore source order.
    std::stable_sort(sec.settings.begin(), sec.settings.end(), [](const Setting& x, const Setting& y) {
      return x.origin.line < y.origin.line;
    });
    doc.sections.push_back(std::move(sec));
  }
  std::stable_sort(doc.settings.begin(), doc.settings.end(),
                   [](const Setting& x, const Setting& y) { return x.origin.line < y.origin.line; });
  std::stable_sort(doc.sections.begin(), doc.sections.end(),
                   [](const Section& x, const Section& y) { return x.origin.line < y.origin.line; });
  return doc;
}

// ---- JSON front end ----

// The scalar itself, or just the kind for lists and objects.
hcl::Value ValueFromJson(const OrderedJson& j) {
  hcl::Value v;
  switch (j.type()) {
    case OrderedJson::value_t::boolean:
      v.kind = hcl::Value::Kind::kBool;
      v.bool_value = j.get<bool>();
      break;
    case OrderedJson::value_t::number_integer:
      v.kind = hcl::Value::Kind::kInt;
      v.int_value = j.get<int64_t>();
      break;
    case OrderedJson::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) {
        v.kind = hcl::Value::Kind::kInt;
        v.int_value = static_cast<int64_t>(u);
      } else {
        v.kind = hcl::Value::Kind::kFloat;
        v.float_value = static_cast<double>(u);
      }
      break;
    }
    case OrderedJson::value_t::number_float:
      v.kind = hcl::Value::Kind::kFloat;
      v.float_value = j.get<double>();
      break;
    case OrderedJson::value_t::string:
      v.kind = hcl::Value::Kind::kString;
      v.string_value = j.get<std::string>();
      break;
    case OrderedJson::value_t::array: v.kind = hcl::Value::Kind::kList; break;
    case OrderedJson::value_t::object: v.kind = hcl::Value::Kind::kObject; break;
    default: break;  // null, binary, discarded
  }
  return v;
}

Status AddJsonSection(const std::string& kind, const std::string& label, const OrderedJson& body,
                      const std::string& path, std::string_view filename, Document* doc) {
  Origin origin{std::string(filename), true, 0, path};
  if (!body.is_object()) return InvalidArgument(origin.file + ": " + path + " must be an object");
  Section sec{kind, label, origin, {}};
  for (const auto& [key, value] : body.items()) sec.settings.push_back(Setting{key, ValueFromJson(value), origin});
  doc->sections.push_back(std::move(sec));
  return OkStatus();
}

// {"tcp": {...}} or {"tcp": [{...}, ...]}: one section per inner object.
Status AddJsonSectionsFromObject(const std::string& kind, const OrderedJson& object, const std::string& path,
                                 std::string_view filename, Document* doc) {
  for (const auto& [label, body] : object.items()) {
    std::string label_path = path + "." + Clip(label);
    if (body.is_array()) {
      for (size_t i = 0; i < body.size(); ++i) {
        RETURN_IF_ERROR(AddJsonSection(kind, label, body[i], label_path + "[" + std::to_string(i) + "]", filename, doc));
      }
    } else {
      RETURN_IF_ERROR(AddJsonSection(kind, label, body, label_path, filename, doc));
    }
  }
  return OkStatus();
}

StatusOr<Document> DocumentFromJson(std::string_view text, std::string_view filename) {
  const std::string file(filename);
  OrderedJson root;
  try {
    root = OrderedJson::parse(text.begin(), text.end());
  } catch (const OrderedJson::parse_error& e) {
    // Report the position ourselves: nlohmann's message quotes the text read so far.
    size_t byte = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    int line = 1, column = 1;
    for (size_t i = 0; i < byte; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
    std::string what = e.what();
    size_t start = what.find(": ", what.find("column"));
    size_t end = what.find("; last read");
    std::string detail = start != std::string::npos && end != std::string::npos && end > start
                             ? ": " + what.substr(start + 2, end - start - 2)
                             : "";
    return InvalidArgument(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON" +
                           detail);
  } catch (const OrderedJson::exception&) {
    return InvalidArgument(file + ": invalid JSON");
  }
  if (!root.is_object()) return InvalidArgument(file + ": the configuration must be a JSON object");

  Document doc;
  for (const auto& [key, value] : root.items()) {
    if (!IsSectionKind(key)) {
      doc.settings.push_back(Setting{key, ValueFromJson(value), Origin{file, true, 0, ""}});
      continue;
    }
    if (value.is_object()) {
      RETURN_IF_ERROR(AddJsonSectionsFromObject(key, value, key, filename, &doc));
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        std::string path = key + "[" + std::to_string(i) + "]";
        if (!value[i].is_object()) return InvalidArgument(file + ": " + path + " must be an object");
        RETURN_IF_ERROR(AddJsonSectionsFromObject(key, value[i], path, filename, &doc));
      }
    } else {
      return InvalidArgument(file + ": " + key + " must be an object such as {\"" +
                             (key == "listener" ? "tcp" : "sqlite") + "\": {...}} or a list of them");
    }
  }
  return doc;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read config file \"" + path + "\": " + std::strerror(errno));
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) {
      return InvalidArgument("config file \"" + path + "\" is larger than " +
                             std::to_string(kMaxConfigFileBytes >> 20) + " MiB");
    }
  }
  if (in.bad()) return InvalidArgument("cannot read config file \"" + path + "\"");
  return text;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

StatusOr<ServerConfig> ParseConfig(std::string_view text, std::string_view filename, bool json) {
  if (text.size() > kMaxConfigFileBytes) {
    return InvalidArgument(std::string(filename) + ": config is larger than " +
                           std::to_string(kMaxConfigFileBytes >> 20) + " MiB");
  }
  if (json) {
    ASSIGN_OR_RETURN(Document doc, DocumentFromJson(text, filename));
    return Interpret(doc);
  }
  ASSIGN_OR_RETURN(Document doc, DocumentFromHcl(text, filename));
  return Interpret(doc);
}

StatusOr<ServerConfig> LoadConfigFile(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    return ParseConfig(text, path, EndsWith(path, ".json"));
  }
  std::vector<std::string> files;
  fs::directory_iterator it(path, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().string();
    if ((EndsWith(name, ".hcl") || EndsWith(name, ".json")) && it->is_regular_file(ec)) files.push_back(name);
  }
  if (ec) return InvalidArgument("cannot read config directory \"" + path + "\": " + ec.message());
  if (files.empty()) return InvalidArgument("config directory \"" + path + "\" has no .hcl or .json files");
  std::sort(files.begin(), files.end());
  std::optional<ServerConfig> merged;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(ServerConfig one, LoadConfigFile(file));
    merged = merged ? MergeConfigs(std::move(*merged), one) : std::move(one);
  }
  return *std::move(merged);
}

ServerConfig MergeConfigs(ServerConfig a, const ServerConfig& b) {
  auto set_in_b = [&](const char* key) { return b.explicit_keys.count(key) > 0; };
  if (set_in_b("api_addr")) a.api_addr = b.api_addr;
  if (set_in_b("disable_mlock")) a.disable_mlock = b.disable_mlock;
  if (set_in_b("default_lease_ttl")) a.default_lease_ttl = b.default_lease_ttl;
  if (set_in_b("max_lease_ttl")) a.max_lease_ttl = b.max_lease_ttl;
  if (set_in_b("log_level")) a.log_level = b.log_level;
  if (set_in_b("ui")) a.ui = b.ui;
  if (b.storage) a.storage = b.storage;
  a.listeners.insert(a.listeners.end(), b.listeners.begin(), b.listeners.end());
  a.warnings.insert(a.warnings.end(), b.warnings.begin(), b.warnings.end());
  a.explicit_keys.insert(b.explicit_keys.begin(), b.explicit_keys.end());
  return a;
}

}  // namespace coffer::config
