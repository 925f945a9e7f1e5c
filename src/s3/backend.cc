#include "s3/backend.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "s3/credentials.h"

namespace coffer::s3 {

StatusOr<std::vector<age::X25519Identity>> LoadIdentityFile(const std::string& field, const std::string& raw_path,
                                                            const WarnFn& warn) {
  std::string path = ExpandHome(raw_path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return InvalidArgument(field + ": cannot read key file \"" + path + "\": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0 && warn) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    warn("Warning: key file \"" + path + "\" is readable by group or others (mode " + mode + "); run: chmod 600 " +
         path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(field + ": cannot read key file \"" + path + "\": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto ids = age::ParseIdentities(text);
  SecureWipe(text.data(), text.size());
  if (!ids.ok()) return InvalidArgument(field + ": key file \"" + path + "\": " + ids.status().message());
  return std::move(*ids);
}

StatusOr<std::vector<age::X25519Identity>> LoadMasterKey(const BackendConfig& b, const WarnFn& warn) {
  if (b.key_source == "env") {
    const char* v = std::getenv(b.key_env.c_str());
    if (!v || !*v) return InvalidArgument("key_env: environment variable " + b.key_env + " is not set");
    auto ids = age::ParseIdentities(v);
    if (!ids.ok()) return InvalidArgument("key_env: " + b.key_env + ": " + ids.status().message());
    return std::move(*ids);
  }
  return LoadIdentityFile("key_file", b.key_file, warn);
}

void ApplyDefaultRegion(BackendConfig* b) {
  if (b->region.empty()) b->region = ResolveRegion(AwsEnvironment::Process());
  if (b->region.empty()) b->region = "us-east-1";
}

StatusOr<std::unique_ptr<S3Client>> MakeBackendClient(const BackendConfig& b) {
  auto creds = ResolveCredentials(AwsEnvironment::Process());
  if (!creds.ok()) return creds.status();
  ClientOptions o;
  o.bucket = b.bucket;
  o.region = b.region;
  o.endpoint = b.endpoint;
  // Tuning knobs for tests and odd servers (not secrets, not documented as stable).
  if (const char* r = std::getenv("COFFER_S3_MAX_RETRIES"); r && *r) o.max_retries = std::atoi(r);
  if (const char* p = std::getenv("COFFER_S3_LIST_PAGE_SIZE"); p && *p) o.list_page_size = std::atoi(p);
  return S3Client::Create(o, std::move(*creds));
}

StoreOptions StoreOptionsFor(const BackendConfig& b, WarnFn warn) {
  StoreOptions so;
  so.prefix = b.prefix;
  so.bind_aad = b.bind_aad;
  so.cache.enabled = b.cache_enabled;
  so.cache.ttl_seconds = b.cache_ttl_seconds;
  so.cache.path = ExpandHome(b.cache_path);
  so.warn = std::move(warn);
  return so;
}

StatusOr<std::unique_ptr<Store>> OpenBackendStore(BackendConfig b, const WarnFn& warn) {
  if (b.bucket.empty()) return InvalidArgument("bucket: no bucket configured (set secrets.backend.bucket)");
  ApplyDefaultRegion(&b);
  ASSIGN_OR_RETURN(auto identities, LoadMasterKey(b, warn));
  ASSIGN_OR_RETURN(auto client, MakeBackendClient(b));
  return Store::Create(std::move(client), StoreOptionsFor(b, warn), std::move(identities), {});
}

}  // namespace coffer::s3
