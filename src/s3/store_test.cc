#include "s3/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace coffer::s3 {
namespace {

// An object store whose reachability a test can switch off.
class FlakyStore final : public ObjectStore {
 public:
  MemoryObjectStore mem;
  bool down = false;
  StatusOr<Object> Get(const std::string& k) override {
    if (down) return Unavailable("cannot reach S3 endpoint");
    return mem.Get(k);
  }
  Status Put(const std::string& k, std::string_view b, std::string_view t) override {
    if (down) return Unavailable("cannot reach S3 endpoint");
    return mem.Put(k, b, t);
  }
  StatusOr<std::optional<ObjectInfo>> Head(const std::string& k) override { return mem.Head(k); }
  Status Delete(const std::string& k) override { return mem.Delete(k); }
  StatusOr<std::vector<ObjectInfo>> List(const std::string& p) override { return mem.List(p); }
  Status CheckBucket() override { return OkStatus(); }
  Status CreateBucket() override { return OkStatus(); }
  std::string Describe() const override { return "flaky://"; }
};

std::string TempDir() {
  char tmpl[] = "/tmp/coffer-s3-test-XXXXXX";
  return mkdtemp(tmpl);
}

TEST(StoreTest, KeyLayoutMatchesSindri) {
  auto id = age::X25519Identity::Generate();
  StoreOptions o;
  o.prefix = "secrets/prod/";
  auto s = Store::Create(std::make_unique<MemoryObjectStore>(), o, {id}, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->KeyFor("database/password"), "secrets/prod/database/password.json");
  EXPECT_EQ((*s)->KeyFor("/database/password"), "secrets/prod/database/password.json");
  EXPECT_EQ((*s)->KeyFor("api-key"), "secrets/prod/api-key.json");
  EXPECT_EQ((*s)->PathFor("secrets/prod/a/b.json"), "a/b");
}

TEST(StoreTest, PushRefusesOverwriteWithoutForceAndPullChecksName) {
  auto id = age::X25519Identity::Generate();
  auto mem = std::make_unique<MemoryObjectStore>();
  MemoryObjectStore* raw = mem.get();
  auto s = *Store::Create(std::move(mem), StoreOptions{}, {id}, {});
  ASSERT_TRUE(s->Push("A", ToSecretBytes("1"), PushOptions{}).ok());
  EXPECT_EQ(s->Push("A", ToSecretBytes("2"), PushOptions{}).code(), StatusCode::kPreconditionFailed);
  PushOptions force;
  force.force = true;
  ASSERT_TRUE(s->Push("A", ToSecretBytes("2"), force).ok());
  EXPECT_EQ(AsStringView(s->Pull("A")->value), "2");
  ASSERT_TRUE(s->Push("B", ToSecretBytes("b"), PushOptions{}).ok());
  // Swap whole objects: the name check catches it even for Sindri's AAD-less objects.
  std::swap(raw->objects()["secrets/A.json"], raw->objects()["secrets/B.json"]);
  auto p = s->Pull("A");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(s->Pull("missing").status().code(), StatusCode::kNotFound);
  auto list = s->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
}

TEST(StoreTest, PullManyKeepsOrderAndReportsTheFirstFailure) {
  auto id = age::X25519Identity::Generate();
  auto s = *Store::Create(std::make_unique<MemoryObjectStore>(), StoreOptions{}, {id}, {});
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 40; ++i) {
    std::string n = "N" + std::to_string(i);
    ASSERT_TRUE(s->Push(n, ToSecretBytes("v" + std::to_string(i)), PushOptions{}).ok());
    items.emplace_back(n, "");
  }
  auto r = s->PullMany(items, 4);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 40; ++i) EXPECT_EQ(AsStringView((*r)[i].value), "v" + std::to_string(i));
  items.emplace_back("MISSING", "");
  EXPECT_EQ(s->PullMany(items, 8).status().code(), StatusCode::kNotFound);
}

TEST(StoreTest, CacheIsEncryptedHonoursTtlAndServesStaleWhenDown) {
  auto id = age::X25519Identity::Generate();
  std::string dir = TempDir();
  auto flaky = std::make_unique<FlakyStore>();
  FlakyStore* f = flaky.get();
  StoreOptions o;
  o.cache.enabled = true;
  o.cache.ttl_seconds = 0;  // always stale
  o.cache.path = dir;
  std::vector<std::string> warnings;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto s = *Store::Create(std::move(flaky), o, {id}, {});
  ASSERT_TRUE(s->Push("TOKEN", ToSecretBytes("plaintext-canary"), PushOptions{}).ok());
  // The cache file exists, is 0600, and holds no plaintext.
  std::string cmd = "ls " + dir;
  FILE* ls = popen(cmd.c_str(), "r");
  char name[256] = {0};
  ASSERT_TRUE(fgets(name, sizeof(name), ls));
  pclose(ls);
  std::string path = dir + "/" + std::string(name).substr(0, std::string(name).size() - 1);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().find("plaintext-canary"), std::string::npos);
  EXPECT_EQ(ss.str().rfind("age-encryption.org/v1", 0), 0u);
  f->down = true;
  auto p = s->Pull("TOKEN");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->source, "stale cache");
  EXPECT_EQ(AsStringView(p->value), "plaintext-canary");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].find("plaintext-canary"), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

TEST(StoreTest, FreshCacheAvoidsS3) {
  auto id = age::X25519Identity::Generate();
  std::string dir = TempDir();
  auto flaky = std::make_unique<FlakyStore>();
  FlakyStore* f = flaky.get();
  StoreOptions o;
  o.cache.enabled = true;
  o.cache.ttl_seconds = 3600;
  o.cache.path = dir;
  auto s = *Store::Create(std::move(flaky), o, {id}, {});
  ASSERT_TRUE(s->Push("A", ToSecretBytes("v"), PushOptions{}).ok());
  f->down = true;
  auto p = s->Pull("A");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->source, "cache");
  std::system(("rm -rf " + dir).c_str());
}

TEST(StoreTest, RotateRewrapsVerifiesAndResumes) {
  auto old_id = age::X25519Identity::Generate();
  auto new_id = age::X25519Identity::Generate();
  auto mem = std::make_unique<MemoryObjectStore>();
  MemoryObjectStore* raw = mem.get();
  auto s = *Store::Create(std::move(mem), StoreOptions{}, {old_id}, {});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s->Push("S" + std::to_string(i), ToSecretBytes("v" + std::to_string(i)), PushOptions{}).ok());
  }
  std::string value_before = ParseObject(raw->objects()["secrets/S0.json"])->encrypted_value;
  RotateOptions ro;
  ro.new_identity = new_id;
  ro.stop_after = 2;
  auto r1 = s->Rotate(ro);
  EXPECT_FALSE(r1.ok());  // interrupted
  ro.stop_after = -1;
  auto r2 = s->Rotate(ro);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->already_done, 2u);
  EXPECT_EQ(r2->rotated, 3u);
  EXPECT_TRUE(r2->failed.empty());
  auto after = *ParseObject(raw->objects()["secrets/S0.json"]);
  EXPECT_EQ(after.encrypted_value, value_before);  // value not re-encrypted
  EXPECT_EQ(after.rotation_count, 1u);
  EXPECT_TRUE(OpenSecret(after, "S0", {new_id}).ok());
  EXPECT_FALSE(OpenSecret(after, "S0", {old_id}).ok());
  auto r3 = s->Rotate(ro);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->already_done, 5u);
}

TEST(StoreTest, RotateAddOnlyKeepsOldRecipients) {
  auto old_id = age::X25519Identity::Generate();
  auto new_id = age::X25519Identity::Generate();
  auto mem = std::make_unique<MemoryObjectStore>();
  MemoryObjectStore* raw = mem.get();
  auto s = *Store::Create(std::move(mem), StoreOptions{}, {old_id}, {});
  ASSERT_TRUE(s->Push("A", ToSecretBytes("v"), PushOptions{}).ok());
  RotateOptions ro;
  ro.new_identity = new_id;
  ro.add_only = true;
  ASSERT_TRUE(s->Rotate(ro).ok());
  auto o = *ParseObject(raw->objects()["secrets/A.json"]);
  EXPECT_EQ(o.recipients.size(), 2u);
  EXPECT_TRUE(OpenSecret(o, "A", {old_id}).ok());
  EXPECT_TRUE(OpenSecret(o, "A", {new_id}).ok());
  ro.add_only = true;
  ro.remove_recipients = {old_id.recipient().String()};
  ASSERT_TRUE(s->Rotate(ro).ok());
  o = *ParseObject(raw->objects()["secrets/A.json"]);
  EXPECT_EQ(o.recipients.size(), 1u);
  EXPECT_FALSE(OpenSecret(o, "A", {old_id}).ok());
}

}  // namespace
}  // namespace coffer::s3
