#include "s3/credentials.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/encoding.h"

namespace coffer::s3 {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string HomeDir(const AwsEnvironment& env) {
  auto home = env.getenv("HOME");
  return home ? *home : std::string();
}

std::string Profile(const AwsEnvironment& env) {
  if (auto p = env.getenv("AWS_PROFILE"); p && !p->empty()) return *p;
  if (auto p = env.getenv("AWS_DEFAULT_PROFILE"); p && !p->empty()) return *p;
  return "default";
}

std::string CredentialsPath(const AwsEnvironment& env) {
  if (auto p = env.getenv("AWS_SHARED_CREDENTIALS_FILE"); p && !p->empty()) return *p;
  return HomeDir(env) + "/.aws/credentials";
}

std::string ConfigPath(const AwsEnvironment& env) {
  if (auto p = env.getenv("AWS_CONFIG_FILE"); p && !p->empty()) return *p;
  return HomeDir(env) + "/.aws/config";
}

// The config file names sections "[profile NAME]" except for "[default]".
const std::map<std::string, std::string>* ConfigSection(const IniFile& ini, const std::string& profile) {
  if (profile == "default") {
    if (auto it = ini.find("default"); it != ini.end()) return &it->second;
    if (auto it = ini.find("profile default"); it != ini.end()) return &it->second;
    return nullptr;
  }
  if (auto it = ini.find("profile " + profile); it != ini.end()) return &it->second;
  return nullptr;
}

std::string Get(const std::map<std::string, std::string>* sec, const char* key) {
  if (!sec) return "";
  auto it = sec->find(key);
  return it == sec->end() ? "" : it->second;
}

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile ini;
  std::string section;
  bool in_section = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      size_t close = line.find(']');
      if (close == std::string::npos) {
        in_section = false;
        continue;
      }
      section = Trim(std::string_view(line).substr(1, close - 1));
      in_section = true;
      ini[section];
      continue;
    }
    if (!in_section || indented) continue;  // nested settings are not ours
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = AsciiLower(Trim(std::string_view(line).substr(0, eq)));
    std::string value = Trim(std::string_view(line).substr(eq + 1));
    // Inline comments need whitespace before '#' or ';' (as botocore reads them).
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') && std::isspace(static_cast<unsigned char>(value[i - 1]))) {
        value = Trim(std::string_view(value).substr(0, i));
        break;
      }
    }
    ini[section][key] = value;
  }
  return ini;
}

AwsEnvironment AwsEnvironment::Process() {
  AwsEnvironment env;
  env.getenv = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  };
  env.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return env;
}

StatusOr<Credentials> ResolveCredentials(const AwsEnvironment& env) {
  auto id = env.getenv("AWS_ACCESS_KEY_ID");
  auto secret = env.getenv("AWS_SECRET_ACCESS_KEY");
  if (id && !id->empty()) {
    if (!secret || secret->empty()) {
      return InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = SecretString(secret->begin(), secret->end());
    if (auto tok = env.getenv("AWS_SESSION_TOKEN"); tok) c.session_token = SecretString(tok->begin(), tok->end());
    c.source = "environment";
    SecureWipe(secret->data(), secret->size());
    return c;
  }
  std::string profile = Profile(env);
  for (int file = 0; file < 2; ++file) {
    std::string path = file == 0 ? CredentialsPath(env) : ConfigPath(env);
    auto text = env.read_file(path);
    if (!text) continue;
    IniFile ini = ParseIni(*text);
    SecureWipe(text->data(), text->size());
    const std::map<std::string, std::string>* sec = nullptr;
    if (file == 0) {
      if (auto it = ini.find(profile); it != ini.end()) sec = &it->second;
    } else {
      sec = ConfigSection(ini, profile);
    }
    std::string key_id = Get(sec, "aws_access_key_id");
    std::string key = Get(sec, "aws_secret_access_key");
    if (key_id.empty()) continue;
    if (key.empty()) {
      return InvalidArgument("profile \"" + profile + "\" in " + path +
                             " has aws_access_key_id but no aws_secret_access_key");
    }
    Credentials c;
    c.access_key_id = key_id;
    c.secret_access_key = SecretString(key.begin(), key.end());
    std::string tok = Get(sec, "aws_session_token");
    c.session_token = SecretString(tok.begin(), tok.end());
    c.source = (file == 0 ? "shared credentials file " : "config file ") + path + " (profile " + profile + ")";
    SecureWipe(key.data(), key.size());
    SecureWipe(tok.data(), tok.size());
    // `ini` copies are wiped as their strings die only by the allocator; they hold the same key:
    for (auto& [name, kv] : ini) {
      for (auto& [k, v] : kv) SecureWipe(v.data(), v.size());
    }
    return c;
  }
  return NotFound("no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure profile \"" +
                  profile + "\" in " + CredentialsPath(env) + ")");
}

std::string ResolveRegion(const AwsEnvironment& env) {
  if (auto r = env.getenv("AWS_REGION"); r && !r->empty()) return *r;
  if (auto r = env.getenv("AWS_DEFAULT_REGION"); r && !r->empty()) return *r;
  if (auto text = env.read_file(ConfigPath(env))) {
    IniFile ini = ParseIni(*text);
    std::string region = Get(ConfigSection(ini, Profile(env)), "region");
    if (!region.empty()) return region;
  }
  return "";
}

}  // namespace coffer::s3
