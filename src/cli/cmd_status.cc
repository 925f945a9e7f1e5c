// `status`: the server's seal status (Vault's `vault status`). Exit 0 unsealed, 2 sealed, 1 error.
#include <coffer/client.h>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/registry.h"
#include "cli/seal_status.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

std::string Str(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : GoValue(*it);
}

bool Bool(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

class StatusCommand : public Command {
 public:
  std::string Synopsis() const override { return "Print seal and HA status"; }
  std::string Help() const override {
    return "Usage: {{prog}} status [options]\n\n"
           "  Prints the current state of the server: whether it is initialized and sealed,\n"
           "  the unseal progress, and its HA state.\n\n"
           "  The exit code reflects the seal status:\n\n"
           "      - 0 - unsealed\n"
           "      - 1 - error\n"
           "      - 2 - sealed\n\n"
           "  Check the status:\n\n"
           "      $ {{prog}} status";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 0, 0)) return rc;
    client::Response r = ctx.Send("GET", "sys/seal-status");
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error checking seal status", r);
    if (int rc = OutputSealStatus(ctx, r.body)) return rc;
    return Bool(r.body, "sealed") ? 2 : kExitOk;
  }
};

}  // namespace

int OutputSealStatus(Context& ctx, const json& status) {
  json leader = json::object();
  client::Response lr = ctx.Send("GET", "sys/leader");
  if (lr.ok() && lr.body.is_object()) {
    leader = lr.body;
  } else {
    bool sealed_error = false;
    for (const auto& e : lr.errors) sealed_error |= e.find("Vault is sealed") != std::string::npos;
    if (!sealed_error) return ctx.ApiError("Error checking leader status", lr);
    leader["ha_enabled"] = true;  // Vault's CLI reads "sealed" from leader status as HA enabled
  }
  const bool sealed = Bool(status, "sealed");
  const bool ha = Bool(leader, "ha_enabled");

  if (ctx.options().format != "table") {
    json out = status.is_object() ? status : json::object();
    out["ha_enabled"] = ha;
    if (Bool(leader, "is_self")) out["is_self"] = true;
    out["active_time"] = leader.value("active_time", std::string("0001-01-01T00:00:00Z"));
    if (auto a = Str(leader, "leader_address"); !a.empty()) out["leader_address"] = a;
    if (auto a = Str(leader, "leader_cluster_address"); !a.empty()) out["leader_cluster_address"] = a;
    return ctx.OutputData(out);
  }

  const std::string prefix = Bool(status, "recovery_seal") ? "Recovery " : "";
  std::vector<std::vector<std::string>> rows = {
      {"Key", "Value"},
      {prefix + "Seal Type", Str(status, "type")},
      {"Initialized", Bool(status, "initialized") ? "true" : "false"},
      {"Sealed", sealed ? "true" : "false"},
      {"Total " + prefix + "Shares", Str(status, "n")},
      {"Threshold", Str(status, "t")},
  };
  if (sealed) {
    rows.push_back({"Unseal Progress", Str(status, "progress") + "/" + Str(status, "t")});
    rows.push_back({"Unseal Nonce", Str(status, "nonce")});
  }
  if (Bool(status, "migration")) rows.push_back({"Seal Migration in Progress", "true"});
  rows.push_back({"Version", Str(status, "version")});
  rows.push_back({"Build Date", Str(status, "build_date")});
  rows.push_back({"Storage Type", Str(status, "storage_type")});
  if (!Str(status, "cluster_name").empty() && !Str(status, "cluster_id").empty()) {
    rows.push_back({"Cluster Name", Str(status, "cluster_name")});
    rows.push_back({"Cluster ID", Str(status, "cluster_id")});
  }
  rows.push_back({"HA Enabled", ha ? "true" : "false"});
  if (ha && !sealed) {
    rows.push_back({"HA Cluster", Str(leader, "leader_cluster_address")});
    const bool is_self = Bool(leader, "is_self");
    rows.push_back({"HA Mode", is_self ? "active" : "standby"});
    std::string active_time = Str(leader, "active_time");
    if (is_self && !active_time.empty() && active_time.rfind("0001-01-01", 0) != 0) {
      rows.push_back({"Active Since", active_time});
    }
    if (!is_self) {
      std::string addr = Str(leader, "leader_address");
      rows.push_back({"Active Node Address", addr.empty() ? "<none>" : addr});
    }
  }
  ctx.Info(Table(rows));
  return kExitOk;
}

void RegisterStatusCommands(Registry& r) { r.Add<StatusCommand>("status"); }

}  // namespace coffer::cli
