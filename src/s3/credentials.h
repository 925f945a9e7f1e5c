// AWS credentials and region, resolved the way the AWS CLI and SDKs do for the sources Coffer
// supports: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then
// the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) and the
// config file (AWS_CONFIG_FILE, default ~/.aws/config) for the profile AWS_PROFILE (default
// "default"). Region: AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`.
// Errors never contain key material.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace coffer::s3 {

struct Credentials {
  std::string access_key_id;
  SecretString secret_access_key;
  SecretString session_token;  // empty when none
  std::string source;          // "environment", "shared credentials file (profile x)", ...
};

// An INI file as the AWS tools read it: [section] headers, `key = value` lines, '#'/';' comments;
// indented continuation lines (nested settings such as `s3 =` blocks) are ignored. Keys are
// lower-cased; section names are kept as written (trimmed).
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile ParseIni(std::string_view text);

// The process environment and the file system, swappable for tests.
struct AwsEnvironment {
  std::function<std::optional<std::string>(const char*)> getenv;
  std::function<std::optional<std::string>(const std::string&)> read_file;  // nullopt when absent
  static AwsEnvironment Process();
};

// kNotFound "no AWS credentials found (...)" when no source has them; kInvalidArgument for a
// half-configured source (an access key without its secret).
StatusOr<Credentials> ResolveCredentials(const AwsEnvironment& env);
// The region, or "" when none is configured.
std::string ResolveRegion(const AwsEnvironment& env);

}  // namespace coffer::s3
