// The `secrets.backend` block of coffer.yaml / sindri.yaml (Sindri's S3 backend settings), and
// the declared secrets whose source is s3. Plain structs so the resolver can reuse the loader.
//
//   secrets:
//     backend:
//       type: s3                      # optional
//       bucket: my-secrets
//       region: eu-west-1
//       endpoint: http://localhost:9000   # optional: S3-compatible, path-style
//       prefix: secrets/prod/
//       encryption:
//         algorithm: chacha20poly1305
//         key_source: file             # env | file
//         key_env: SINDRI_MASTER_KEY
//         key_file: ~/.coffer/master.key
//         bind_aad: false              # Coffer only: "1.1" objects (docs/s3.md)
//       cache:
//         enabled: true
//         ttl_seconds: 3600
//         path: ~/.cache/coffer/s3
//     # or Sindri's list form: secrets: [{name: X, source: s3, s3_path: p}, ...]
//
// Errors are kInvalidArgument naming the field, with the line when yaml-cpp knows it:
// "coffer.yaml:7: secrets.backend.cache.ttl_seconds: expected a non-negative integer".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace coffer::s3 {

struct BackendConfig {
  std::string bucket;
  std::string region;  // "" = from the AWS environment, else us-east-1
  std::string endpoint;
  std::string prefix = "secrets/";
  std::string algorithm = "chacha20poly1305";
  std::string key_source = "file";  // env | file
  std::string key_env = "SINDRI_MASTER_KEY";
  std::string key_file = "~/.coffer/master.key";
  bool bind_aad = false;
  bool cache_enabled = true;
  int64_t cache_ttl_seconds = 3600;
  std::string cache_path = "~/.cache/coffer/s3";
};

struct DeclaredSecret {
  std::string name;
  std::string s3_path;  // "" = the name
};

struct S3Config {
  std::string file;      // where it was loaded from ("" = defaults only)
  bool has_backend = false;
  BackendConfig backend;
  std::vector<DeclaredSecret> secrets;  // those with source: s3
};

// Parses YAML text; `file` is used in messages.
StatusOr<S3Config> ParseS3Config(const std::string& text, const std::string& file);
// Loads `explicit_file` when non-empty; else coffer.yaml then sindri.yaml in `start_dir` and its
// parents (nearest first). No file found = defaults (file == "").
StatusOr<S3Config> LoadS3Config(const std::string& explicit_file, const std::string& start_dir);
// "~/x" -> "$HOME/x".
std::string ExpandHome(const std::string& path);
// Renders a config Coffer can load back (the `coffer s3 init` output).
std::string RenderS3Config(const BackendConfig& b);

}  // namespace coffer::s3
