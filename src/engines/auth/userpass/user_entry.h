// A userpass user as stored in the mount's view under "user/<lower-cased name>": the scrypt
// hash of the password (never the password), the token_* settings, and Vault's deprecated
// aliases (policies, ttl, max_ttl, bound_cidrs), kept apart as Vault keeps them so a read shows
// them only when the client set them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engines/auth/userpass/password_hash.h"
#include "logical/storage.h"
#include "logical/token_fields.h"

namespace coffer::userpass {

inline constexpr char kUserPrefix[] = "user/";

struct UserEntry {
  std::optional<PasswordHash> password{};  // set for every user this backend creates
  logical::TokenFields token{};
  // Deprecated aliases of token_policies, token_ttl, token_max_ttl and token_bound_cidrs.
  std::vector<std::string> policies{};
  std::vector<std::string> bound_cidrs{};
  int64_t ttl = 0, max_ttl = 0;

  std::string Encode() const;
  // DataLoss for a record that is not what Encode writes.
  static StatusOr<UserEntry> Decode(std::string_view text);
};

// Vault's user names: a word character, optionally followed by word characters, '-' or '.'
// and ending in a word character (framework.GenericNameRegex). Checked before lower-casing.
bool ValidUsername(std::string_view name);
// `name` lower-cased, as Vault stores and looks users up; InvalidArgument naming the
// "username" field when the name is not valid.
StatusOr<std::string> NormalizeUsername(std::string_view name);

// The user `name` (already normalized), or std::nullopt.
StatusOr<std::optional<UserEntry>> LoadUser(logical::Storage& storage, const std::string& name);
Status SaveUser(logical::Storage& storage, const std::string& name, const UserEntry& entry);

}  // namespace coffer::userpass
