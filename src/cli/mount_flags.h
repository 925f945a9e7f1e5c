// What `secrets enable|tune` and `auth enable|tune` share: Vault's mount flags and two helpers
// for sys/mounts and sys/auth paths and responses. Flags Vault has but Coffer's server does not
// implement are declared (help lists them, scripts get a clear message) and refused when given,
// rather than silently ignored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace coffer::cli {

class Context;
class FlagSet;

struct MountFlags {
  std::string description;
  std::string default_lease_ttl;
  std::string max_lease_ttl;
  std::map<std::string, std::string> options;
  int64_t version = 0;  // -version (secrets engines only)
  std::string listing_visibility;
  std::vector<std::string> audit_non_hmac_request_keys;
  std::vector<std::string> audit_non_hmac_response_keys;
  std::vector<std::string> passthrough_request_headers;
  std::vector<std::string> allowed_response_headers;

  // `noun` is "secrets engine" or "auth method"; `tune` words the help for the tune command.
  void Add(FlagSet& f, const std::string& noun, bool tune, bool with_version);
  // Empty when the flags can be honoured, else one line naming the refused flag and why.
  std::string Unsupported() const;
  // Whether the flag was given on the command line.
  bool IsSet(const char* name) const;
  // The TTLs that were given (enable: the "config" object; tune: the top level of the body).
  nlohmann::json Ttls() const;
  // -options, plus -version as options.version.
  nlohmann::json Options() const;

 private:
  FlagSet* flags_ = nullptr;
  std::string noun_;
};

// `secrets tune` / `auth tune` PATH: posts the given flags to <api_prefix>PATH/tune (api_prefix
// "sys/mounts/" or "sys/auth/") and prints Vault's messages for `noun`. Returns the exit code.
int TuneMount(Context& ctx, const std::vector<std::string>& args, const MountFlags& mount,
              const std::string& api_prefix, const std::string& noun);

// `secrets disable` / `auth disable` PATH, likewise.
int DisableMount(Context& ctx, const std::vector<std::string>& args, const std::string& api_prefix,
                 const std::string& noun);

// SanitizePath(p) + "/", or "" when nothing is left.
std::string WithTrailingSlash(std::string_view p);

// sys/ responses carry their data both under "data" and at the top level.
nlohmann::json SysData(const nlohmann::json& body);

}  // namespace coffer::cli
