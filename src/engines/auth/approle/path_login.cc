// AppRole `login` (unauthenticated): role_id (+ secret_id when the role binds one) -> a
// logical::Auth the core turns into a token.
#include <mutex>
#include <shared_mutex>

#include "base/cidr.h"
#include "engines/auth/approle/approle.h"

namespace coffer::approle {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Status Invalid() { return InvalidArgument(kInvalidCredentials); }

// The remote address, or an error when a CIDR check needs one and the request has none.
StatusOr<std::string> RemoteIpOf(const Request& req) {
  std::string ip = RemoteIp(req.remote_address);
  if (ip.empty()) return InternalError("failed to get connection information");
  return ip;
}

// Checks the secret ID's own CIDR binding (and that it still lies within the role's).
// `through` picks Vault's wording for unlimited secret IDs ("through") or counted ones ("by").
Status CheckSecretIdCidrs(const Request& req, const Role& role, const SecretIdEntry& entry, bool through) {
  RETURN_IF_ERROR(CheckCidrSubset(entry.cidr_list, role.secret_id_bound_cidrs));
  if (entry.cidr_list.empty()) return OkStatus();
  ASSIGN_OR_RETURN(std::string ip, RemoteIpOf(req));
  if (!AddressAllowed(entry.cidr_list, ip)) {
    return InvalidArgument("source address \"" + ip + "\" unauthorized " + (through ? "through" : "by") +
                           " CIDR restrictions on the secret ID");
  }
  return OkStatus();
}

// Validates the secret ID and spends one use of it. Returns the entry as it was before the use.
StatusOr<SecretIdEntry> UseSecretId(Store& store, Request& req, logical::Storage& storage, const Role& role,
                                    const std::string& secret_id) {
  if (secret_id.size() > kMaxHmacInputLength) return Invalid();
  ASSIGN_OR_RETURN(std::string secret_hmac, store.Hmac(storage, secret_id));
  ASSIGN_OR_RETURN(std::string role_hmac, store.Hmac(storage, role.name));
  const std::string key = SecretIdKey(role_hmac, secret_hmac);
  std::shared_mutex& mu = store.SecretLock(secret_hmac);

  // Unlimited secret IDs are only read: a shared lock lets their logins run in parallel.
  {
    std::shared_lock lock(mu);
    ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(storage, key));
    if (!entry) return Invalid();
    const bool expired = entry->expiration_time != 0 && store.Now() >= entry->expiration_time;
    if (!expired && entry->num_uses == 0) {
      ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(storage, entry->accessor));
      ASSIGN_OR_RETURN(std::optional<AccessorEntry> index, LoadAccessor(storage, kAccessorPrefix + accessor_hmac));
      if (index) {
        RETURN_IF_ERROR(CheckSecretIdCidrs(req, role, *entry, /*through=*/true));
        return std::move(*entry);
      }
    }
  }

  // Counted, expired or orphaned: decide under the exclusive lock, re-reading the entry, so two
  // logins racing for the last use cannot both win.
  std::unique_lock lock(mu);
  ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(storage, key));
  if (!entry) return Invalid();
  ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(storage, entry->accessor));
  ASSIGN_OR_RETURN(std::optional<AccessorEntry> index, LoadAccessor(storage, kAccessorPrefix + accessor_hmac));
  if (!index) {
    RETURN_IF_ERROR(storage.Delete(key));  // a secret ID without its accessor is revoked on sight
    return Invalid();
  }
  const UnixNanos now = store.Now();
  if (entry->expiration_time != 0 && now >= entry->expiration_time) {
    RETURN_IF_ERROR(DeleteSecretId(store, storage, key, entry->accessor));
    return Invalid();
  }
  if (entry->num_uses == 0) {
    RETURN_IF_ERROR(CheckSecretIdCidrs(req, role, *entry, /*through=*/true));
    return std::move(*entry);
  }
  // Unlike Vault, a login refused by the CIDR binding does not spend a use.
  RETURN_IF_ERROR(CheckSecretIdCidrs(req, role, *entry, /*through=*/false));
  if (entry->num_uses == 1) {
    RETURN_IF_ERROR(DeleteSecretId(store, storage, key, entry->accessor));
  } else {
    SecretIdEntry next = *entry;
    next.num_uses -= 1;
    next.last_updated_time = now;
    RETURN_IF_ERROR(storage.Put(key, EncodeSecretId(next)));
  }
  return std::move(*entry);
}

StatusOr<Response> HandleLogin(Store& store, Request& req, const FieldData& fields) {
  const std::string role_id = Trim(fields.GetString("role_id"));
  if (role_id.empty()) return InvalidArgument("missing role_id");
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  ASSIGN_OR_RETURN(std::optional<std::string> name, LookupRoleId(store, *storage, role_id));
  if (!name) return Invalid();
  std::optional<Role> role;
  {
    std::shared_lock lock(store.RoleLock(*name));
    ASSIGN_OR_RETURN(role, LoadRole(*storage, *name));
  }
  if (!role || role->role_id != role_id) return Invalid();

  std::optional<SecretIdEntry> entry;
  if (role->bind_secret_id) {
    const std::string secret_id = Trim(fields.GetString("secret_id"));
    if (secret_id.empty()) return InvalidArgument("missing secret_id");
    ASSIGN_OR_RETURN(entry, UseSecretId(store, req, *storage, *role, secret_id));
  }

  if (!role->secret_id_bound_cidrs.empty()) {
    ASSIGN_OR_RETURN(std::string ip, RemoteIpOf(req));
    if (!AddressAllowed(role->secret_id_bound_cidrs, ip)) {
      return InvalidArgument("source address \"" + ip + "\" unauthorized by CIDR restrictions on the role");
    }
  }

  logical::Auth auth;
  role->token.PopulateAuth(&auth);
  if (entry) {
    auth.metadata = entry->metadata;
    if (!entry->token_bound_cidrs.empty()) auth.bound_cidrs = entry->token_bound_cidrs;
  }
  auth.metadata["role_name"] = role->name;
  auth.alias.name = role->role_id;
  auth.alias.metadata = {{"role_name", role->name}};
  Response resp;
  resp.login = std::move(auth);
  return resp;
}

}  // namespace

logical::Path LoginPath(std::shared_ptr<Store> store) {
  auto login = [store](Request& req, const FieldData& f) { return HandleLogin(*store, req, f); };
  return logical::Path{
      .pattern = "login",
      .fields = {{"role_id", FieldType::kString,
                  "Unique identifier of the Role. Required to be supplied when the 'bind_secret_id' constraint is "
                  "set."},
                 {"secret_id", FieldType::kString, "SecretID belong to the App role", ""}},
      .operations = {{Operation::kUpdate, login}, {Operation::kCreate, login}},
      .help_synopsis = "Issue a token based on the credentials supplied",
      .help_description =
          "While the credential 'role_id' is required at all times, other credentials required depends on the "
          "properties App role to which the 'role_id' belongs to. The 'bind_secret_id' constraint (enabled by "
          "default) on the App role requires the 'secret_id' credential to be presented.",
  };
}

}  // namespace coffer::approle
