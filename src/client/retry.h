// Retry policy of coffer::client, shared by VaultClient and its tests. It follows Vault's Go
// client: retry connection failures, 412, 429 and 5xx except 501; never other 4xx.
#pragma once

#include <chrono>
#include <cstdint>

namespace coffer::client {

// True for HTTP statuses worth retrying: 412 (a replica not yet caught up), 429, 5xx but 501.
bool IsRetryableStatus(int status);

// The wait before retry number `attempt` (0 for the first retry): exponential from min_wait,
// doubled per attempt, plus up to 50% random jitter, clamped to [min_wait, max_wait].
// `random_unit` is a number in [0, 1) supplied by the caller so tests are deterministic.
std::chrono::milliseconds RetryWait(std::chrono::milliseconds min_wait, std::chrono::milliseconds max_wait, int attempt,
                                    double random_unit);

}  // namespace coffer::client
