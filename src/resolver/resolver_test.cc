#include "resolver/resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "s3/client.h"
#include "s3/store.h"

namespace coffer::resolver {
namespace {

namespace fs = std::filesystem;

class FakeVault : public VaultSource {
 public:
  std::map<std::string, std::map<std::string, std::string>> data;  // "mount/relative" -> fields
  bool down = false;
  std::atomic<int> reads{0};
  std::optional<int> version;
  std::chrono::milliseconds delay{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::optional<int> KvVersion(const std::string&) override { return version; }
  StatusOr<SecretFields> Read(const VaultLocation& where) override {
    reads++;
    int now = ++in_flight;
    for (int m = max_in_flight.load(); now > m && !max_in_flight.compare_exchange_weak(m, now);) {
    }
    if (delay.count()) std::this_thread::sleep_for(delay);
    --in_flight;
    if (down) return Unavailable("Vault unreachable: connection refused");
    std::string rel = where.relative;
    if (where.api_form && rel.rfind("data/", 0) == 0) rel = rel.substr(5);
    auto it = data.find(where.mount + "/" + rel);
    if (it == data.end()) return NotFound("no secret");
    SecretFields out;
    for (auto& [k, v] : it->second) out[k] = SecretString(v.begin(), v.end());
    return out;
  }
};

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("coffer-res-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  ProjectConfig Load(const std::string& yaml) {
    auto c = ParseProjectConfig(yaml, "coffer.yaml", dir_.string(), ProcessEnv());
    EXPECT_TRUE(c.ok()) << c.status().message();
    return *c;
  }
  fs::path dir_;
};

TEST_F(ResolverTest, EnvPriorityShellThenLocalThenDotenvThenFromFile) {
  Write(".env", "A=from-dotenv\nB=from-dotenv\nC=from-dotenv\n");
  Write(".env.local", "A=from-local\nB=from-local\n");
  Write("d.txt", "from-file\n");
  auto cfg = Load(
      "secrets:\n- {name: A, source: env}\n- {name: B, source: env}\n- {name: C, source: env}\n"
      "- {name: D, source: env, fromFile: d.txt}\n- {name: E, source: env}\n");
  std::map<std::string, std::string> env = {{"A", "from-shell"}};
  ResolveOptions o;
  o.environment = &env;
  Resolution r = ResolveAll(cfg, o);
  EXPECT_EQ(AsStringView(r.secrets[0].value), "from-shell");
  EXPECT_EQ(r.secrets[0].origin, "shell environment");
  EXPECT_EQ(AsStringView(r.secrets[1].value), "from-local");
  EXPECT_EQ(r.secrets[1].origin, ".env.local");
  EXPECT_EQ(AsStringView(r.secrets[2].value), "from-dotenv");
  EXPECT_EQ(r.secrets[2].origin, ".env");
  EXPECT_EQ(AsStringView(r.secrets[3].value), "from-file");
  EXPECT_FALSE(r.secrets[4].found);
  EXPECT_EQ(r.secrets[4].checked, "$E, .env.local, .env");
  EXPECT_TRUE(r.AllRequiredFound());
}

TEST_F(ResolverTest, FileSourceReadsContent) {
  Write("tls.crt", std::string(1229, 'x'));
  auto cfg = Load(
      "secrets:\n- {name: T, source: file, path: ./tls.crt, mountPath: /etc/t.crt}\n"
      "- {name: M, source: file, path: ./missing, mountPath: /m, required: true}\n");
  std::map<std::string, std::string> env;
  ResolveOptions o;
  o.environment = &env;
  Resolution r = ResolveAll(cfg, o);
  EXPECT_TRUE(r.secrets[0].found);
  EXPECT_EQ(r.secrets[0].value.size(), 1229u);
  EXPECT_EQ(HumanSize(1229), "1.2 KB");
  EXPECT_FALSE(r.secrets[1].found);
  EXPECT_FALSE(r.AllRequiredFound());
}

TEST_F(ResolverTest, VaultReadsAreCoalescedPerPath) {
  std::string yaml = "secrets:\n";
  for (int p = 0; p < 5; ++p) {
    for (int k = 0; k < 4; ++k) {
      yaml += "- {name: S" + std::to_string(p) + "_" + std::to_string(k) +
              ", source: vault, vaultPath: secret/data/app/p" + std::to_string(p) + ", vaultKey: k" +
              std::to_string(k) + "}\n";
    }
  }
  yaml += "- {name: L, source: vault, vaultPath: app/p0, vaultKey: k1}\n";  // logical form, same path
  auto cfg = Load(yaml);
  FakeVault v;
  for (int p = 0; p < 5; ++p) {
    for (int k = 0; k < 4; ++k)
      v.data["secret/app/p" + std::to_string(p)]["k" + std::to_string(k)] = "v" + std::to_string(p * 10 + k);
  }
  std::map<std::string, std::string> env;
  ResolveOptions o;
  o.environment = &env;
  o.vault = &v;
  Resolution r = ResolveAll(cfg, o);
  for (auto& s : r.secrets) EXPECT_TRUE(s.found) << s.spec->name << " " << s.problem;
  EXPECT_EQ(AsStringView(r.secrets[7].value), "v13");
  EXPECT_EQ(AsStringView(r.secrets[20].value), "v1");
  // 5 API-form paths + 1 logical form (a different location key).
  EXPECT_EQ(v.reads.load(), 6);
  o.coalesce = false;
  v.reads = 0;
  ResolveAll(cfg, o);
  EXPECT_EQ(v.reads.load(), 21);
  // Once the mount is known to be KV v2, `secret/data/app/p0` and `app/p0` are one read.
  o.coalesce = true;
  v.version = 2;
  v.reads = 0;
  r = ResolveAll(cfg, o);
  EXPECT_EQ(v.reads.load(), 5);
  EXPECT_EQ(AsStringView(r.secrets[20].value), "v1");
}

TEST_F(ResolverTest, ParallelOnlyWhenTheServerIsSlow) {
  std::string yaml = "secrets:\n";
  FakeVault v;
  for (int p = 0; p < 20; ++p) {
    yaml +=
        "- {name: S" + std::to_string(p) + ", source: vault, vaultPath: app/p" + std::to_string(p) + ", vaultKey: k}\n";
    v.data["secret/app/p" + std::to_string(p)]["k"] = "v";
  }
  auto cfg = Load(yaml);
  std::map<std::string, std::string> env;
  ResolveOptions o;
  o.environment = &env;
  o.vault = &v;
  Resolution r = ResolveAll(cfg, o);  // answers in microseconds: one connection, one at a time
  EXPECT_TRUE(r.AllRequiredFound());
  EXPECT_EQ(v.max_in_flight.load(), 1);
  v.delay = std::chrono::milliseconds(5);  // a remote server: reads overlap
  r = ResolveAll(cfg, o);
  for (auto& s : r.secrets) EXPECT_TRUE(s.found);
  EXPECT_GT(v.max_in_flight.load(), 1);
  EXPECT_EQ(v.reads.load(), 40);
}

TEST_F(ResolverTest, FallbackWhenVaultIsDown) {
  Write(".env", "DB=from-env\n");
  auto cfg = Load(
      "secrets:\n- {name: DB, source: vault, vaultPath: app/db, vaultKey: pw, fallback: env, required: true}\n"
      "- {name: X, source: vault, vaultPath: app/db, vaultKey: x, required: true}\n"
      "- {name: S, source: s3, fallback: vault, vaultPath: app/db, vaultKey: pw}\n");
  FakeVault v;
  v.down = true;
  std::map<std::string, std::string> env;
  ResolveOptions o;
  o.environment = &env;
  o.vault = &v;
  Resolution r = ResolveAll(cfg, o);
  EXPECT_TRUE(r.secrets[0].found);
  EXPECT_TRUE(r.secrets[0].via_fallback);
  EXPECT_EQ(r.secrets[0].from, SourceKind::kEnv);
  EXPECT_EQ(r.secrets[0].origin, ".env");
  EXPECT_FALSE(r.secrets[1].found);
  EXPECT_NE(r.secrets[1].problem.find("unreachable"), std::string::npos);
  EXPECT_FALSE(r.secrets[2].found);
  v.down = false;
  v.data["secret/app/db"]["pw"] = "vault-pw";
  r = ResolveAll(cfg, o);
  EXPECT_EQ(r.secrets[0].from, SourceKind::kVault);
  EXPECT_FALSE(r.secrets[0].via_fallback);
  EXPECT_TRUE(r.secrets[2].found);
  EXPECT_TRUE(r.secrets[2].via_fallback);
  EXPECT_EQ(AsStringView(r.secrets[2].value), "vault-pw");
}

class FakeS3 : public S3Source {
 public:
  std::map<std::string, std::string> objects;  // path -> value
  std::set<std::string> tampered;              // paths that fail with kDataLoss
  bool down = false;
  FakeVault* vault = nullptr;  // to observe overlap with the Vault reads
  std::atomic<bool> overlapped{false};
  std::vector<S3Lookup> seen;
  std::vector<S3Got> PullAll(const std::vector<S3Lookup>& lookups) override {
    seen = lookups;
    if (vault != nullptr) {
      for (int i = 0; i < 200 && !overlapped; ++i) {
        if (vault->in_flight.load() > 0) overlapped = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    std::vector<S3Got> out(lookups.size());
    for (size_t i = 0; i < lookups.size(); ++i) {
      std::string p = lookups[i].path.empty() ? lookups[i].name : lookups[i].path;
      if (down) {
        out[i].value = Unavailable("cannot reach S3 endpoint http://127.0.0.1:1");
      } else if (tampered.count(p)) {
        out[i].value = DataLoss("secret \"" + lookups[i].name + "\": encrypted_value does not decrypt");
      } else if (auto it = objects.find(p); it != objects.end()) {
        out[i].value = ToSecretBytes(it->second);
        out[i].origin = "memory://secrets/" + p + ".json";
      } else {
        out[i].value = NotFound("secret \"" + lookups[i].name + "\" not found");
      }
    }
    return out;
  }
};

TEST_F(ResolverTest, S3SourceWithPathsAndFallbacks) {
  Write(".env", "DOWN=from-env\n");
  auto cfg = Load(
      "secrets:\n- {name: A, source: s3, required: true}\n"
      "- {name: B, source: s3, s3Path: team/b}\n"
      "- {name: DOWN, source: s3, fallback: env}\n"
      "- {name: BAD, source: s3, fallback: env, required: true}\n"
      "- {name: V, source: vault, vaultPath: app/db, vaultKey: pw, fallback: s3}\n");
  Write(".env", "DOWN=from-env\nBAD=from-env\n");
  FakeVault v;
  v.down = true;
  FakeS3 s3;
  s3.objects = {{"A", "a-value"}, {"team/b", "b-value"}, {"V", "v-from-s3"}};
  s3.tampered = {"BAD"};
  std::map<std::string, std::string> env;
  ResolveOptions o;
  o.environment = &env;
  o.vault = &v;
  o.s3 = &s3;
  Resolution r = ResolveAll(cfg, o);
  EXPECT_TRUE(r.secrets[0].found);
  EXPECT_EQ(r.secrets[0].from, SourceKind::kS3);
  EXPECT_EQ(AsStringView(r.secrets[0].value), "a-value");
  EXPECT_EQ(r.secrets[0].origin, "memory://secrets/A.json");
  EXPECT_EQ(AsStringView(r.secrets[1].value), "b-value");
  EXPECT_EQ(s3.seen.size(), 1u);  // the fallback round: V only
  // Not in the bucket: the env fallback wins and says so.
  EXPECT_TRUE(r.secrets[2].found);
  EXPECT_TRUE(r.secrets[2].via_fallback);
  EXPECT_EQ(r.secrets[2].from, SourceKind::kEnv);
  // Tampered: an error, not hidden by the fallback; the message names the secret.
  EXPECT_FALSE(r.secrets[3].found);
  EXPECT_TRUE(r.secrets[3].error);
  EXPECT_NE(r.secrets[3].problem.find("\"BAD\""), std::string::npos);
  EXPECT_FALSE(r.AllRequiredFound());
  // vault down -> s3.
  EXPECT_TRUE(r.secrets[4].found);
  EXPECT_TRUE(r.secrets[4].via_fallback);
  EXPECT_EQ(r.secrets[4].from, SourceKind::kS3);
  EXPECT_EQ(AsStringView(r.secrets[4].value), "v-from-s3");

  // S3 unreachable: unavailable, so the fallback applies.
  s3.down = true;
  r = ResolveAll(cfg, o);
  EXPECT_FALSE(r.secrets[0].found);
  EXPECT_FALSE(r.secrets[0].error);
  EXPECT_NE(r.secrets[0].problem.find("cannot reach"), std::string::npos);
  EXPECT_TRUE(r.secrets[3].found);
  EXPECT_EQ(r.secrets[3].from, SourceKind::kEnv);

  // No S3 source at all: the reason is reported, fallbacks still apply.
  o.s3 = nullptr;
  o.s3_unavailable_reason = "no secrets.backend block";
  r = ResolveAll(cfg, o);
  EXPECT_EQ(r.secrets[0].problem, "no secrets.backend block");
  EXPECT_TRUE(r.secrets[2].found);
}

TEST_F(ResolverTest, S3PullsOverlapVaultReads) {
  auto cfg = Load(
      "secrets:\n- {name: A, source: s3}\n"
      "- {name: V1, source: vault, vaultPath: app/one, vaultKey: k}\n"
      "- {name: V2, source: vault, vaultPath: app/two, vaultKey: k}\n");
  FakeVault v;
  v.delay = std::chrono::milliseconds(50);
  v.data["secret/app/one"]["k"] = "1";
  v.data["secret/app/two"]["k"] = "2";
  FakeS3 s3;
  s3.objects = {{"A", "a"}};
  s3.vault = &v;
  std::map<std::string, std::string> env;
  ResolveOptions o;
  o.environment = &env;
  o.vault = &v;
  o.s3 = &s3;
  o.parallelism = 1;
  Resolution r = ResolveAll(cfg, o);
  for (auto& s : r.secrets) EXPECT_TRUE(s.found) << s.spec->name;
  EXPECT_TRUE(s3.overlapped.load());
}

// The real source over a Store on an in-memory bucket: values, s3_path, wrong key, tampering.
TEST_F(ResolverTest, StoreS3SourceClassifiesErrors) {
  auto id = age::X25519Identity::Generate();
  auto mem = std::make_unique<s3::MemoryObjectStore>();
  s3::MemoryObjectStore* raw = mem.get();
  s3::StoreOptions so;
  auto store = s3::Store::Create(std::move(mem), so, {id}, {});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Push("A", ToSecretBytes("a-value"), {}).ok());
  s3::PushOptions po;
  po.path = "team/b";
  ASSERT_TRUE((*store)->Push("B", ToSecretBytes("b-value"), po).ok());
  ASSERT_TRUE((*store)->Push("T", ToSecretBytes("t-value"), {}).ok());
  {  // flip one byte of the ciphertext
    std::string& t = raw->objects()["secrets/T.json"];
    nlohmann::json j = nlohmann::json::parse(t);
    std::string ev = j["encrypted_value"];
    ev[2] = ev[2] == 'A' ? 'B' : 'A';
    j["encrypted_value"] = ev;
    t = j.dump(2);
  }

  auto src = NewStoreS3Source(store->get(), 4, false);
  auto got = src->PullAll({{"A", ""}, {"B", "team/b"}, {"T", ""}, {"MISSING", ""}});
  ASSERT_EQ(got.size(), 4u);
  ASSERT_TRUE(got[0].value.ok());
  EXPECT_EQ(AsStringView(*got[0].value), "a-value");
  EXPECT_EQ(got[0].origin, "memory:///secrets/A.json");
  ASSERT_TRUE(got[1].value.ok());
  EXPECT_EQ(AsStringView(*got[1].value), "b-value");
  EXPECT_EQ(got[2].value.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(got[2].value.status().message().find("t-value"), std::string::npos);
  EXPECT_EQ(got[3].value.status().code(), StatusCode::kNotFound);

  // Another master key: kPermissionDenied, which the resolver reports as an error.
  auto copy = std::make_unique<s3::MemoryObjectStore>();
  copy->objects() = raw->objects();
  auto other = s3::Store::Create(std::move(copy), so, {age::X25519Identity::Generate()}, {});
  ASSERT_TRUE(other.ok());
  auto wrong = NewStoreS3Source(other->get(), 1, false)->PullAll({{"A", ""}});
  EXPECT_EQ(wrong[0].value.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong[0].value.status().message().find("\"A\""), std::string::npos);
}

TEST(LocateVaultSecretTest, ApiAndLogicalForms) {
  SecretSpec s;
  s.vault_path = "secret/data/app/prod";
  auto l = LocateVaultSecret(s);
  EXPECT_EQ(l.mount, "secret");
  EXPECT_EQ(l.relative, "data/app/prod");
  EXPECT_TRUE(l.api_form);
  s.vault_path = "app/prod";
  l = LocateVaultSecret(s);
  EXPECT_EQ(l.mount, "secret");
  EXPECT_EQ(l.relative, "app/prod");
  EXPECT_FALSE(l.api_form);
  s.vault_path = "kv/data/app";
  l = LocateVaultSecret(s);
  EXPECT_EQ(l.mount, "kv");
  EXPECT_TRUE(l.api_form);
  s.vault_mount = "team/kv";
  s.vault_mount_set = true;
  s.vault_path = "team/kv/app";
  l = LocateVaultSecret(s);
  EXPECT_EQ(l.mount, "team/kv");
  EXPECT_EQ(l.relative, "app");
}

}  // namespace
}  // namespace coffer::resolver
