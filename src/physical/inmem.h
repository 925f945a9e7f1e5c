// An in-memory physical::Backend for tests and `-dev` servers. Nothing survives the process.
#pragma once

#include <memory>

#include "physical/backend.h"

namespace coffer::physical {

// A new empty backend. Thread-safe: reads share a lock, writes and transactions take it
// exclusively, so a Transaction is atomic with respect to every other call. Never fails.
std::unique_ptr<Backend> NewInmemBackend();

}  // namespace coffer::physical
