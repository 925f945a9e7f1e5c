#include "s3/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/file_io.h"
#include "base/encoding.h"
#include "crypto/hash.h"
#include "formats/age/age.h"
#include "formats/age/io.h"

namespace coffer::s3 {
namespace {

std::string ValueHash(const SecretBytes& v) { return HexEncode(crypto::Sha256(AsStringView(v))); }

Status MkdirAll(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
        return Unavailable("cannot create cache directory \"" + cur + "\": " + std::strerror(errno));
      }
    }
    if (i < dir.size()) cur.push_back(dir[i]);
  }
  return OkStatus();
}

}  // namespace

Store::Store(std::unique_ptr<ObjectStore> objects, StoreOptions options, std::vector<age::X25519Identity> identities,
             std::vector<age::X25519Recipient> recipients)
    : objects_(std::move(objects)),
      options_(std::move(options)),
      identities_(std::move(identities)),
      recipients_(std::move(recipients)) {}

StatusOr<std::unique_ptr<Store>> Store::Create(std::unique_ptr<ObjectStore> objects, StoreOptions options,
                                               std::vector<age::X25519Identity> identities,
                                               std::vector<age::X25519Recipient> recipients) {
  if (!objects) return InvalidArgument("no object store");
  if (recipients.empty()) {
    for (const auto& id : identities) recipients.push_back(id.recipient());
  }
  if (recipients.empty()) return InvalidArgument("no master key: nothing to encrypt to");
  if (options.cache.enabled && options.cache.path.empty()) return InvalidArgument("cache.path: must be set");
  return std::unique_ptr<Store>(
      new Store(std::move(objects), std::move(options), std::move(identities), std::move(recipients)));
}

std::string Store::KeyFor(std::string_view path) const {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string key = options_.prefix + std::string(path) + ".json";
  for (size_t p; (p = key.find("//")) != std::string::npos;) key.erase(p, 1);
  return key;
}

std::string Store::PathFor(std::string_view key) const {
  std::string_view p = key;
  if (p.rfind(options_.prefix, 0) == 0) p.remove_prefix(options_.prefix.size());
  if (p.size() >= 5 && p.substr(p.size() - 5) == ".json") p.remove_suffix(5);
  return std::string(p);
}

StatusOr<RemoteSecret> Store::Fetch(std::string_view name, std::string_view path) {
  std::string p(path.empty() ? name : path);
  std::string key = KeyFor(p);
  auto obj = objects_->Get(key);
  if (!obj.ok()) {
    if (obj.status().code() == StatusCode::kNotFound && obj.status().message().find("NoSuchBucket") == std::string::npos) {
      return NotFound("secret \"" + std::string(name.empty() ? p : name) + "\" not found at " + objects_->Describe() +
                      "/" + key);
    }
    return obj.status();
  }
  auto parsed = ParseObject(obj->body);
  if (!parsed.ok()) return parsed.status().WithContext(objects_->Describe() + "/" + key + ": ");
  if (!name.empty() && parsed->secret_name != name) {
    return DataLoss(objects_->Describe() + "/" + key + " holds secret \"" + parsed->secret_name + "\", not \"" +
                    std::string(name) + "\" (object moved or swapped?)");
  }
  ASSIGN_OR_RETURN(SecretBytes value, OpenSecret(*parsed, PathFor(key), identities_));
  return RemoteSecret{std::move(*parsed), std::move(value)};
}

StatusOr<PullResult> Store::Pull(std::string_view name, std::string_view path, bool use_cache) {
  std::string p(path.empty() ? name : path);
  bool cache = options_.cache.enabled && use_cache;
  std::optional<CacheEntry> cached;
  if (cache) {
    cached = CacheGet(p);
    if (cached && std::time(nullptr) - cached->fetched_at < options_.cache.ttl_seconds) {
      return PullResult{std::move(cached->value), "cache"};
    }
  }
  auto remote = Fetch(name, p);
  if (!remote.ok()) {
    if (cached && remote.status().code() == StatusCode::kUnavailable) {
      Warn("warning: S3 is unreachable (" + remote.status().message() + "); using the cached value of \"" +
           std::string(name) + "\" fetched " + std::to_string(std::time(nullptr) - cached->fetched_at) + "s ago");
      return PullResult{std::move(cached->value), "stale cache"};
    }
    return remote.status();
  }
  if (options_.cache.enabled) {
    Status s = CachePut(p, remote->value, remote->object.updated_at);
    if (!s.ok()) Warn("warning: cannot update the cache: " + s.message());
  }
  return PullResult{std::move(remote->value), "s3"};
}

std::vector<StatusOr<PullResult>> Store::PullEach(const std::vector<std::pair<std::string, std::string>>& items,
                                                  int parallelism, bool use_cache) {
  std::vector<std::optional<StatusOr<PullResult>>> results(items.size());
  std::atomic<size_t> next{0};
  std::mutex warn_mu;
  auto saved_warn = options_.warn;
  options_.warn = [&](const std::string& w) {
    std::lock_guard<std::mutex> l(warn_mu);
    if (saved_warn) saved_warn(w);
  };
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < items.size();) {
      results[i] = Pull(items[i].first, items[i].second, use_cache);
    }
  };
  size_t n = std::clamp<size_t>(static_cast<size_t>(std::max(parallelism, 1)), 1, std::max<size_t>(items.size(), 1));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  options_.warn = saved_warn;
  std::vector<StatusOr<PullResult>> out;
  out.reserve(items.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

StatusOr<std::vector<PullResult>> Store::PullMany(const std::vector<std::pair<std::string, std::string>>& items,
                                                  int parallelism, bool use_cache) {
  std::vector<StatusOr<PullResult>> each = PullEach(items, parallelism, use_cache);
  std::vector<PullResult> out;
  out.reserve(each.size());
  for (auto& r : each) {
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

Status Store::Push(std::string_view name, const SecretBytes& value, const PushOptions& o) {
  std::string p = o.path.empty() ? std::string(name) : o.path;
  std::string key = KeyFor(p);
  std::optional<SecretObject> existing;
  ASSIGN_OR_RETURN(auto head, objects_->Head(key));
  if (head) {
    if (!o.force) {
      return PreconditionFailed("secret \"" + std::string(name) + "\" already exists at " + objects_->Describe() + "/" +
                                key + " (use --force to overwrite)");
    }
    auto cur = objects_->Get(key);
    if (cur.ok()) {
      auto parsed = ParseObject(cur->body);
      if (parsed.ok()) existing = std::move(*parsed);
    }
  }
  std::vector<age::X25519Recipient> rs = recipients_;
  for (const auto& r : o.extra_recipients) {
    bool dup = false;
    for (const auto& have : rs) dup = dup || have.String() == r.String();
    if (!dup) rs.push_back(r);
  }
  ASSIGN_OR_RETURN(SecretObject obj, SealSecret(name, PathFor(key), value, rs, options_.bind_aad));
  if (existing) {
    obj.created_at = existing->created_at;
    obj.rotation_count = existing->rotation_count;
    obj.last_rotated_by = existing->last_rotated_by;
    obj.description = existing->description;
    obj.tags = existing->tags;
  }
  if (o.description) obj.description = o.description;
  RETURN_IF_ERROR(objects_->Put(key, SerializeObject(obj), "application/json"));
  if (options_.cache.enabled) {
    Status s = CachePut(p, value, obj.updated_at);
    if (!s.ok()) Warn("warning: cannot update the cache: " + s.message());
  }
  return OkStatus();
}

StatusOr<std::vector<ListEntry>> Store::List() {
  ASSIGN_OR_RETURN(auto objs, objects_->List(options_.prefix));
  std::vector<ListEntry> out;
  for (auto& o : objs) {
    if (o.key.size() < 5 || o.key.substr(o.key.size() - 5) != ".json") continue;
    out.push_back(ListEntry{PathFor(o.key), o.key, o.size, o.last_modified});
  }
  return out;
}

StatusOr<RotateReport> Store::Rotate(const RotateOptions& o) {
  if (!o.new_identity) return InvalidArgument("--new-key: required");
  std::string new_rec = o.new_identity->recipient().String();
  for (const auto& r : o.remove_recipients) {
    if (r == new_rec) return InvalidArgument("--remove-recipient: cannot remove the new key's own recipient");
  }
  std::vector<age::X25519Identity> readers = o.old_identities.empty() ? identities_ : o.old_identities;
  readers.push_back(*o.new_identity);
  std::vector<age::X25519Identity> new_only{*o.new_identity};
  ASSIGN_OR_RETURN(auto entries, List());
  RotateReport rep;
  size_t done = 0;
  int rewrites = 0;
  for (const auto& e : entries) {
    if (o.progress) o.progress(done, entries.size());
    ++done;
    auto fail = [&](const Status& s) { rep.failed.push_back(e.path + ": " + s.message()); };
    auto got = objects_->Get(e.key);
    if (!got.ok()) {
      fail(got.status());
      continue;
    }
    auto obj = ParseObject(got->body);
    if (!obj.ok()) {
      fail(obj.status());
      continue;
    }
    // The target recipient set.
    std::vector<std::string> target{new_rec};
    if (o.add_only) {
      for (const auto& r : obj->recipients) {
        if (std::find(target.begin(), target.end(), r) == target.end()) target.push_back(r);
      }
    }
    target.erase(std::remove_if(target.begin(), target.end(),
                                [&](const std::string& r) {
                                  return std::find(o.remove_recipients.begin(), o.remove_recipients.end(), r) !=
                                         o.remove_recipients.end();
                                }),
                 target.end());
    std::set<std::string> want(target.begin(), target.end()), have(obj->recipients.begin(), obj->recipients.end());
    if (want == have && UnwrapDek(*obj, new_only).ok()) {
      ++rep.already_done;
      continue;
    }
    auto dek = UnwrapDek(*obj, readers);
    if (!dek.ok()) {
      fail(dek.status());
      continue;
    }
    auto value = DecryptValue(*obj, e.path, *dek);
    if (!value.ok()) {
      fail(value.status());
      continue;
    }
    std::vector<age::X25519Recipient> rs;
    bool bad = false;
    for (const auto& t : target) {
      auto r = age::X25519Recipient::Parse(t);
      if (!r.ok()) {
        bad = true;
        break;
      }
      rs.push_back(std::move(*r));
    }
    if (bad) {
      fail(InvalidArgument("bad recipient in the target set"));
      continue;
    }
    SecretObject updated = *obj;
    Status s = RewrapDek(&updated, *dek, rs);
    if (!s.ok()) {
      fail(s);
      continue;
    }
    updated.rotation_count = obj->rotation_count + 1;
    updated.last_rotated_by = "coffer";
    s = objects_->Put(e.key, SerializeObject(updated), "application/json");
    if (!s.ok()) {
      fail(s);
      continue;
    }
    // Read back and prove the new key opens it to the same value before moving on.
    auto back = objects_->Get(e.key);
    if (!back.ok()) {
      fail(back.status().WithContext("verify: "));
      continue;
    }
    auto back_obj = ParseObject(back->body);
    if (!back_obj.ok()) {
      fail(back_obj.status().WithContext("verify: "));
      continue;
    }
    auto check = OpenSecret(*back_obj, e.path, new_only);
    if (!check.ok() || !ConstantTimeEquals(AsStringView(*check), AsStringView(*value))) {
      fail(DataLoss("verify: the rewritten object does not decrypt to the same value with the new key"));
      continue;
    }
    ++rep.rotated;
    ++rewrites;
    if (o.stop_after >= 0 && rewrites >= o.stop_after) return Unavailable("rotation interrupted (test hook)");
  }
  if (o.progress) o.progress(entries.size(), entries.size());
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Cache: <dir>/<sha256(prefix|path)>.age, an age file to the first recipient holding JSON.

std::string Store::CacheFile(std::string_view path) const {
  std::string id = HexEncode(crypto::Sha256(options_.prefix + "\n" + objects_->Describe() + "\n" + std::string(path)));
  return options_.cache.path + "/" + id.substr(0, 40) + ".age";
}

std::optional<Store::CacheEntry> Store::CacheGet(std::string_view path) {
  if (options_.cache.path.empty()) return std::nullopt;
  std::ifstream in(CacheFile(path), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  std::vector<const age::Identity*> ids;
  for (const auto& i : identities_) ids.push_back(&i);
  age::StringReader r(data);
  SecretString plain;
  std::string tmp;
  age::StringWriter w(&tmp);
  if (!age::Decrypt(ids, r, w).ok()) {
    SecureWipe(tmp.data(), tmp.size());
    return std::nullopt;
  }
  nlohmann::json j = nlohmann::json::parse(tmp, nullptr, false);
  SecureWipe(tmp.data(), tmp.size());
  if (!j.is_object() || !j.contains("value") || !j["value"].is_string() || !j.contains("fetched_at") ||
      !j["fetched_at"].is_number_integer()) {
    return std::nullopt;
  }
  auto v = Base64Decode(j["value"].get_ref<std::string&>());
  auto& jv = j["value"].get_ref<std::string&>();
  SecureWipe(jv.data(), jv.size());
  if (!v.ok()) return std::nullopt;
  CacheEntry e;
  e.value = SecretBytes(v->begin(), v->end());
  SecureWipe(v->data(), v->size());
  e.fetched_at = j["fetched_at"].get<int64_t>();
  e.updated_at = j.value("updated_at", "");
  e.sha256 = j.value("sha256", "");
  return e;
}

Status Store::CachePut(std::string_view path, const SecretBytes& value, const std::string& updated_at) {
  RETURN_IF_ERROR(MkdirAll(options_.cache.path));
  nlohmann::json j;
  std::string b64 = Base64Encode(AsStringView(value), true);
  j["value"] = b64;
  SecureWipe(b64.data(), b64.size());
  j["fetched_at"] = static_cast<int64_t>(std::time(nullptr));
  j["updated_at"] = updated_at;
  j["sha256"] = ValueHash(value);
  std::string plain = j.dump();
  SecureWipe(j["value"].get_ref<std::string&>().data(), j["value"].get_ref<std::string&>().size());
  std::string sealed;
  age::StringWriter w(&sealed);
  age::StringReader r(plain);
  std::vector<const age::Recipient*> rs{&recipients_.front()};
  if (!identities_.empty()) rs = {&identities_.front().recipient()};
  Status s = age::Encrypt(rs, r, w, false);
  SecureWipe(plain.data(), plain.size());
  RETURN_IF_ERROR(s);
  return WriteFileAtomic(CacheFile(path), sealed, 0600);
}

}  // namespace coffer::s3
