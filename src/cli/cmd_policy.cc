// `policy list|read|write|delete|fmt`: ACL policies (sys/policies/acl).
#include <coffer/client.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "base/file_io.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/policy_format.h"
#include "cli/registry.h"
#include "policy/policy.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

std::string TrimSpace(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Reads a policy file (or stdin for "-"); *error gets one line on failure.
bool ReadPolicySource(Context& ctx, const std::string& path, std::string* out, std::string* error) {
  if (path == "-") {
    std::ostringstream ss;
    ss << ctx.in().rdbuf();
    *out = ss.str();
    return true;
  }
  std::string reason;
  if (!ReadFile(path, out, &reason)) {
    *error = "Error opening policy file \"" + path + "\": " + reason;
    return false;
  }
  return true;
}

class PolicyListCommand : public Command {
 public:
  std::string Synopsis() const override { return "Lists the installed policies"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} policy list [options]

  Lists the names of the policies that are installed on the server.

  List the available policies:

      $ {{prog}} policy list)";
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("LIST", "sys/policies/acl");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error listing policies", r);
    json keys = json::array();
    if (r.body.is_object() && r.body.contains("data") && r.body["data"].is_object() &&
        r.body["data"].contains("keys") && r.body["data"]["keys"].is_array()) {
      keys = r.body["data"]["keys"];
    }
    if (ctx.options().format != "table") return ctx.OutputData(keys);
    for (const auto& k : keys) ctx.Info(GoValue(k));
    return kExitOk;
  }
};

class PolicyReadCommand : public Command {
 public:
  std::string Synopsis() const override { return "Prints the contents of a policy"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} policy read [options] [NAME]

  Prints the contents and metadata of the policy named NAME. If the policy does
  not exist, an error is returned.

  Read the policy named "my-policy":

      $ {{prog}} policy read my-policy)";
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    std::string name = AsciiLower(TrimSpace(args[0]));
    if (name.empty()) return ctx.UsageError("Invalid policy name: must not be empty");
    client::Response r = ctx.Send("GET", "sys/policies/acl/" + name);
    if (ctx.curl_printed()) return kExitOk;
    if (r.status == 404) return ctx.Error("No policy named: " + name);
    if (!r.ok()) return ctx.ApiError("Error reading policy named " + name, r);
    std::string rules;
    if (r.body.is_object() && r.body.contains("data") && r.body["data"].is_object()) {
      const json& d = r.body["data"];
      if (d.contains("policy") && d["policy"].is_string())
        rules = d["policy"].get<std::string>();
      else if (d.contains("rules") && d["rules"].is_string())
        rules = d["rules"].get<std::string>();
    }
    if (rules.empty()) return ctx.Error("No policy named: " + name);
    if (ctx.options().format != "table") return ctx.OutputData(json{{"policy", rules}});
    ctx.Info(TrimSpace(rules));
    return kExitOk;
  }
};

class PolicyWriteCommand : public Command {
 public:
  std::string Synopsis() const override { return "Uploads a named policy from a file"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} policy write [options] NAME PATH

  Uploads a policy with name NAME from the contents of a local file PATH or
  stdin. If PATH is "-", the policy is read from stdin. Otherwise, it is
  loaded from the file at the given path on the local disk.

  Upload a policy named "my-policy" from "/tmp/policy.hcl" on the local disk:

      $ {{prog}} policy write my-policy /tmp/policy.hcl

  Upload a policy from stdin:

      $ cat my-policy.hcl | {{prog}} policy write my-policy -)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 2, 2)) return rc;
    std::string name = AsciiLower(TrimSpace(args[0]));
    if (name.empty()) return ctx.UsageError("Invalid policy name: must not be empty");
    std::string rules, error;
    if (!ReadPolicySource(ctx, args[1], &rules, &error)) return ctx.UsageError(error);
    if (TrimSpace(rules).empty())
      return ctx.UsageError("Invalid policy: the policy from " +
                            std::string(args[1] == "-" ? "stdin" : "\"" + args[1] + "\"") + " is empty");
    json body = {{"policy", rules}};
    client::Response r = ctx.Send("PUT", "sys/policies/acl/" + name, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error uploading policy", r);
    ctx.Info("Success! Uploaded policy: " + name);
    return kExitOk;
  }
};

class PolicyDeleteCommand : public Command {
 public:
  std::string Synopsis() const override { return "Deletes a policy by name"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} policy delete [options] NAME

  Deletes the policy named NAME on the server. Once the policy is deleted, all
  tokens associated with the policy are affected immediately.

  Delete the policy named "my-policy":

      $ {{prog}} policy delete my-policy

  Note that it is not possible to delete the "default" or "root" policies.
  These are built-in policies.)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    std::string name = AsciiLower(TrimSpace(args[0]));
    if (name.empty()) return ctx.UsageError("Invalid policy name: must not be empty");
    client::Response r = ctx.Send("DELETE", "sys/policies/acl/" + name);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error deleting " + name, r);
    ctx.Info("Success! Deleted policy: " + name);
    return kExitOk;
  }
};

class PolicyFmtCommand : public Command {
 public:
  std::string Synopsis() const override { return "Formats a policy on disk"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} policy fmt [options] PATH

  Formats a local policy file to the policy specification. This command will
  overwrite the file at the given PATH with the properly-formatted policy file
  contents. The policy is validated first; an invalid policy is left untouched.

  Format the local file "my-policy.hcl" as a policy file:

      $ {{prog}} policy fmt my-policy.hcl)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    const std::string& path = args[0];
    if (path == "-") return ctx.UsageError("policy fmt formats a file in place: give a file path, not \"-\"");
    std::string text, error;
    if (!ReadPolicySource(ctx, path, &text, &error)) return ctx.UsageError(error);
    auto parsed = policy::ParsePolicy("fmt", text);
    if (!parsed.ok()) return ctx.UsageError("Failed to parse policy: " + parsed.status().message());
    std::string formatted = FormatPolicyHcl(text);
    if (text.find_first_not_of(" \t\r\n") != std::string::npos && text.find('{') != std::string::npos &&
        TrimSpace(text)[0] == '{') {
      formatted = text;  // JSON policies are left as written
    }
    if (Status w = WriteFileAtomic(path, formatted, 0644, {.keep_existing_mode = true}); !w.ok()) {
      return ctx.Error("Error writing formatted policy to \"" + path + "\": " + w.message());
    }
    ctx.Info("Success! Formatted policy: " + path);
    return kExitOk;
  }
};

constexpr char kPolicyHelp[] = R"(Usage: {{prog}} policy <subcommand> [options] [args]

  This command groups subcommands for interacting with policies. Users can
  write, read, and list policies.

  List all enabled policies:

      $ {{prog}} policy list

  Create a policy named "my-policy" from contents on local disk:

      $ {{prog}} policy write my-policy ./my-policy.hcl

  Delete the policy named my-policy:

      $ {{prog}} policy delete my-policy

  Please see the individual subcommand help for detailed usage information.)";

}  // namespace

void RegisterPolicyCommands(Registry& r) {
  r.AddGroup("policy", "Interact with policies", kPolicyHelp);
  r.Add<PolicyListCommand>("policy list");
  r.Add<PolicyReadCommand>("policy read");
  r.Add<PolicyWriteCommand>("policy write");
  r.Add<PolicyDeleteCommand>("policy delete");
  r.Add<PolicyFmtCommand>("policy fmt");
}

}  // namespace coffer::cli
