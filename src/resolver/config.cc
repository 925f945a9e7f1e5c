#include "resolver/config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace coffer::resolver {
namespace {

namespace fs = std::filesystem;

// Both spellings of every per-secret key map to one canonical name.
const std::map<std::string, std::string>& KeyAliases() {
  static const std::map<std::string, std::string> kAliases = {
      {"name", "name"},
      {"source", "source"},
      {"required", "required"},
      {"description", "description"},
      {"fromFile", "fromFile"},
      {"from_file", "fromFile"},
      {"path", "path"},
      {"mountPath", "mountPath"},
      {"mount_path", "mountPath"},
      {"permissions", "permissions"},
      {"vaultPath", "vaultPath"},
      {"vault_path", "vaultPath"},
      {"vaultKey", "vaultKey"},
      {"vault_key", "vaultKey"},
      {"vaultMount", "vaultMount"},
      {"vault_mount", "vaultMount"},
      {"s3_path", "s3_path"},
      {"s3Path", "s3_path"},
      {"fallback", "fallback"},
  };
  return kAliases;
}

int LineOf(const YAML::Node& n) { return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

std::string Where(const std::string& file, int line) { return line > 0 ? file + ":" + std::to_string(line) : file; }

bool IsEnvName(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!start(s[0])) return false;
  for (char c : s) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool HasDotDot(std::string_view p) {
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (p.substr(i, j - i) == "..") return true;
    i = j + 1;
  }
  return false;
}

// Parses one entry of the secrets list.
class SecretParser {
 public:
  SecretParser(const std::string& file, const EnvLookup& env) : file_(file), env_(env) {}

  StatusOr<SecretSpec> Parse(const YAML::Node& item, size_t index) {
    SecretSpec s;
    s.line = LineOf(item);
    if (!item.IsMap()) {
      return InvalidArgument(Where(file_, s.line) + ": secrets[" + std::to_string(index) +
                             "]: expected a mapping with at least `name` and `source`");
    }
    // The name first, so every later message can name the secret.
    std::map<std::string, YAML::Node> fields;
    for (auto it = item.begin(); it != item.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      auto alias = KeyAliases().find(key);
      if (alias == KeyAliases().end()) {
        label_ = Label(item, index);
        return Err(it->first, key.empty() ? "?" : key,
                   "unknown field (expected name, source, required, description, fromFile, path, mountPath, "
                   "permissions, vaultPath, vaultKey, vaultMount, s3_path, fallback)");
      }
      if (fields.count(alias->second)) {
        label_ = Label(item, index);
        return Err(it->first, key, "given twice");
      }
      fields[alias->second] = it->second;
    }
    label_ = Label(item, index);
    auto get = [&](const char* k) -> const YAML::Node* {
      auto it = fields.find(k);
      return it == fields.end() ? nullptr : &it->second;
    };

    if (!get("name")) return Err(item, "name", "missing");
    ASSIGN_OR_RETURN(s.name, Str(*get("name"), "name"));
    if (!IsEnvName(s.name)) {
      return Err(*get("name"), "name",
                 "must be an environment variable name (letters, digits and _, not starting with a digit)");
    }
    if (!get("source")) return Err(item, "source", "missing (expected env, file, vault or s3)");
    ASSIGN_OR_RETURN(std::string source, Str(*get("source"), "source"));
    auto kind = ParseSourceName(source);
    if (!kind)
      return Err(*get("source"), "source", "unknown source \"" + source + "\" (expected env, file, vault or s3)");
    s.source = *kind;
    if (const YAML::Node* n = get("required")) {
      ASSIGN_OR_RETURN(s.required, Bool(*n, "required"));
    }
    if (const YAML::Node* n = get("description")) {
      ASSIGN_OR_RETURN(s.description, Str(*n, "description"));
    }
    if (const YAML::Node* n = get("fromFile")) {
      ASSIGN_OR_RETURN(s.from_file, Templated(*n, "fromFile"));
      if (HasDotDot(s.from_file)) return Err(*n, "fromFile", "must not contain '..' components");
    }
    if (const YAML::Node* n = get("path")) {
      ASSIGN_OR_RETURN(s.path, Templated(*n, "path"));
      if (HasDotDot(s.path)) return Err(*n, "path", "must not contain '..' components");
    }
    if (const YAML::Node* n = get("mountPath")) {
      ASSIGN_OR_RETURN(s.mount_path, Templated(*n, "mountPath"));
      if (HasDotDot(s.mount_path)) return Err(*n, "mountPath", "must not contain '..' components");
    }
    if (const YAML::Node* n = get("permissions")) {
      ASSIGN_OR_RETURN(std::string p, Str(*n, "permissions"));
      bool octal = p.size() >= 3 && p.size() <= 4 && p.find_first_not_of("01234567") == std::string::npos;
      if (octal) s.permissions = static_cast<unsigned>(std::stoul(p, nullptr, 8));
      if (!octal || s.permissions > 0777) {
        return Err(*n, "permissions", "expected an octal string such as \"0600\" (got \"" + p + "\")");
      }
    }
    if (const YAML::Node* n = get("vaultPath")) {
      ASSIGN_OR_RETURN(s.vault_path, Templated(*n, "vaultPath"));
      while (!s.vault_path.empty() && s.vault_path.front() == '/') s.vault_path.erase(0, 1);
      while (!s.vault_path.empty() && s.vault_path.back() == '/') s.vault_path.pop_back();
      if (s.vault_path.empty()) return Err(*n, "vaultPath", "must not be empty");
      if (HasDotDot(s.vault_path)) return Err(*n, "vaultPath", "must not contain '..' components");
    }
    if (const YAML::Node* n = get("vaultKey")) {
      ASSIGN_OR_RETURN(s.vault_key, Str(*n, "vaultKey"));
    }
    if (const YAML::Node* n = get("vaultMount")) {
      ASSIGN_OR_RETURN(s.vault_mount, Templated(*n, "vaultMount"));
      while (!s.vault_mount.empty() && s.vault_mount.back() == '/') s.vault_mount.pop_back();
      while (!s.vault_mount.empty() && s.vault_mount.front() == '/') s.vault_mount.erase(0, 1);
      if (s.vault_mount.empty()) return Err(*n, "vaultMount", "must not be empty");
      s.vault_mount_set = true;
    }
    if (const YAML::Node* n = get("s3_path")) {
      ASSIGN_OR_RETURN(s.s3_path, Templated(*n, "s3_path"));
      if (HasDotDot(s.s3_path)) return Err(*n, "s3_path", "must not contain '..' components");
    }
    if (const YAML::Node* n = get("fallback")) {
      ASSIGN_OR_RETURN(std::string f, Str(*n, "fallback"));
      auto fk = ParseSourceName(f);
      if (!fk || *fk == SourceKind::kFile) {
        return Err(*n, "fallback", "unknown fallback \"" + f + "\" (expected env, vault or s3)");
      }
      if (*fk == s.source) return Err(*n, "fallback", "is the same as the source");
      s.fallback = fk;
    }

    // What each source needs.
    auto needs_vault = s.source == SourceKind::kVault || s.fallback == SourceKind::kVault;
    if (s.source == SourceKind::kFile) {
      if (s.path.empty()) return Err(item, "path", "missing (a file secret needs the local `path`)");
      if (s.mount_path.empty()) return Err(item, "mountPath", "missing (a file secret needs `mountPath`)");
    }
    if (needs_vault) {
      if (s.vault_path.empty()) return Err(item, "vaultPath", "missing (a vault secret needs `vaultPath`)");
      if (s.vault_key.empty()) return Err(item, "vaultKey", "missing (a vault secret needs `vaultKey`)");
    }
    return s;
  }

 private:
  std::string Label(const YAML::Node& item, size_t index) {
    YAML::Node n = item["name"];
    if (n.IsDefined() && n.IsScalar() && !n.Scalar().empty()) return "secret " + n.Scalar();
    return "secrets[" + std::to_string(index) + "]";
  }
  Status Err(const YAML::Node& at, const std::string& field, const std::string& what) {
    return InvalidArgument(Where(file_, LineOf(at)) + ": " + label_ + ": " + field + ": " + what);
  }
  StatusOr<std::string> Str(const YAML::Node& n, const std::string& field) {
    if (!n.IsScalar()) return Err(n, field, "expected a string");
    return n.Scalar();
  }
  StatusOr<bool> Bool(const YAML::Node& n, const std::string& field) {
    if (n.IsScalar()) {
      const std::string& v = n.Scalar();
      if (v == "true" || v == "True" || v == "TRUE" || v == "yes") return true;
      if (v == "false" || v == "False" || v == "FALSE" || v == "no") return false;
    }
    return Err(n, field, "expected true or false");
  }
  StatusOr<std::string> Templated(const YAML::Node& n, const std::string& field) {
    ASSIGN_OR_RETURN(std::string raw, Str(n, field));
    return ExpandTemplate(raw, env_, Where(file_, LineOf(n)) + ": " + label_ + ": " + field);
  }

  const std::string& file_;
  const EnvLookup& env_;
  std::string label_;
};

}  // namespace

const char* SourceName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kEnv:
      return "env";
    case SourceKind::kFile:
      return "file";
    case SourceKind::kVault:
      return "vault";
    case SourceKind::kS3:
      return "s3";
  }
  return "?";
}

std::optional<SourceKind> ParseSourceName(std::string_view name) {
  if (name == "env") return SourceKind::kEnv;
  if (name == "file") return SourceKind::kFile;
  if (name == "vault") return SourceKind::kVault;
  if (name == "s3") return SourceKind::kS3;
  return std::nullopt;
}

const SecretSpec* ProjectConfig::Find(std::string_view name) const {
  for (const auto& s : secrets) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

StatusOr<std::string> ExpandTemplate(std::string_view text, const EnvLookup& env, std::string_view what) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return InvalidArgument(std::string(what) + ": unterminated ${ in template");
      }
      std::string name(text.substr(i + 2, close - i - 2));
      if (!IsEnvName(name)) {
        return InvalidArgument(std::string(what) + ": invalid variable name \"${" + name + "}\" in template");
      }
      std::optional<std::string> v = env ? env(name) : std::nullopt;
      if (!v) {
        return InvalidArgument(std::string(what) + ": environment variable " + name + " is not set (used as ${" + name +
                               "})");
      }
      out += *v;
      i = close + 1;
      continue;
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

StatusOr<ProjectConfig> ParseProjectConfig(std::string_view text, const std::string& file, const std::string& dir,
                                           const EnvLookup& env) {
  ProjectConfig cfg;
  cfg.file = file;
  cfg.dir = dir;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(Where(file, e.mark.line >= 0 ? e.mark.line + 1 : 0) + ": invalid YAML: " + e.msg);
  }
  try {
    if (!root.IsDefined() || root.IsNull()) return cfg;
    if (!root.IsMap()) return InvalidArgument(Where(file, LineOf(root)) + ": expected a mapping at the top level");
    if (YAML::Node n = root["name"]; n.IsDefined() && n.IsScalar()) cfg.project_name = n.Scalar();
    YAML::Node secrets = root["secrets"];
    if (!secrets.IsDefined() || secrets.IsNull()) return cfg;
    YAML::Node list;
    if (secrets.IsSequence()) {
      list = secrets;
    } else if (secrets.IsMap()) {
      for (auto it = secrets.begin(); it != secrets.end(); ++it) {
        std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
        if (k != "backend" && k != "secrets") {
          return InvalidArgument(Where(file, LineOf(it->first)) + ": secrets." + k +
                                 ": unknown field (expected `backend` and `secrets`)");
        }
      }
      cfg.has_backend = secrets["backend"].IsDefined() && !secrets["backend"].IsNull();
      list = secrets["secrets"];
      if (!list.IsDefined() || list.IsNull()) return cfg;
      if (!list.IsSequence()) {
        return InvalidArgument(Where(file, LineOf(list)) + ": secrets.secrets: expected a list of secrets");
      }
    } else {
      return InvalidArgument(Where(file, LineOf(secrets)) +
                             ": secrets: expected a list of secrets or a mapping with `backend` and `secrets`");
    }
    SecretParser parser(file, env);
    std::map<std::string, int> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      ASSIGN_OR_RETURN(SecretSpec s, parser.Parse(list[i], i));
      if (auto it = seen.find(s.name); it != seen.end()) {
        return InvalidArgument(Where(file, s.line) + ": secret " + s.name + ": name: duplicate name (first declared" +
                               (it->second > 0 ? " at line " + std::to_string(it->second) : std::string()) + ")");
      }
      seen[s.name] = s.line;
      cfg.secrets.push_back(std::move(s));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(Where(file, e.mark.line >= 0 ? e.mark.line + 1 : 0) + ": " + e.msg);
  }
  return cfg;
}

std::optional<std::string> FindConfigFile(const std::string& start_dir) {
  std::error_code ec;
  fs::path dir = fs::absolute(start_dir.empty() ? fs::path(".") : fs::path(start_dir), ec);
  if (ec) return std::nullopt;
  dir = dir.lexically_normal();
  while (true) {
    for (const char* name : {"coffer.yaml", "sindri.yaml"}) {
      fs::path candidate = dir / name;
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return std::nullopt;
}

StatusOr<ProjectConfig> LoadProjectConfig(const std::string& explicit_file, const std::string& start_dir,
                                          const EnvLookup& env) {
  std::string file = explicit_file;
  if (file.empty()) {
    auto found = FindConfigFile(start_dir);
    if (!found) {
      return NotFound("no coffer.yaml or sindri.yaml found in " + (start_dir.empty() ? std::string(".") : start_dir) +
                      " or its parents (use -c FILE)");
    }
    file = *found;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFound("cannot read config file " + file + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec);
  std::string dir = abs.parent_path().lexically_normal().string();
  std::string shown = explicit_file.empty() ? fs::path(file).filename().string() : file;
  auto cfg = ParseProjectConfig(ss.str(), shown, dir, env);
  if (cfg.ok()) cfg->file = file;
  return cfg;
}

std::string ExpandHome(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  return path;
}

std::string ResolveRelative(const std::string& dir, const std::string& path) {
  std::string p = ExpandHome(path);
  if (!p.empty() && p[0] == '/') return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

std::string FormatPermissions(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

}  // namespace coffer::resolver
