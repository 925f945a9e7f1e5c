#include "resolver/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file_io.h"
#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace coffer::resolver {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "coffer-cache-v1";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string Home() { return EnvOr("HOME", "."); }

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InternalError("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return OkStatus();
}

void PutU32(SecretString* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
void PutU64(SecretString* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
bool GetU(std::string_view in, size_t* pos, int bytes, uint64_t* v) {
  if (*pos + bytes > in.size()) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) *v = (*v << 8) | static_cast<unsigned char>(in[*pos + i]);
  *pos += bytes;
  return true;
}

bool IsInside(const std::string& child, const std::string& dir) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(child, ec), ec);
  fs::path d = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  std::string cs = c.string(), ds = d.string();
  if (!ds.empty() && ds.back() != '/') ds += '/';
  return cs.rfind(ds, 0) == 0;
}

}  // namespace

std::string SecretCache::DefaultDir() { return EnvOr("XDG_CACHE_HOME", Home() + "/.cache") + "/coffer"; }
std::string SecretCache::DefaultKeyFile() {
  return EnvOr("XDG_CONFIG_HOME", Home() + "/.config") + "/coffer/cache.key";
}

SecretCache::SecretCache(std::string dir, SecretBytes key, std::chrono::seconds ttl)
    : dir_(std::move(dir)), key_(std::move(key)), ttl_(ttl) {}
SecretCache::~SecretCache() = default;

StatusOr<std::unique_ptr<SecretCache>> SecretCache::Open(const CacheOptions& options) {
  std::string dir = options.dir.empty() ? DefaultDir() : ExpandHome(options.dir);
  std::string key_file = options.key_file.empty() ? DefaultKeyFile() : ExpandHome(options.key_file);
  if (IsInside(key_file, dir)) {
    return InvalidArgument("the cache key " + key_file + " must not be inside the cache directory " + dir);
  }
  RETURN_IF_ERROR(MakeDirs(dir));
  RETURN_IF_ERROR(MakeDirs(fs::path(key_file).parent_path().string()));
  SecretBytes key;
  std::ifstream in(key_file, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string hex = ss.str();
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    auto raw = HexDecode(hex);
    SecureWipe(hex.data(), hex.size());
    if (!raw.ok() || raw->size() != 32) return InvalidArgument("cache key " + key_file + " is malformed");
    key = ToSecretBytes(*raw);
    SecureWipe(raw->data(), raw->size());
  } else {
    key = crypto::RandomSecret(32);
    std::string hex = HexEncode(AsStringView(key)) + "\n";
    Status st = WriteFileAtomic(key_file, hex, 0600);
    SecureWipe(hex.data(), hex.size());
    RETURN_IF_ERROR(st);
  }
  return std::unique_ptr<SecretCache>(new SecretCache(dir, std::move(key), options.ttl));
}

std::string SecretCache::PathFor(const std::string& location) const {
  std::string mac = crypto::HmacSha256(AsStringView(key_), std::string(kMagic) + "\nname\n" + location);
  return dir_ + "/" + HexEncode(mac).substr(0, 40) + ".entry";
}

Status SecretCache::Put(const std::string& location, const SecretFields& fields) const {
  SecretString plain;
  uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  PutU64(&plain, now);
  PutU32(&plain, static_cast<uint32_t>(fields.size()));
  for (const auto& [k, v] : fields) {
    PutU32(&plain, static_cast<uint32_t>(k.size()));
    plain.append(k.data(), k.size());
    PutU32(&plain, static_cast<uint32_t>(v.size()));
    plain.append(v.data(), v.size());
  }
  auto aead = crypto::Aes256Gcm::New(key_);
  if (!aead.ok()) return aead.status();
  std::string sealed =
      aead->Encrypt(std::string_view(plain.data(), plain.size()), std::string(kMagic) + "\n" + location);
  return WriteFileAtomic(PathFor(location), sealed, 0600);
}

std::optional<SecretCache::Entry> SecretCache::Get(const std::string& location) const {
  std::ifstream in(PathFor(location), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto aead = crypto::Aes256Gcm::New(key_);
  if (!aead.ok()) return std::nullopt;
  auto plain = aead->DecryptSecret(ss.str(), std::string(kMagic) + "\n" + location);
  if (!plain.ok()) return std::nullopt;
  std::string_view p = AsStringView(*plain);
  size_t pos = 0;
  uint64_t stored = 0, count = 0;
  if (!GetU(p, &pos, 8, &stored) || !GetU(p, &pos, 4, &count)) return std::nullopt;
  Entry e;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t kl = 0, vl = 0;
    if (!GetU(p, &pos, 4, &kl) || pos + kl > p.size()) return std::nullopt;
    std::string k(p.substr(pos, kl));
    pos += kl;
    if (!GetU(p, &pos, 4, &vl) || pos + vl > p.size()) return std::nullopt;
    e.fields[k] = SecretString(p.data() + pos, vl);
    pos += vl;
  }
  uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  e.expired = now >= stored + static_cast<uint64_t>(ttl_.count());
  return e;
}

StatusOr<size_t> SecretCache::Clear() const {
  size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.path().extension() == ".entry" && fs::remove(entry.path(), ec)) ++removed;
  }
  if (ec) return InternalError("cannot clear " + dir_ + ": " + ec.message());
  return removed;
}

}  // namespace coffer::resolver
