// The project secrets declaration: coffer.yaml / sindri.yaml (Sindri V3's `secrets:` schema).
//
// Two shapes are accepted:
//   secrets:                          # flat list
//     - name: API_KEY
//       source: env
//   secrets:                          # backend form (the backend block belongs to src/s3/config.h)
//     backend: {type: s3, bucket: ...}
//     secrets: [ ... ]
//
// Per-secret keys (camelCase as Sindri documents them; the snake_case spelling is accepted too):
//   name, source (env|file|vault|s3), required, description, fromFile, path, mountPath,
//   permissions ("0600"), vaultPath, vaultKey, vaultMount, s3_path/s3Path, fallback (env|vault|s3).
// `${VAR}` in fromFile, path, vaultPath and s3_path is replaced from the environment when loading.
//
// Every error is kInvalidArgument with one line naming the file, the line, the secret and the
// field: "coffer.yaml:7: secret TLS_KEY: permissions: expected an octal string such as \"0600\"".
// Pure functions of their inputs except LoadProjectConfig/FindConfigFile (file system).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::resolver {

enum class SourceKind { kEnv, kFile, kVault, kS3 };

// "env", "file", "vault", "s3".
const char* SourceName(SourceKind kind);
std::optional<SourceKind> ParseSourceName(std::string_view name);

struct SecretSpec {
  std::string name;
  SourceKind source = SourceKind::kEnv;
  bool required = false;
  std::string description;
  std::string from_file;  // env: read the value from this file (after shell, .env.local, .env)
  std::string path;       // file: local file, as written (after templating)
  std::string mount_path;
  unsigned permissions = 0644;
  std::string vault_path;  // as written (after templating): API or logical form
  std::string vault_key;
  std::string vault_mount = "secret";
  bool vault_mount_set = false;
  std::string s3_path;
  std::optional<SourceKind> fallback;
  int line = 0;  // 1-based line of the secret's entry in the file (0 = unknown)
};

struct ProjectConfig {
  std::string file;          // path of the loaded file
  std::string dir;           // its directory (absolute): .env, .env.local and relative paths are found here
  std::string project_name;  // top-level `name:` when present
  bool has_backend = false;  // `secrets.backend` present (loaded by src/s3/config.h)
  std::vector<SecretSpec> secrets;

  const SecretSpec* Find(std::string_view name) const;
};

// Looks a variable up (nullopt when unset). Used for `${VAR}` templating.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment.
EnvLookup ProcessEnv();

// Replaces every ${VAR} in text; an unset variable is an error naming it. "$" not followed by
// "{" is kept. `what` prefixes the message (e.g. "coffer.yaml:7: secret X: vaultPath").
StatusOr<std::string> ExpandTemplate(std::string_view text, const EnvLookup& env, std::string_view what);

// Parses YAML text. `file` is used in messages; `dir` becomes ProjectConfig::dir.
StatusOr<ProjectConfig> ParseProjectConfig(std::string_view text, const std::string& file, const std::string& dir,
                                           const EnvLookup& env);

// The nearest coffer.yaml, then sindri.yaml, in start_dir or its parents; nullopt when none.
std::optional<std::string> FindConfigFile(const std::string& start_dir);

// Loads explicit_file when non-empty, else the discovered file. kNotFound when there is none.
StatusOr<ProjectConfig> LoadProjectConfig(const std::string& explicit_file, const std::string& start_dir,
                                          const EnvLookup& env);

// "~" and "~/x" expanded with $HOME.
std::string ExpandHome(const std::string& path);
// A path relative to dir (after ~ expansion); absolute paths are kept.
std::string ResolveRelative(const std::string& dir, const std::string& path);
// "0644" style.
std::string FormatPermissions(unsigned mode);

}  // namespace coffer::resolver
