#include "cli/mount_flags.h"

#include <coffer/client.h>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/flags.h"

namespace coffer::cli {

using json = nlohmann::json;

void MountFlags::Add(FlagSet& f, const std::string& noun, bool tune, bool with_version) {
  flags_ = &f;
  noun_ = noun;
  f.String("description", &description,
           tune ? "Human-friendly description of this " + noun + ". This overrides the current stored value, if any."
                : "Human-friendly description for the purpose of this " + noun + ".");
  const std::string previous = tune ? ", or a previously configured value for the " + noun + "." : ".";
  f.Duration("default-lease-ttl", &default_lease_ttl,
             "The default lease TTL for this " + noun +
                 ". If unspecified, this defaults to the server's globally configured default lease TTL" + previous);
  f.Duration("max-lease-ttl", &max_lease_ttl,
             "The maximum lease TTL for this " + noun +
                 ". If unspecified, this defaults to the server's globally configured maximum lease TTL" + previous);
  f.StringMap("options", &options,
              "Key-value pair provided as key=value for the mount options. This can be specified multiple times.");
  if (with_version) {
    f.Int("version", &version, "Select the version of the engine to run. Not supported by all engines.");
    f.DefaultText("version", "");
  }
  f.String("listing-visibility", &listing_visibility,
           "Determines the visibility of the mount in the UI-specific listing endpoint. Only \"hidden\" (the "
           "default) is supported; \"unauth\" is refused.");
  f.StringList("audit-non-hmac-request-keys", &audit_non_hmac_request_keys,
               "Not supported by Coffer (its audit devices HMAC every string value); refused when given.");
  f.StringList("audit-non-hmac-response-keys", &audit_non_hmac_response_keys,
               "Not supported by Coffer (its audit devices HMAC every string value); refused when given.");
  f.StringList("passthrough-request-headers", &passthrough_request_headers,
               "Not supported by Coffer (a " + noun + " sees no request headers); refused when given.");
  f.StringList("allowed-response-headers", &allowed_response_headers,
               "Not supported by Coffer (a " + noun + " sets no response headers); refused when given.");
}

bool MountFlags::IsSet(const char* name) const { return flags_ != nullptr && flags_->IsSet(name); }

std::string MountFlags::Unsupported() const {
  for (const char* name : {"audit-non-hmac-request-keys", "audit-non-hmac-response-keys"}) {
    if (IsSet(name)) return std::string("-") + name + " is not supported: Coffer's audit devices HMAC every string value";
  }
  for (const char* name : {"passthrough-request-headers", "allowed-response-headers"}) {
    if (IsSet(name)) return std::string("-") + name + " is not supported by Coffer's " + noun_ + "s";
  }
  if (IsSet("listing-visibility")) {
    if (listing_visibility == "unauth") {
      return "-listing-visibility=unauth is not supported: Coffer has no unauthenticated listing of mounts "
             "(\"hidden\", the default, is)";
    }
    if (!listing_visibility.empty() && listing_visibility != "hidden") {
      return "Invalid -listing-visibility \"" + listing_visibility + "\": use \"hidden\" or \"unauth\"";
    }
  }
  return "";
}

json MountFlags::Ttls() const {
  json c = json::object();
  if (IsSet("default-lease-ttl")) c["default_lease_ttl"] = default_lease_ttl;
  if (IsSet("max-lease-ttl")) c["max_lease_ttl"] = max_lease_ttl;
  return c;
}

json MountFlags::Options() const {
  json o = json::object();
  for (const auto& [k, v] : options) o[k] = v;
  if (version > 0) o["version"] = std::to_string(version);
  return o;
}

int TuneMount(Context& ctx, const std::vector<std::string>& args, const MountFlags& mount,
              const std::string& api_prefix, const std::string& noun) {
  if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
  if (std::string e = mount.Unsupported(); !e.empty()) return ctx.UsageError(e);
  std::string path = WithTrailingSlash(args[0]);
  if (path.empty()) return ctx.UsageError("Invalid path: must not be empty");
  json body = mount.Ttls();
  if (mount.IsSet("description")) body["description"] = mount.description;
  json options = mount.Options();
  if (!options.empty()) body["options"] = options;
  client::Response r = ctx.Send("POST", api_prefix + path + "tune", &body);
  if (ctx.curl_printed()) return kExitOk;
  if (!r.ok()) return ctx.ApiError("Error tuning " + noun + " " + path, r);
  ctx.Info("Success! Tuned the " + noun + " at: " + path);
  return kExitOk;
}

int DisableMount(Context& ctx, const std::vector<std::string>& args, const std::string& api_prefix,
                 const std::string& noun) {
  if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
  std::string path = WithTrailingSlash(args[0]);
  if (path.empty()) return ctx.UsageError("Invalid path: must not be empty");
  client::Response r = ctx.Send("DELETE", api_prefix + path);
  if (ctx.curl_printed()) return kExitOk;
  if (!r.ok()) return ctx.ApiError("Error disabling " + noun + " at " + path, r);
  ctx.Info("Success! Disabled the " + noun + " (if it existed) at: " + path);
  return kExitOk;
}

std::string WithTrailingSlash(std::string_view p) {
  std::string s = SanitizePath(p);
  if (!s.empty()) s += '/';
  return s;
}

json SysData(const json& body) {
  if (body.is_object() && body.contains("data") && body["data"].is_object()) return body["data"];
  return body;
}

}  // namespace coffer::cli
