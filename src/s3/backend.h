// Opening the store a `secrets.backend` block describes: the master key (encryption.key_source
// env|file), the S3 client and the Store options. Shared by `coffer s3 ...` (src/cli/cmd_s3.cc)
// and the resolver's `source: s3` (src/cli/cmd_project.cc), so both read keys and settings the
// same way. Messages name the field ("key_env: ...", "key_file: ...") and never hold key material.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "formats/age/keys.h"
#include "s3/client.h"
#include "s3/config.h"
#include "s3/store.h"

namespace coffer::s3 {

using WarnFn = std::function<void(const std::string&)>;

// Identities from an age identity file (age-keygen format or bare keys). `field` prefixes every
// message ("key_file", "--new-key"). A file readable by group/others is used with a warning.
// Errors are kInvalidArgument.
StatusOr<std::vector<age::X25519Identity>> LoadIdentityFile(const std::string& field, const std::string& raw_path,
                                                            const WarnFn& warn);

// The master key as b.key_source says: "env" reads $key_env, otherwise key_file.
StatusOr<std::vector<age::X25519Identity>> LoadMasterKey(const BackendConfig& b, const WarnFn& warn);

// An empty region becomes the AWS environment's (AWS_REGION, the profile), else us-east-1.
void ApplyDefaultRegion(BackendConfig* b);

// The S3 client for the backend's bucket, region and endpoint, with credentials from the AWS
// environment. COFFER_S3_MAX_RETRIES / COFFER_S3_LIST_PAGE_SIZE tune it (tests).
StatusOr<std::unique_ptr<S3Client>> MakeBackendClient(const BackendConfig& b);

// prefix, bind_aad and the cache settings (cache.path with ~ expanded).
StoreOptions StoreOptionsFor(const BackendConfig& b, WarnFn warn);

// All of the above: key, client, store. kInvalidArgument when no bucket is configured.
StatusOr<std::unique_ptr<Store>> OpenBackendStore(BackendConfig b, const WarnFn& warn);

}  // namespace coffer::s3
