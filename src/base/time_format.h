// Times as the Vault API prints them.
#pragma once

#include <cstdint>
#include <string>

namespace coffer {

// "2026-11-23T04:05:06Z" (RFC 3339, UTC, whole seconds).
std::string FormatRfc3339(int64_t unix_seconds);

}  // namespace coffer
