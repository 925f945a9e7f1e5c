// Pieces the jwt and kubernetes auth methods share for their roles: storage helpers, the role
// read/list/delete/existence handlers, role-name checks, Vault's deprecated token field names
// (policies, ttl, max_ttl, period, num_uses, bound_cidrs) that clients such as hvac still send,
// and login-time CIDR checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"
#include "logical/framework.h"
#include "logical/storage.h"
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

// The request's storage view; InternalError naming `method` when it has none.
StatusOr<logical::Storage*> StorageOf(logical::Request& req, std::string_view method);

// The JSON object stored at `key`, nullopt when absent; DataLoss naming `method` and the key
// when the entry is not a JSON object.
StatusOr<std::optional<nlohmann::json>> GetJson(logical::Storage* storage, const std::string& key,
                                                std::string_view method);


// Roles kept as JSON objects at `prefix` + lower-cased name, with the read, list, delete and
// existence handlers both methods expose at role/ and role/{name}. Role needs
// `static Role FromJson(const nlohmann::json&)` and `nlohmann::json ToJson() const`.
template <class Role>
class RoleStore {
 public:
  RoleStore(std::string prefix, std::string method) : prefix_(std::move(prefix)), method_(std::move(method)) {}

  StatusOr<std::optional<Role>> Load(logical::Storage* storage, const std::string& name) const {
    ASSIGN_OR_RETURN(auto stored, GetJson(storage, prefix_ + name, method_));
    if (!stored) return std::optional<Role>();
    return std::optional<Role>(Role::FromJson(*stored));
  }

  logical::Handler Read() const {
    return [this](logical::Request& req, const logical::FieldData& f) -> StatusOr<logical::Response> {
      ASSIGN_OR_RETURN(auto* storage, StorageOf(req, method_));
      ASSIGN_OR_RETURN(auto role, Load(storage, AsciiLower(f.GetString("name"))));
      if (!role) return NotFound();
      return logical::Response::WithData(role->ToJson());
    };
  }

  logical::Handler List() const {
    return [this](logical::Request& req, const logical::FieldData&) -> StatusOr<logical::Response> {
      ASSIGN_OR_RETURN(auto* storage, StorageOf(req, method_));
      ASSIGN_OR_RETURN(auto keys, storage->List(prefix_));
      if (keys.empty()) return NotFound();
      return logical::Response::WithData(nlohmann::json{{"keys", keys}});
    };
  }

  logical::Handler Delete() const {
    return [this](logical::Request& req, const logical::FieldData& f) -> StatusOr<logical::Response> {
      ASSIGN_OR_RETURN(auto* storage, StorageOf(req, method_));
      std::string name = AsciiLower(f.GetString("name"));
      RETURN_IF_ERROR(CheckRoleName(name));
      RETURN_IF_ERROR(storage->Delete(prefix_ + name));
      return logical::Response();
    };
  }

  logical::ExistenceFunc Exists() const {
    return [this](logical::Request& req, const logical::FieldData& f) -> StatusOr<bool> {
      ASSIGN_OR_RETURN(auto* storage, StorageOf(req, method_));
      ASSIGN_OR_RETURN(auto role, Load(storage, AsciiLower(f.GetString("name"))));
      return role.has_value();
    };
  }

 private:
  std::string prefix_;
  std::string method_;
};

}  // namespace coffer::jwt
