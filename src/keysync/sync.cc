#include "keysync/sync.h"

#include <sys/stat.h>

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "formats/dotenv/dotenvx.h"
#include "formats/dotenv/envfile.h"
#include "base/file_io.h"
#include "formats/dotenv/parser.h"

namespace coffer::keysync {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c == '.' || c == '-' ? '_' : std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string KeysPath(const SyncConfig& c, const Mapping& m) { return m.folder_path + "/" + c.env_keys_filename; }

}  // namespace

std::string PrivateKeyName(std::string_view environment) {
  if (environment.empty()) return "DOTENV_PRIVATE_KEY";
  return "DOTENV_PRIVATE_KEY_" + Upper(environment);
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kCreated: return "created";
    case Outcome::kSkipped: return "skipped (same key)";
    case Outcome::kUpdated: return "updated (backup kept)";
    case Outcome::kMismatch: return "MISMATCH";
    case Outcome::kMissing: return "MISSING";
    case Outcome::kError: return "ERROR";
  }
  return "?";
}

StatusOr<SecretString> NormalizeKey(std::string_view raw, std::string_view environment) {
  std::string_view v = Trim(raw);
  if (!v.empty() && v.front() == '{') {
    nlohmann::json j = nlohmann::json::parse(v, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("value") || !j["value"].is_string()) {
      return InvalidArgument("vault value is JSON without a string \"value\" field");
    }
    SecretString inner(j["value"].get<std::string>());
    return NormalizeKey(std::string_view(inner.data(), inner.size()), environment);
  }
  const std::string want = PrivateKeyName(environment);
  std::string_view found;
  std::string label;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t nl = v.find('\n', pos);
    std::string_view line = Trim(v.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? v.size() + 1 : nl + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = Trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      std::string name(Trim(line.substr(0, eq)));
      if (name.rfind("DOTENV_PRIVATE_KEY", 0) != 0) continue;
      if (name != want && name != "DOTENV_PRIVATE_KEY") {
        label = name;
        continue;
      }
      found = Trim(line.substr(eq + 1));
      break;
    }
    if (IsHex64(line)) {
      found = line;
      break;
    }
  }
  if (found.empty()) {
    if (!label.empty()) {
      return InvalidArgument("vault key is labelled " + label + " but the mapping's environment needs " + want);
    }
    return InvalidArgument("vault value holds no private key (expected 64 hex characters or " + want + "=...)");
  }
  if (!IsHex64(found)) {
    return InvalidArgument("vault key for " + want + " is not 64 hex characters (got " + std::to_string(found.size()) + ")");
  }
  StatusOr<SecretBytes> valid = dotenv::ParsePrivateKey(found);
  if (!valid.ok()) return InvalidArgument("vault key for " + want + ": " + valid.status().message());
  SecretString out(found);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

StatusOr<SecretString> LocalKey(const SyncConfig& config, const Mapping& m) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, coffer::ReadFileIfExists(KeysPath(config, m)));
  if (!text) return NotFound(KeysPath(config, m) + " does not exist");
  dotenv::Document doc = dotenv::Document::Parse(*text);
  const dotenv::Entry* e = doc.Find(PrivateKeyName(m.environment));
  if (e == nullptr) return NotFound(KeysPath(config, m) + " has no " + PrivateKeyName(m.environment));
  return SecretString(e->value);
}

Status CheckDecryption(const std::string& env_path, std::string_view private_name, std::string_view key_hex) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, coffer::ReadFileIfExists(env_path));
  if (!text) return NotFound(env_path + " does not exist");
  dotenv::Environment env{{std::string(private_name), std::string(key_hex)}};
  dotenv::Document doc = dotenv::Document::Parse(*text);
  dotenv::KeyNames names = dotenv::KeyNamesFor(env_path, doc);
  if (names.private_name != private_name) env[names.private_name] = std::string(key_hex);
  StatusOr<dotenv::FileResult> r = dotenv::DecryptEnvFile(env_path, *text, std::nullopt, env, {});
  if (!r.ok()) return r.status();
  return OkStatus();
}

SyncResult SyncMapping(const SyncConfig& config, const Mapping& m, KeyProvider& provider, const SyncOptions& opt) {
  SyncResult r;
  r.secret_name = m.secret_name;
  r.folder = m.folder_path;
  auto fail = [&](Outcome o, std::string detail) {
    r.outcome = o;
    r.detail = std::move(detail);
    return r;
  };
  if (!IsDir(m.folder_path)) return fail(Outcome::kError, "folder " + m.folder_path + " does not exist");
  StatusOr<SecretString> raw = provider.Fetch(m.secret_name, m.vault_name);
  if (!raw.ok()) {
    return fail(raw.status().code() == StatusCode::kNotFound ? Outcome::kMissing : Outcome::kError,
                "vault: " + raw.status().message());
  }
  StatusOr<SecretString> key = NormalizeKey(std::string_view(raw->data(), raw->size()), m.environment);
  if (!key.ok()) return fail(Outcome::kError, key.status().message());
  std::string_view key_hex(key->data(), key->size());
  const std::string name = PrivateKeyName(m.environment);
  const std::string env_path = m.EnvFilePath();

  StatusOr<SecretString> local = LocalKey(config, m);
  bool same = local.ok() && ConstantTimeEquals(std::string_view(local->data(), local->size()), key_hex);
  if (opt.check_decryption) {
    Status s = CheckDecryption(env_path, name, key_hex);
    if (!s.ok()) return fail(Outcome::kError, "the vault key does not decrypt " + env_path + ": " + s.message());
  }
  if (same) return fail(Outcome::kSkipped, "");
  if (opt.verify) {
    return fail(local.ok() ? Outcome::kMismatch : Outcome::kMissing,
                local.ok() ? "local " + name + " differs from the vault" : local.status().message());
  }
  const std::string keys_path = KeysPath(config, m);
  auto existing = coffer::ReadFileIfExists(keys_path);
  if (!existing.ok()) return fail(Outcome::kError, existing.status().message());
  Outcome outcome = Outcome::kCreated;
  if (local.ok()) {
    if (!opt.force) return fail(Outcome::kMismatch, "local " + name + " differs from the vault (use --force)");
    std::string backup = keys_path + ".backup." + std::to_string(std::time(nullptr));
    Status b = WriteFileAtomic(backup, **existing, 0600);
    if (!b.ok()) return fail(Outcome::kError, "backup failed: " + b.message());
    r.detail = "previous file saved as " + backup;
    outcome = Outcome::kUpdated;
  }
  StatusOr<std::string> updated = dotenv::UpsertKeysFile(*existing, m.env_file.empty() ? ".env." + m.environment : m.env_file,
                                                          name, key_hex);
  if (!updated.ok()) return fail(Outcome::kError, updated.status().message());
  Status w = WriteFileAtomic(keys_path, *updated, 0600);
  if (!w.ok()) return fail(Outcome::kError, w.message());
  r.outcome = outcome;
  return r;
}

}  // namespace coffer::keysync
