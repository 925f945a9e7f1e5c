// A bounded LRU read cache in front of a physical::Backend. It caches exactly what the inner
// backend stores (ciphertext once the barrier sits above), including "absent" answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "physical/backend.h"

namespace coffer::physical {

struct CacheStats {
  uint64_t hits = 0;       // Get answered from the cache
  uint64_t misses = 0;     // Get that went to the inner backend
  uint64_t evictions = 0;  // entries dropped to stay within max_entries
  size_t entries = 0;      // entries held now (values and absent markers)
};

// The cache over `inner`. At most `max_entries` keys are held (0 disables caching). A read
// after a successful write always sees that write; a failed write drops the key from the cache
// because its outcome is unknown. List and errors are never cached. Thread-safe.
std::unique_ptr<Backend> NewCachedBackend(std::unique_ptr<Backend> inner, size_t max_entries);

// Statistics of a backend made by NewCachedBackend; all zero for any other backend.
CacheStats GetCacheStats(const Backend& backend);

}  // namespace coffer::physical
