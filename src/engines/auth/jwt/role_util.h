// Pieces the jwt and kubernetes auth methods share for their roles: role-name checks, Vault's
// deprecated token field names (policies, ttl, max_ttl, period, num_uses, bound_cidrs) that
// clients such as hvac still send, and login-time CIDR checks.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "logical/framework.h"
#include "logical/token_fields.h"

namespace coffer::jwt {

// Vault's GenericNameRegex: letters, digits, '_', '-' and '.', starting and ending with a
// letter, digit or '_'; at most 128 characters. InvalidArgument naming the field otherwise.
Status CheckRoleName(const std::string& name);

// Declares the deprecated names as fields.
void AddLegacyTokenFieldsTo(std::vector<logical::Field>* schema);

// Applies the token_* fields and, for each deprecated name supplied without its token_*
// twin, the deprecated value (as Vault's tokenutil.UpgradeValue does). Returns the same errors
// as TokenFields::Update; on error nothing is changed.
Status UpdateTokenFields(const logical::FieldData& fields, logical::TokenFields* token);

// Status of the role's token_bound_cidrs against the login's remote address: OK when none
// are set, PermissionDenied otherwise (also when the address is unknown).
Status CheckLoginCidrs(const logical::TokenFields& token, const std::string& remote_address);

// The strings of a JSON array (non-strings skipped); empty for anything else.
std::vector<std::string> JsonStrings(const nlohmann::json& v);

}  // namespace coffer::jwt
