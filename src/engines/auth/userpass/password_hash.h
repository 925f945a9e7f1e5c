// Password hashing for userpass: scrypt (RFC 7914) with a random 16-byte salt per password.
// The cost parameters are stored beside the hash, so the defaults can be raised later without
// invalidating existing passwords (each record is verified with its own parameters).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace coffer::userpass {

struct ScryptParams {
  int log2_n = 14;  // N = 2^log2_n
  uint32_t r = 8;
  uint32_t p = 1;
  bool operator==(const ScryptParams&) const = default;
};

// N = 2^14, r = 8, p = 1 (16 MiB per hash): 33-36 ms of CPU time per hash on the 2-core build
// machine (PasswordHashTest.DefaultCostIsInteractive prints it), about 50 ms of server CPU per
// login under load: inside the 30-60 ms a login may cost, while making offline guessing dear.
inline constexpr ScryptParams kDefaultScryptParams{};

inline constexpr size_t kSaltBytes = 16;
inline constexpr size_t kHashBytes = 32;

struct PasswordHash {
  ScryptParams params{};
  std::string salt{};  // kSaltBytes random bytes
  std::string hash{};  // kHashBytes of scrypt output

  // {"algorithm": "scrypt", "log2_n", "r", "p", "salt" and "hash" (standard base64)}.
  nlohmann::json ToJson() const;
  // The inverse of ToJson. A malformed record (unknown algorithm, parameters outside the range
  // Coffer would ever use, bad base64, wrong sizes) is DataLoss: storage is authenticated, so
  // only a bug or tampering with the key could produce one.
  static StatusOr<PasswordHash> FromJson(const nlohmann::json& j);
};

// Hashes `password` with a fresh random salt. Unavailable if the memory cannot be allocated.
StatusOr<PasswordHash> HashPassword(std::string_view password, const ScryptParams& params);

// Recomputes the hash of `password` with `stored`'s salt and parameters and compares in
// constant time. Errors only when scrypt itself fails.
StatusOr<bool> VerifyPassword(std::string_view password, const PasswordHash& stored);

// A record no password matches (random salt and random "hash") that costs exactly as much to
// check as a real one with `params`: logins for unknown users verify against it, so they take
// the same time as a wrong password.
PasswordHash DummyPasswordHash(const ScryptParams& params);

// Every hash runs under a process-wide limit on concurrent scrypt computations (16 MiB each at
// the default cost), so a flood of logins queues instead of exhausting memory.
int MaxConcurrentHashes();

}  // namespace coffer::userpass
