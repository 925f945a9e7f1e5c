#include "resolver/export.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/encoding.h"
#include "formats/dotenv/parser.h"

namespace coffer::resolver {
namespace {

bool IsEnvLike(const Resolved& r) { return r.found && r.spec->source != SourceKind::kFile; }
bool IsFile(const Resolved& r) { return r.found && r.spec->source == SourceKind::kFile; }

std::string Basename(const std::string& p) { return std::filesystem::path(p).filename().string(); }

// A YAML double-quoted scalar (JSON strings are valid YAML).
std::string YamlString(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

// Lowercase, [a-z0-9_] only: compose secret names.
std::string ComposeName(std::string_view name) {
  std::string out;
  for (char c : name) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_');
  return out;
}

// Kubernetes data keys: [-._a-zA-Z0-9]+.
std::string K8sKey(const std::string& mount_path, const std::string& fallback) {
  std::string b = Basename(mount_path);
  for (char& c : b) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') c = '_';
  }
  return b.empty() ? fallback : b;
}

StatusOr<std::string> Dotenv(const Resolution& res, bool only_env) {
  std::string out;
  for (const auto& r : res.secrets) {
    if (IsEnvLike(r)) {
      ASSIGN_OR_RETURN(std::string line, DotenvLine(r.spec->name, AsStringView(r.value)));
      out += line + "\n";
    } else if (IsFile(r) && !only_env) {
      out += r.spec->name + "_BASE64=" + Base64Encode(AsStringView(r.value)) + "\n";
    }
  }
  return out;
}

std::string Json(const Resolution& res, const ExportOptions& o) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& r : res.secrets) {
    if (IsEnvLike(r)) {
      j[r.spec->name] = std::string(AsStringView(r.value));
    } else if (IsFile(r)) {
      j[r.spec->name] = {{"mountPath", r.spec->mount_path},
                         {"permissions", FormatPermissions(r.spec->permissions)},
                         {"base64", Base64Encode(AsStringView(r.value))}};
    }
  }
  return j.dump(2) + "\n";
}

std::string Shell(const Resolution& res) {
  std::string out;
  for (const auto& r : res.secrets) {
    if (IsEnvLike(r)) {
      out += "export " + r.spec->name + "=" + ShellQuote(AsStringView(r.value)) + "\n";
    } else if (IsFile(r)) {
      out += "export " + r.spec->name + "_BASE64=" + ShellQuote(Base64Encode(AsStringView(r.value))) + "\n";
    }
  }
  return out;
}

std::string K8s(const Resolution& res, const ExportOptions& o) {
  std::string env = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + o.name + "-secrets\ntype: Opaque\ndata:\n";
  std::string files = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + o.name + "-files\ntype: Opaque\ndata:\n";
  bool any_env = false, any_file = false;
  std::set<std::string> file_keys;
  for (const auto& r : res.secrets) {
    if (IsEnvLike(r)) {
      env += "  " + r.spec->name + ": " + Base64Encode(AsStringView(r.value)) + "\n";
      any_env = true;
    } else if (IsFile(r)) {
      std::string key = K8sKey(r.spec->mount_path, r.spec->name);
      if (!file_keys.insert(key).second) key = r.spec->name + "-" + key;  // two files, one name
      file_keys.insert(key);
      files += "  " + key + ": " + Base64Encode(AsStringView(r.value)) + "\n";
      any_file = true;
    }
  }
  if (!any_env) env += "  {}\n";
  std::string out = env;
  if (!any_env) out.replace(out.find("data:\n  {}\n"), 11, "data: {}\n");
  if (any_file) out += "---\n" + files;
  return out;
}

std::string Compose(const Resolution& res, const ExportOptions& o) {
  std::string svc = "services:\n  " + o.name + ":\n    env_file:\n      - " + o.env_file + "\n";
  std::string top;
  std::string refs;
  for (const auto& r : res.secrets) {
    if (!IsFile(r)) continue;
    std::string n = ComposeName(r.spec->name);
    refs += "      - source: " + n + "\n        target: " + YamlString(r.spec->mount_path) +
            "\n        mode: " + FormatPermissions(r.spec->permissions) + "\n";
    top += "  " + n + ":\n    file: " + YamlString(ResolveRelative(o.config_dir, r.spec->path)) + "\n";
  }
  if (!refs.empty()) svc += "    secrets:\n" + refs;
  if (!top.empty()) svc += "secrets:\n" + top;
  return svc;
}

std::string Fly(const Resolution& res) {
  std::string out;
  for (const auto& r : res.secrets) {
    if (IsEnvLike(r)) {
      std::string_view v = AsStringView(r.value);
      if (v.find('\n') != std::string_view::npos) {
        out += r.spec->name + "=\"\"\"" + std::string(v) + "\"\"\"\n";
      } else {
        out += r.spec->name + "=" + std::string(v) + "\n";
      }
    } else if (IsFile(r)) {
      out += r.spec->name + "_BASE64=" + Base64Encode(AsStringView(r.value)) + "\n";
    }
  }
  return out;
}

std::string Devcontainer(const Resolution& res, const ExportOptions& o) {
  nlohmann::ordered_json env = nlohmann::ordered_json::object();
  nlohmann::ordered_json mounts = nlohmann::ordered_json::array();
  for (const auto& r : res.secrets) {
    if (IsEnvLike(r)) {
      env[r.spec->name] = "${localEnv:" + r.spec->name + "}";
    } else if (IsFile(r)) {
      mounts.push_back("source=" + ResolveRelative(o.config_dir, r.spec->path) + ",target=" + r.spec->mount_path +
                       ",type=bind,readonly");
    }
  }
  nlohmann::ordered_json j = {{"containerEnv", env}, {"mounts", mounts}};
  return j.dump(2) + "\n";
}

}  // namespace

const std::vector<std::string>& ExportFormats() {
  static const std::vector<std::string> kFormats = {"dotenv", "json", "shell", "k8s", "compose", "fly", "devcontainer"};
  return kFormats;
}

StatusOr<std::string> DotenvLine(std::string_view name, std::string_view value) {
  // Candidates in order of preference; each is accepted only if dotenvx's grammar, expansion
  // included, reads it back as exactly `value`. Single quotes are literal; in double quotes and
  // backticks `$` must be written `\$` to stay literal.
  std::string escaped;
  for (char c : value) {
    if (c == '$') escaped.push_back('\\');
    escaped.push_back(c);
  }
  const std::string n(name);
  const std::string candidates[] = {
      n + "='" + std::string(value) + "'",
      n + "=\"" + escaped + "\"",
      n + "=`" + escaped + "`",
      n + "=" + escaped,
  };
  for (const std::string& line : candidates) {
    dotenv::Document doc = dotenv::Document::Parse(line + "\n");
    if (doc.entries().size() != 1 || doc.entries()[0].key != name) continue;
    dotenv::Resolved r = dotenv::Resolve(doc, dotenv::ResolveOptions{});
    const std::string* got = r.Get(name);
    if (got != nullptr && *got == value) return line;
  }
  return InvalidArgument("the value of " + n + " cannot be written in any dotenv quoting");
}

StatusOr<std::string> Export(const Resolution& res, const ExportOptions& o) {
  if (o.format == "dotenv") return Dotenv(res, false);
  if (o.format == "json") return Json(res, o);
  if (o.format == "shell") return Shell(res);
  if (o.format == "k8s") return K8s(res, o);
  if (o.format == "compose") return Compose(res, o);
  if (o.format == "fly") return Fly(res);
  if (o.format == "devcontainer") return Devcontainer(res, o);
  std::string all;
  for (const auto& f : ExportFormats()) all += (all.empty() ? "" : ", ") + f;
  return InvalidArgument("unknown export format \"" + o.format + "\" (expected " + all + ")");
}

// Used by compose export: the env_file content (env secrets only).
StatusOr<std::string> ExportEnvFileForCompose(const Resolution& res) { return Dotenv(res, true); }

}  // namespace coffer::resolver
