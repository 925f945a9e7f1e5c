#include "keysync/config.h"

#include <cctype>
#include <optional>

#include <toml++/toml.h>

#include "base/file_io.h"

namespace coffer::keysync {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status LineError(size_t line, std::string_view what) {
  return InvalidArgument("line " + std::to_string(line) + ": " + std::string(what));
}

// Reads the string at `key` of `table` (absent: *out unchanged). A value of another type is an
// error naming the dotted key and its line.
Status ReadString(const toml::table& table, std::string_view key, const std::string& where, std::string* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return OkStatus();
  if (const auto* str = node->as_string()) {
    *out = str->get();
    return OkStatus();
  }
  return LineError(node->source().begin.line, where + key.data() + ": expected a string");
}

const toml::table* SubTable(const toml::table* parent, std::string_view key) {
  if (parent == nullptr) return nullptr;
  const toml::node* node = parent->get(key);
  return node == nullptr ? nullptr : node->as_table();
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status Validate(SyncConfig* c) {
  for (size_t i = 0; i < c->mappings.size(); ++i) {
    Mapping& m = c->mappings[i];
    std::string where = "mapping " + std::to_string(i + 1);
    if (m.secret_name.empty()) return InvalidArgument(where + ": secret_name is required");
    if (m.folder_path.empty()) return InvalidArgument(where + " (" + m.secret_name + "): folder_path is required");
    if (m.environment.empty()) return InvalidArgument(where + " (" + m.secret_name + "): environment is empty");
    if (m.vault_name.empty()) m.vault_name = c->default_vault_name;
  }
  return OkStatus();
}

}  // namespace

StatusOr<SyncConfig> ParseEnvdriftToml(std::string_view text, std::string_view prefix) {
  toml::table doc;
  try {
    doc = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return LineError(e.source().begin.line, e.description());
  }
  // The envdrift settings live at the top of envdrift.toml, under [tool.envdrift] in pyproject.
  const toml::table* root = &doc;
  for (size_t pos = 0; root != nullptr && pos < prefix.size();) {
    size_t dot = prefix.find('.', pos);
    std::string_view part = prefix.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    root = SubTable(root, part);
    pos = dot == std::string_view::npos ? prefix.size() : dot + 1;
  }
  SyncConfig c;
  const std::string scope = prefix.empty() ? "" : std::string(prefix) + ".";
  const toml::table* vault = SubTable(root, "vault");
  if (vault != nullptr) {
    RETURN_IF_ERROR(ReadString(*vault, "provider", scope + "vault.", &c.provider));
    if (!c.provider.empty() && c.provider != "hashicorp" && c.provider != "aws" && c.provider != "azure") {
      return LineError(vault->get("provider")->source().begin.line,
                       "provider \"" + c.provider + "\": expected hashicorp, aws or azure");
    }
    if (const auto* t = SubTable(vault, "hashicorp")) {
      RETURN_IF_ERROR(ReadString(*t, "url", scope + "vault.hashicorp.", &c.hashicorp_url));
    }
    if (const auto* t = SubTable(vault, "aws")) {
      RETURN_IF_ERROR(ReadString(*t, "region", scope + "vault.aws.", &c.aws_region));
    }
    if (const auto* t = SubTable(vault, "azure")) {
      RETURN_IF_ERROR(ReadString(*t, "vault_url", scope + "vault.azure.", &c.azure_vault_url));
    }
    if (const auto* sync = SubTable(vault, "sync")) {
      const std::string where = scope + "vault.sync.";
      RETURN_IF_ERROR(ReadString(*sync, "default_vault_name", where, &c.default_vault_name));
      RETURN_IF_ERROR(ReadString(*sync, "env_keys_filename", where, &c.env_keys_filename));
      if (const toml::node* node = sync->get("mappings")) {
        const toml::array* list = node->as_array();
        if (list == nullptr) return LineError(node->source().begin.line, where + "mappings: expected [[" + where + "mappings]] tables");
        for (size_t i = 0; i < list->size(); ++i) {
          const toml::node& item = *list->get(i);
          const std::string at = where + "mappings[" + std::to_string(i + 1) + "].";
          const toml::table* t = item.as_table();
          if (t == nullptr) return LineError(item.source().begin.line, at + " expected a table");
          Mapping m;
          RETURN_IF_ERROR(ReadString(*t, "secret_name", at, &m.secret_name));
          RETURN_IF_ERROR(ReadString(*t, "folder_path", at, &m.folder_path));
          RETURN_IF_ERROR(ReadString(*t, "vault_name", at, &m.vault_name));
          RETURN_IF_ERROR(ReadString(*t, "env_file", at, &m.env_file));
          RETURN_IF_ERROR(ReadString(*t, "profile", at, &m.profile));
          RETURN_IF_ERROR(ReadString(*t, "activate_to", at, &m.activate_to));
          // envdrift: an explicit environment, else the profile, else "production".
          if (!m.profile.empty()) m.environment = m.profile;
          RETURN_IF_ERROR(ReadString(*t, "environment", at, &m.environment));
          if (!m.env_file.empty() && (m.env_file[0] == '/' || m.env_file.find("..") != std::string::npos)) {
            return LineError(t->get("env_file")->source().begin.line,
                             at + "env_file: must be a file name relative to folder_path, without \"..\"");
          }
          c.mappings.push_back(std::move(m));
        }
      }
    }
  }
  RETURN_IF_ERROR(Validate(&c));
  return c;
}

std::string Mapping::EnvFilePath() const {
  return folder_path + "/" + (env_file.empty() ? ".env." + environment : env_file);
}

std::vector<Mapping> SelectMappings(const SyncConfig& config, std::string_view profile) {
  std::vector<Mapping> out;
  for (const Mapping& m : config.mappings) {
    if (m.profile.empty() || m.profile == profile) out.push_back(m);
  }
  return out;
}

StatusOr<SyncConfig> ParsePairTxt(std::string_view text) {
  SyncConfig c;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return LineError(line_no, "expected secret-name=folder-path");
    std::string_view name = Trim(line.substr(0, eq));
    std::string_view folder = Trim(line.substr(eq + 1));
    Mapping m;
    if (size_t slash = name.find('/'); slash != std::string_view::npos) {
      m.vault_name = std::string(name.substr(0, slash));
      name = name.substr(slash + 1);
    }
    m.secret_name = std::string(name);
    m.folder_path = std::string(folder);
    if (m.secret_name.empty() || m.folder_path.empty()) {
      return LineError(line_no, "expected secret-name=folder-path");
    }
    c.mappings.push_back(std::move(m));
  }
  RETURN_IF_ERROR(Validate(&c));
  return c;
}

StatusOr<SyncConfig> LoadConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, coffer::ReadFileIfExists(path));
  if (!text) return InvalidArgument(path + ": file not found");
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  StatusOr<SyncConfig> c = name == "pair.txt"         ? ParsePairTxt(*text)
                           : name == "pyproject.toml" ? ParseEnvdriftToml(*text, "tool.envdrift")
                                                      : ParseEnvdriftToml(*text);
  if (!c.ok()) return c.status().WithContext(path);
  c->path = path;
  // Folders are relative to the config file.
  std::string dir = DirOf(path);
  for (Mapping& m : c->mappings) {
    if (!m.folder_path.empty() && m.folder_path[0] != '/') m.folder_path = dir + "/" + m.folder_path;
  }
  return c;
}

StatusOr<SyncConfig> FindConfig(const std::string& start) {
  std::string dir = start;
  for (;;) {
    for (const char* name : {"envdrift.toml", "pyproject.toml", "pair.txt"}) {
      std::string path = dir + "/" + name;
      ASSIGN_OR_RETURN(std::optional<std::string> text, coffer::ReadFileIfExists(path));
      if (!text) continue;
      if (std::string_view(name) == "pyproject.toml" && text->find("[tool.envdrift") == std::string::npos) continue;
      return LoadConfig(path);
    }
    if (dir == "/" || dir.empty()) break;
    size_t slash = dir.find_last_of('/');
    dir = slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
  }
  return NotFound("no envdrift.toml, pyproject.toml with [tool.envdrift] or pair.txt here or above; use -c FILE");
}

}  // namespace coffer::keysync
