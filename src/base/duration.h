// Durations in every form Vault accepts: a bare integer or numeric string means seconds
// ("30", 30), otherwise Go duration syntax with units ns, us, ms, s, m, h and Vault's d
// ("30s", "768h", "1h30m", "1.5h", "7d"). Results are whole seconds (fractions truncate).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace coffer {

StatusOr<int64_t> ParseDurationSeconds(std::string_view text);
// Renders seconds as Go's time.Duration String() does: "768h0m0s", "1m30s", "0s".
std::string FormatDuration(int64_t seconds);

}  // namespace coffer
