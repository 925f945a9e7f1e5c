// Vault's seal-status output, shared by `status` and `operator unseal` (defined in cmd_status.cc).
#pragma once

#include <nlohmann/json.hpp>

namespace coffer::cli {

class Context;

// Prints a sys/seal-status response (plus sys/leader's HA fields) as Vault does: its Key/Value
// table, or the JSON/YAML object with ha_enabled and friends added. Returns 0, or 1 when the
// leader status cannot be read.
int OutputSealStatus(Context& ctx, const nlohmann::json& seal_status);

}  // namespace coffer::cli
