// The single path of KV v1: "{path*}" with read, create/update, delete, list and an existence
// check. Internal to the kv engine.
#pragma once

#include <cstdint>

#include "logical/framework.h"

namespace coffer::kv {

// `default_lease_ttl_seconds` is reported as the lease_duration of reads without a "ttl".
logical::Path KvV1SecretPath(int64_t default_lease_ttl_seconds);

}  // namespace coffer::kv
