// AppRole `tidy/secret-id`: removes expired secret IDs, secret IDs whose accessor index is gone,
// and accessor index entries whose secret ID is gone. Vault starts this in the background and
// answers 202 at once; Coffer runs it to completion within the request and answers 202 too (so
// clients that expect Vault's status keep working), with a warning that says what was removed.
#include <mutex>
#include <shared_mutex>

#include "engines/auth/approle/approle.h"

namespace coffer::approle {

using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

struct TidyCounts {
  int64_t expired = 0;
  int64_t orphaned = 0;  // secret IDs without an accessor index
  int64_t dangling = 0;  // accessor index entries without a secret ID
};

Status TidySecretIds(Store& store, logical::Storage& storage, TidyCounts* counts) {
  const UnixNanos now = store.Now();
  ASSIGN_OR_RETURN(std::vector<std::string> role_hmacs, storage.List(kSecretIdPrefix));
  for (std::string role_dir : role_hmacs) {
    if (role_dir.empty() || role_dir.back() != '/') continue;
    role_dir.pop_back();
    ASSIGN_OR_RETURN(std::vector<std::string> secret_hmacs,
                     storage.List(std::string(kSecretIdPrefix) + role_dir + "/"));
    for (const std::string& secret_hmac : secret_hmacs) {
      std::unique_lock lock(store.SecretLock(secret_hmac));
      const std::string key = SecretIdKey(role_dir, secret_hmac);
      ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, LoadSecretId(storage, key));
      if (!entry) continue;
      ASSIGN_OR_RETURN(std::string accessor_hmac, store.Hmac(storage, entry->accessor));
      ASSIGN_OR_RETURN(std::optional<AccessorEntry> index, LoadAccessor(storage, kAccessorPrefix + accessor_hmac));
      if (!index) {
        RETURN_IF_ERROR(storage.Delete(key));
        ++counts->orphaned;
      } else if (entry->expiration_time != 0 && now >= entry->expiration_time) {
        RETURN_IF_ERROR(DeleteSecretId(store, storage, key, entry->accessor));
        ++counts->expired;
      }
    }
  }
  return OkStatus();
}

Status TidyAccessors(Store& store, logical::Storage& storage, TidyCounts* counts) {
  ASSIGN_OR_RETURN(std::vector<std::string> accessor_hmacs, storage.List(kAccessorPrefix));
  for (const std::string& accessor_hmac : accessor_hmacs) {
    const std::string index_key = kAccessorPrefix + accessor_hmac;
    ASSIGN_OR_RETURN(std::optional<AccessorEntry> index, LoadAccessor(storage, index_key));
    if (!index) continue;
    // A secret ID and its index are written in one transaction under this lock, so holding it
    // means no registration is half done.
    std::unique_lock lock(store.SecretLock(index->secret_id_hmac));
    ASSIGN_OR_RETURN(std::optional<std::string> entry,
                     storage.Get(SecretIdKey(index->role_name_hmac, index->secret_id_hmac)));
    if (entry) continue;
    RETURN_IF_ERROR(storage.Delete(index_key));
    ++counts->dangling;
  }
  return OkStatus();
}

StatusOr<Response> HandleTidy(Store& store, Request& req, const FieldData&) {
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::unique_lock tidy(store.TidyMutex(), std::try_to_lock);
  if (!tidy.owns_lock()) {
    Response resp;
    resp.warnings.push_back("Tidy operation already in progress.");
    return resp;
  }
  TidyCounts counts;
  RETURN_IF_ERROR(TidySecretIds(store, *storage, &counts));
  RETURN_IF_ERROR(TidyAccessors(store, *storage, &counts));
  return EnvelopeWithStatus(
      req, 202,
      {"Tidy operation completed (Coffer tidies within the request): removed " + std::to_string(counts.expired) +
       " expired secret ID(s), " + std::to_string(counts.orphaned) + " secret ID(s) without an accessor and " +
       std::to_string(counts.dangling) + " dangling accessor entr" + (counts.dangling == 1 ? "y" : "ies") + "."});
}

}  // namespace

logical::Path TidyPath(std::shared_ptr<Store> store) {
  auto tidy = [store](Request& req, const FieldData& f) { return HandleTidy(*store, req, f); };
  return logical::Path{
      .pattern = "tidy/secret-id",
      .operations = {{Operation::kUpdate, tidy}, {Operation::kCreate, tidy}},
      .help_synopsis = "Trigger the clean-up of expired SecretID entries.",
      .help_description =
          "Removes expired secret IDs, secret IDs whose accessor index is missing and accessor "
          "index entries whose secret ID is gone. Coffer also refuses expired secret IDs at login "
          "(and deletes them then), so tidying only reclaims storage.",
  };
}

}  // namespace coffer::approle
