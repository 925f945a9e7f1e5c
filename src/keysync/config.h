// envdrift-compatible key-sync configuration: `envdrift.toml`, `[tool.envdrift]` in
// `pyproject.toml`, or the legacy `pair.txt`, found by walking up from a directory.
//   [vault] provider = "hashicorp" | "aws" | "azure"
//   [vault.hashicorp] url    [vault.aws] region    [vault.azure] vault_url
//   [vault.sync] default_vault_name, env_keys_filename (".env.keys")
//   [[vault.sync.mappings]] secret_name, folder_path, environment, vault_name, env_file, profile,
//     activate_to. environment defaults to the profile, else "production".
//   pair.txt: `secret-name=folder-path` or `vault-name/secret-name=folder-path`, # comments.
// TOML is read with toml++; a syntax error or a value of the wrong type names the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::keysync {

struct Mapping {
  std::string secret_name;
  std::string folder_path;  // relative paths are relative to the config file's directory
  std::string environment = "production";
  std::string vault_name;
  std::string env_file;     // the encrypted env file in folder_path; empty: ".env.<environment>"
  std::string profile;      // empty: a regular mapping, always selected
  std::string activate_to;  // envdrift's `pull` copies the decrypted file there; read, not acted on
  // The env file --check-decryption reads: folder_path/env_file, or folder_path/.env.<environment>.
  std::string EnvFilePath() const;
};

struct SyncConfig {
  std::string provider;  // hashicorp | aws | azure (empty: not set)
  std::string hashicorp_url;
  std::string aws_region;
  std::string azure_vault_url;
  std::string default_vault_name;
  std::string env_keys_filename = ".env.keys";
  std::vector<Mapping> mappings;
  std::string path;  // the file it came from
};

// envdrift's profile selection: without a profile only the untagged mappings; with one, the
// untagged mappings plus those tagged with exactly that profile.
std::vector<Mapping> SelectMappings(const SyncConfig& config, std::string_view profile);

// text of an envdrift.toml (prefix "") or pyproject.toml (prefix "tool.envdrift").
StatusOr<SyncConfig> ParseEnvdriftToml(std::string_view text, std::string_view prefix = "");
StatusOr<SyncConfig> ParsePairTxt(std::string_view text);

// Reads `path` by its name (pyproject.toml, pair.txt or else envdrift TOML).
StatusOr<SyncConfig> LoadConfig(const std::string& path);
// Walks up from `dir`: envdrift.toml, then pyproject.toml with [tool.envdrift], then pair.txt.
// kNotFound when no directory up to / has one.
StatusOr<SyncConfig> FindConfig(const std::string& dir);

}  // namespace coffer::keysync
