#include "s3/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace coffer::s3 {
namespace {

Status FieldError(const std::string& file, const YAML::Node& n, const std::string& field, const std::string& what) {
  std::string where = file;
  if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
  return InvalidArgument(where + ": " + field + ": " + what);
}

StatusOr<std::string> Str(const std::string& file, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) return FieldError(file, n, field, "expected a string");
  return n.Scalar();
}

StatusOr<bool> Bool(const std::string& file, const YAML::Node& n, const std::string& field) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no") return false;
  }
  return FieldError(file, n, field, "expected true or false");
}

StatusOr<int64_t> NonNegInt(const std::string& file, const YAML::Node& n, const std::string& field) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (!s.empty() && s.size() < 12 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
  }
  return FieldError(file, n, field, "expected a non-negative integer");
}

Status CheckKeys(const std::string& file, const YAML::Node& map, const std::string& field,
                 std::initializer_list<const char*> allowed) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) return FieldError(file, it->first, field + "." + k, "unknown key");
  }
  return OkStatus();
}

Status ParseBackend(const std::string& file, const YAML::Node& b, BackendConfig* out) {
  if (!b.IsMap()) return FieldError(file, b, "secrets.backend", "expected a mapping");
  RETURN_IF_ERROR(CheckKeys(file, b, "secrets.backend",
                            {"type", "bucket", "region", "endpoint", "prefix", "encryption", "cache"}));
  if (b["type"]) {
    ASSIGN_OR_RETURN(std::string t, Str(file, b["type"], "secrets.backend.type"));
    if (t != "s3") return FieldError(file, b["type"], "secrets.backend.type", "only \"s3\" is supported");
  }
  if (b["bucket"]) {
      ASSIGN_OR_RETURN(out->bucket, Str(file, b["bucket"], "secrets.backend.bucket"));
    }
  if (b["region"]) {
      ASSIGN_OR_RETURN(out->region, Str(file, b["region"], "secrets.backend.region"));
    }
  if (b["endpoint"] && !b["endpoint"].IsNull()) {
    ASSIGN_OR_RETURN(out->endpoint, Str(file, b["endpoint"], "secrets.backend.endpoint"));
    if (!out->endpoint.empty() && out->endpoint.rfind("http://", 0) != 0 && out->endpoint.rfind("https://", 0) != 0) {
      return FieldError(file, b["endpoint"], "secrets.backend.endpoint", "expected an http:// or https:// URL");
    }
  }
  if (b["prefix"]) {
      ASSIGN_OR_RETURN(out->prefix, Str(file, b["prefix"], "secrets.backend.prefix"));
    }
  if (YAML::Node e = b["encryption"]) {
    if (!e.IsMap()) return FieldError(file, e, "secrets.backend.encryption", "expected a mapping");
    RETURN_IF_ERROR(CheckKeys(file, e, "secrets.backend.encryption",
                              {"algorithm", "key_source", "key_env", "key_file", "kms_key_id", "bind_aad"}));
    if (e["algorithm"]) {
      ASSIGN_OR_RETURN(out->algorithm, Str(file, e["algorithm"], "secrets.backend.encryption.algorithm"));
      if (out->algorithm != "chacha20poly1305") {
        return FieldError(file, e["algorithm"], "secrets.backend.encryption.algorithm",
                          "only \"chacha20poly1305\" is supported");
      }
    }
    if (e["key_source"]) {
      ASSIGN_OR_RETURN(out->key_source, Str(file, e["key_source"], "secrets.backend.encryption.key_source"));
      if (out->key_source != "env" && out->key_source != "file") {
        return FieldError(file, e["key_source"], "secrets.backend.encryption.key_source", "expected env or file");
      }
    }
    if (e["key_env"]) {
      ASSIGN_OR_RETURN(out->key_env, Str(file, e["key_env"], "secrets.backend.encryption.key_env"));
    }
    if (e["key_file"]) {
      ASSIGN_OR_RETURN(out->key_file, Str(file, e["key_file"], "secrets.backend.encryption.key_file"));
    }
    if (e["bind_aad"]) {
      ASSIGN_OR_RETURN(out->bind_aad, Bool(file, e["bind_aad"], "secrets.backend.encryption.bind_aad"));
    }
  }
  if (YAML::Node c = b["cache"]) {
    if (!c.IsMap()) return FieldError(file, c, "secrets.backend.cache", "expected a mapping");
    RETURN_IF_ERROR(CheckKeys(file, c, "secrets.backend.cache", {"enabled", "ttl_seconds", "path"}));
    if (c["enabled"]) {
      ASSIGN_OR_RETURN(out->cache_enabled, Bool(file, c["enabled"], "secrets.backend.cache.enabled"));
    }
    if (c["ttl_seconds"]) {
      ASSIGN_OR_RETURN(out->cache_ttl_seconds, NonNegInt(file, c["ttl_seconds"], "secrets.backend.cache.ttl_seconds"));
    }
    if (c["path"]) {
      ASSIGN_OR_RETURN(out->cache_path, Str(file, c["path"], "secrets.backend.cache.path"));
    }
  }
  return OkStatus();
}

bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string ExpandHome(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  return path;
}

StatusOr<S3Config> ParseS3Config(const std::string& text, const std::string& file) {
  S3Config cfg;
  cfg.file = file;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  try {
    if (root.IsNull()) return cfg;
    if (!root.IsMap()) return FieldError(file, root, "(top level)", "expected a mapping");
    YAML::Node secrets = root["secrets"];
    if (!secrets) return cfg;
    YAML::Node list;
    if (secrets.IsMap()) {
      if (YAML::Node b = secrets["backend"]) {
        cfg.has_backend = true;
        RETURN_IF_ERROR(ParseBackend(file, b, &cfg.backend));
      }
      list = secrets["secrets"];
      if (!list) list = secrets["items"];
    } else if (secrets.IsSequence()) {
      list = secrets;
    } else {
      return FieldError(file, secrets, "secrets", "expected a mapping or a list");
    }
    if (list && list.IsSequence()) {
      for (size_t i = 0; i < list.size(); ++i) {
        YAML::Node s = list[i];
        std::string field = "secrets[" + std::to_string(i) + "]";
        if (!s.IsMap()) return FieldError(file, s, field, "expected a mapping");
        if (!s["source"] || !s["source"].IsScalar() || s["source"].Scalar() != "s3") continue;
        DeclaredSecret d;
        if (!s["name"]) return FieldError(file, s, field + ".name", "is required");
        ASSIGN_OR_RETURN(d.name, Str(file, s["name"], field + ".name"));
        if (s["s3Path"]) {
          ASSIGN_OR_RETURN(d.s3_path, Str(file, s["s3Path"], field + ".s3Path"));
        }
        if (s["s3_path"]) {
      ASSIGN_OR_RETURN(d.s3_path, Str(file, s["s3_path"], field + ".s3_path"));
    }
        cfg.secrets.push_back(std::move(d));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return cfg;
}

StatusOr<S3Config> LoadS3Config(const std::string& explicit_file, const std::string& start_dir) {
  std::string file = explicit_file;
  if (file.empty()) {
    std::string dir = start_dir;
    while (!dir.empty()) {
      for (const char* name : {"coffer.yaml", "sindri.yaml"}) {
        std::string p = (dir == "/" ? "" : dir) + "/" + name;
        if (Exists(p)) {
          file = p;
          break;
        }
      }
      if (!file.empty() || dir == "/") break;
      size_t slash = dir.rfind('/');
      dir = slash == 0 ? "/" : (slash == std::string::npos ? "" : dir.substr(0, slash));
    }
    if (file.empty()) return S3Config{};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return InvalidArgument("-c: cannot read config file \"" + file + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseS3Config(ss.str(), file);
}

std::string RenderS3Config(const BackendConfig& b) {
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "secrets" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "backend" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << "s3";
  e << YAML::Key << "bucket" << YAML::Value << b.bucket;
  e << YAML::Key << "region" << YAML::Value << (b.region.empty() ? "us-east-1" : b.region);
  if (!b.endpoint.empty()) e << YAML::Key << "endpoint" << YAML::Value << b.endpoint;
  e << YAML::Key << "prefix" << YAML::Value << b.prefix;
  e << YAML::Key << "encryption" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "algorithm" << YAML::Value << b.algorithm;
  e << YAML::Key << "key_source" << YAML::Value << b.key_source;
  if (b.key_source == "env") {
    e << YAML::Key << "key_env" << YAML::Value << b.key_env;
  } else {
    e << YAML::Key << "key_file" << YAML::Value << b.key_file;
  }
  if (b.bind_aad) e << YAML::Key << "bind_aad" << YAML::Value << true;
  e << YAML::EndMap;
  e << YAML::Key << "cache" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "enabled" << YAML::Value << b.cache_enabled;
  e << YAML::Key << "ttl_seconds" << YAML::Value << b.cache_ttl_seconds;
  e << YAML::Key << "path" << YAML::Value << b.cache_path;
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace coffer::s3
