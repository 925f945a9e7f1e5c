#include "barrier/barrier.h"

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace coffer::barrier {
namespace {

// A small std::map physical backend with Vault List semantics, and a switch to make writes fail.
class MapBackend : public physical::Backend {
 public:
  StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = data_.find(std::string(key));
    if (it == data_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Put(std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    if (fail_writes_) return Unavailable("storage offline");
    data_[std::string(key)] = std::string(value);
    return OkStatus();
  }
  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    if (fail_writes_) return Unavailable("storage offline");
    data_.erase(std::string(key));
    return OkStatus();
  }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    std::set<std::string> children;
    for (const auto& [key, value] : data_) {
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rest = key.substr(prefix.size());
      size_t slash = rest.find('/');
      children.insert(slash == std::string::npos ? rest : rest.substr(0, slash + 1));
    }
    return std::vector<std::string>(children.begin(), children.end());
  }
  Status Transaction(const std::vector<physical::TxnOp>& ops) override {
    std::lock_guard lock(mu_);
    if (fail_writes_) return Unavailable("storage offline");
    for (const physical::TxnOp& op : ops) {
      if (op.kind == physical::TxnOp::Kind::kPut) {
        data_[op.key] = op.value;
      } else {
        data_.erase(op.key);
      }
    }
    return OkStatus();
  }

  std::string Raw(const std::string& key) {
    std::lock_guard lock(mu_);
    return data_.at(key);
  }
  void SetRaw(const std::string& key, std::string value) {
    std::lock_guard lock(mu_);
    data_[key] = std::move(value);
  }
  std::map<std::string, std::string> Snapshot() {
    std::lock_guard lock(mu_);
    return data_;
  }
  void set_fail_writes(bool fail) {
    std::lock_guard lock(mu_);
    fail_writes_ = fail;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> data_;
  bool fail_writes_ = false;
};

uint32_t TermOf(const std::string& raw) {
  return (uint32_t{static_cast<uint8_t>(raw[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(raw[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(raw[2])} << 8) | uint32_t{static_cast<uint8_t>(raw[3])};
}

class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unseal_key_ = crypto::RandomSecret(32);
    barrier_ = Barrier::Create(&backend_);
    ASSERT_TRUE(barrier_->Initialize(unseal_key_).ok());
    ASSERT_TRUE(barrier_->Unseal(unseal_key_).ok());
  }

  std::string MustGet(Barrier& barrier, std::string_view key) {
    auto value = barrier.Get(key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    if (!value.ok() || !value->has_value()) {
      ADD_FAILURE() << "no value at " << key;
      return "";
    }
    return **value;
  }

  // Expects reading `key` to fail with kDataLoss naming the path but not the plaintext.
  void ExpectDecryptFailure(std::string_view key, std::string_view plaintext) {
    auto value = barrier_->Get(key);
    ASSERT_FALSE(value.ok()) << "read garbage at " << key;
    EXPECT_EQ(value.status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(value.status().message().rfind("failed to decrypt " + std::string(key) + ": ", 0),
              0u)
        << value.status().message();
    EXPECT_EQ(value.status().message().find(plaintext), std::string::npos);
  }

  MapBackend backend_;
  SecretBytes unseal_key_;
  std::unique_ptr<Barrier> barrier_;
};

TEST(BarrierInitTest, InitializeLeavesTheBarrierSealed) {
  MapBackend backend;
  auto barrier = Barrier::Create(&backend);
  EXPECT_TRUE(barrier->Sealed());
  ASSERT_TRUE(barrier->Initialized().ok());
  EXPECT_FALSE(*barrier->Initialized());

  SecretBytes key = crypto::RandomSecret(32);
  ASSERT_TRUE(barrier->Initialize(key).ok());
  EXPECT_TRUE(*barrier->Initialized());
  EXPECT_TRUE(barrier->Sealed());
  EXPECT_EQ(barrier->Get("secret/a").status().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier->Put("secret/a", "v").code(), StatusCode::kSealed);

  Status again = barrier->Initialize(key);
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.message(), "barrier is already initialized");
}

TEST(BarrierInitTest, RejectsUnsealKeysOfTheWrongSize) {
  MapBackend backend;
  auto barrier = Barrier::Create(&backend);
  EXPECT_EQ(barrier->Initialize(crypto::RandomSecret(16)).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(*barrier->Initialized());
  ASSERT_TRUE(barrier->Initialize(crypto::RandomSecret(32)).ok());
  EXPECT_EQ(barrier->Unseal(crypto::RandomSecret(31)).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(barrier->Sealed());
}

TEST(BarrierInitTest, UnsealBeforeInitializeIsNotInitialized) {
  MapBackend backend;
  auto barrier = Barrier::Create(&backend);
  EXPECT_EQ(barrier->Unseal(crypto::RandomSecret(32)).code(), StatusCode::kNotInitialized);
  EXPECT_TRUE(barrier->Sealed());
}

TEST(BarrierInitTest, FailedInitializeLeavesNothingBehind) {
  MapBackend backend;
  auto barrier = Barrier::Create(&backend);
  backend.set_fail_writes(true);
  Status status = barrier->Initialize(crypto::RandomSecret(32));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  backend.set_fail_writes(false);
  EXPECT_FALSE(*barrier->Initialized());
  EXPECT_TRUE(backend.Snapshot().empty());
  EXPECT_TRUE(barrier->Initialize(crypto::RandomSecret(32)).ok());
}

TEST(BarrierInitTest, WrongUnsealKeyFailsAndChangesNothing) {
  MapBackend backend;
  auto barrier = Barrier::Create(&backend);
  SecretBytes key = crypto::RandomSecret(32);
  ASSERT_TRUE(barrier->Initialize(key).ok());
  auto before = backend.Snapshot();

  Status wrong = barrier->Unseal(crypto::RandomSecret(32));
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("unseal key is incorrect"), std::string::npos);
  EXPECT_TRUE(barrier->Sealed());
  EXPECT_EQ(barrier->Get("x").status().code(), StatusCode::kSealed);
  EXPECT_EQ(backend.Snapshot(), before);

  EXPECT_TRUE(barrier->Unseal(key).ok());
  EXPECT_FALSE(barrier->Sealed());
}

TEST_F(BarrierTest, UnsealingAnUnsealedBarrierOnlyVerifiesTheKey) {
  ASSERT_TRUE(barrier_->Put("secret/a", "v").ok());
  EXPECT_EQ(barrier_->Unseal(crypto::RandomSecret(32)).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(barrier_->Sealed());
  EXPECT_TRUE(barrier_->Unseal(unseal_key_).ok());
  EXPECT_EQ(MustGet(*barrier_, "secret/a"), "v");
}

TEST_F(BarrierTest, PutGetRoundTrip) {
  const std::string binary("\0\x01\xff value with NUL", 19);
  const std::string large = crypto::RandomBytes(1 << 20);
  ASSERT_TRUE(barrier_->Put("secret/a", "hello").ok());
  ASSERT_TRUE(barrier_->Put("secret/empty", "").ok());
  ASSERT_TRUE(barrier_->Put("secret/binary", binary).ok());
  ASSERT_TRUE(barrier_->Put("secret/large", large).ok());
  EXPECT_EQ(MustGet(*barrier_, "secret/a"), "hello");
  EXPECT_EQ(MustGet(*barrier_, "secret/empty"), "");
  EXPECT_EQ(MustGet(*barrier_, "secret/binary"), binary);
  EXPECT_EQ(MustGet(*barrier_, "secret/large"), large);

  ASSERT_TRUE(barrier_->Put("secret/a", "overwritten").ok());
  EXPECT_EQ(MustGet(*barrier_, "secret/a"), "overwritten");

  auto missing = barrier_->Get("secret/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(barrier_->Delete("secret/a").ok());
  EXPECT_FALSE(barrier_->Get("secret/a")->has_value());
  EXPECT_TRUE(barrier_->Delete("secret/a").ok());  // deleting an absent key is fine
}

TEST_F(BarrierTest, PhysicalBytesAreCiphertext) {
  const std::string plaintext = "correct horse battery staple";
  ASSERT_TRUE(barrier_->Put("secret/a", plaintext).ok());
  std::string raw = backend_.Raw("secret/a");
  EXPECT_EQ(raw.find(plaintext), std::string::npos);
  EXPECT_EQ(raw.find("horse"), std::string::npos);
  EXPECT_EQ(raw.size(), 5 + 12 + plaintext.size() + 16);
  EXPECT_EQ(TermOf(raw), 1u);
  EXPECT_EQ(raw[4], 1);  // format version

  // The same plaintext encrypts differently every time.
  ASSERT_TRUE(barrier_->Put("secret/a", plaintext).ok());
  EXPECT_NE(backend_.Raw("secret/a"), raw);

  // Nothing in storage reveals the unseal key.
  for (const auto& [key, value] : backend_.Snapshot()) {
    EXPECT_EQ(value.find(AsStringView(unseal_key_)), std::string::npos) << key;
  }
}

TEST_F(BarrierTest, TamperedCiphertextIsAnErrorNotGarbage) {
  const std::string plaintext = "top secret value";
  ASSERT_TRUE(barrier_->Put("secret/a", plaintext).ok());
  const std::string raw = backend_.Raw("secret/a");
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string tampered = raw;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    backend_.SetRaw("secret/a", tampered);
    ExpectDecryptFailure("secret/a", plaintext);
  }
  backend_.SetRaw("secret/a", raw);
  EXPECT_EQ(MustGet(*barrier_, "secret/a"), plaintext);
}

TEST_F(BarrierTest, TruncatedCiphertextIsAnError) {
  const std::string plaintext = "top secret value";
  ASSERT_TRUE(barrier_->Put("secret/a", plaintext).ok());
  const std::string raw = backend_.Raw("secret/a");
  for (size_t len = 0; len < raw.size(); ++len) {
    backend_.SetRaw("secret/a", raw.substr(0, len));
    ExpectDecryptFailure("secret/a", plaintext);
  }
  backend_.SetRaw("secret/a", raw + "extra");
  ExpectDecryptFailure("secret/a", plaintext);
}

TEST_F(BarrierTest, CiphertextMovedToAnotherKeyIsAnError) {
  ASSERT_TRUE(barrier_->Put("secret/alice", "alice's password").ok());
  backend_.SetRaw("secret/bob", backend_.Raw("secret/alice"));
  ExpectDecryptFailure("secret/bob", "alice's password");
  EXPECT_EQ(MustGet(*barrier_, "secret/alice"), "alice's password");
}

TEST_F(BarrierTest, UnknownTermOrVersionIsAnError) {
  ASSERT_TRUE(barrier_->Put("secret/a", "v").ok());
  std::string raw = backend_.Raw("secret/a");
  std::string future_term = raw;
  future_term[3] = 99;
  backend_.SetRaw("secret/a", future_term);
  auto value = barrier_->Get("secret/a");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(value.status().message(), "failed to decrypt secret/a: unknown key term 99");

  std::string future_version = raw;
  future_version[4] = 2;
  backend_.SetRaw("secret/a", future_version);
  value = barrier_->Get("secret/a");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().message(), "failed to decrypt secret/a: unsupported ciphertext version 2");
}

TEST_F(BarrierTest, RotateAddsATermAndOldValuesStayReadable) {
  ASSERT_TRUE(barrier_->Put("secret/old", "from term 1").ok());
  auto before = barrier_->ActiveKeyStatus();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->term, 1u);

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_TRUE(barrier_->Rotate().ok());
  auto after = barrier_->ActiveKeyStatus();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->term, 2u);
  EXPECT_GE(after->install_time_unix, now - 5);
  EXPECT_LE(after->install_time_unix, now + 5);
  EXPECT_EQ(after->encryptions, 0u);

  ASSERT_TRUE(barrier_->Put("secret/new", "from term 2").ok());
  EXPECT_EQ(TermOf(backend_.Raw("secret/old")), 1u);
  EXPECT_EQ(TermOf(backend_.Raw("secret/new")), 2u);
  EXPECT_EQ(MustGet(*barrier_, "secret/old"), "from term 1");
  EXPECT_EQ(MustGet(*barrier_, "secret/new"), "from term 2");

  ASSERT_TRUE(barrier_->Rotate().ok());
  EXPECT_EQ(barrier_->ActiveKeyStatus()->term, 3u);
  EXPECT_EQ(MustGet(*barrier_, "secret/old"), "from term 1");
}

TEST_F(BarrierTest, FailedRotateKeepsTheActiveTerm) {
  backend_.set_fail_writes(true);
  EXPECT_EQ(barrier_->Rotate().code(), StatusCode::kUnavailable);
  backend_.set_fail_writes(false);
  EXPECT_EQ(barrier_->ActiveKeyStatus()->term, 1u);
  ASSERT_TRUE(barrier_->Put("secret/a", "v").ok());
  EXPECT_EQ(TermOf(backend_.Raw("secret/a")), 1u);

  // A restart must agree: term 2 was never persisted.
  auto restarted = Barrier::Create(&backend_);
  ASSERT_TRUE(restarted->Unseal(unseal_key_).ok());
  EXPECT_EQ(restarted->ActiveKeyStatus()->term, 1u);
}

TEST_F(BarrierTest, CountsEncryptionsPerTerm) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(barrier_->Put("secret/a", "v").ok());
  ASSERT_TRUE(barrier_->Transaction({{physical::TxnOp::Kind::kPut, "secret/b", "v"},
                                     {physical::TxnOp::Kind::kPut, "secret/c", "v"},
                                     {physical::TxnOp::Kind::kDelete, "secret/a", ""}})
                  .ok());
  EXPECT_EQ(barrier_->ActiveKeyStatus()->encryptions, 5u);
  (void)barrier_->Get("secret/b");  // reads do not count
  EXPECT_EQ(barrier_->ActiveKeyStatus()->encryptions, 5u);

  ASSERT_TRUE(barrier_->Checkpoint().ok());
  ASSERT_TRUE(barrier_->Put("secret/d", "v").ok());
  auto restarted = Barrier::Create(&backend_);
  ASSERT_TRUE(restarted->Unseal(unseal_key_).ok());
  EXPECT_EQ(restarted->ActiveKeyStatus()->encryptions, 5u);  // as of the checkpoint
}

TEST_F(BarrierTest, SealedBarrierRefusesEverything) {
  ASSERT_TRUE(barrier_->Put("secret/a", "v").ok());
  barrier_->Seal();
  EXPECT_TRUE(barrier_->Sealed());
  EXPECT_EQ(barrier_->Get("secret/a").status().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Put("secret/a", "w").code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Delete("secret/a").code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->List("secret/").status().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Transaction({}).code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->ActiveKeyStatus().status().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Rotate().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Checkpoint().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->ChangeUnsealKey(crypto::RandomSecret(32)).code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Get("secret/a").status().message(), "Vault is sealed");
  barrier_->Seal();  // sealing twice is harmless

  ASSERT_TRUE(barrier_->Unseal(unseal_key_).ok());
  EXPECT_EQ(MustGet(*barrier_, "secret/a"), "v");
}

TEST_F(BarrierTest, FreshBarrierOverTheSameStorageReadsEverything) {
  ASSERT_TRUE(barrier_->Put("secret/one", "1").ok());
  ASSERT_TRUE(barrier_->Rotate().ok());
  ASSERT_TRUE(barrier_->Put("secret/two", "2").ok());
  barrier_.reset();

  auto restarted = Barrier::Create(&backend_);
  EXPECT_TRUE(restarted->Sealed());
  EXPECT_TRUE(*restarted->Initialized());
  ASSERT_TRUE(restarted->Unseal(unseal_key_).ok());
  EXPECT_EQ(MustGet(*restarted, "secret/one"), "1");
  EXPECT_EQ(MustGet(*restarted, "secret/two"), "2");
  EXPECT_EQ(restarted->ActiveKeyStatus()->term, 2u);
  ASSERT_TRUE(restarted->Put("secret/three", "3").ok());
  EXPECT_EQ(TermOf(backend_.Raw("secret/three")), 2u);
}

TEST_F(BarrierTest, TamperedKeyringFailsUnsealAndStaysSealed) {
  barrier_->Seal();
  std::string keyring = backend_.Raw(std::string(kKeyringPath));
  keyring[keyring.size() / 2] ^= 0x40;
  backend_.SetRaw(std::string(kKeyringPath), keyring);
  Status status = barrier_->Unseal(unseal_key_);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "failed to decrypt core/keyring: message authentication failed");
  EXPECT_TRUE(barrier_->Sealed());
}

TEST_F(BarrierTest, ListPassesThroughUnencryptedKeys) {
  ASSERT_TRUE(barrier_->Put("secret/a", "1").ok());
  ASSERT_TRUE(barrier_->Put("secret/b/c", "2").ok());
  ASSERT_TRUE(barrier_->Put("secret/b/d", "3").ok());
  auto list = barrier_->List("secret/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"a", "b/"}));
  EXPECT_EQ(*barrier_->List("secret/b/"), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(barrier_->List("nothing/")->empty());
}

TEST_F(BarrierTest, TransactionEncryptsEveryPut) {
  ASSERT_TRUE(barrier_->Put("secret/gone", "to delete").ok());
  std::vector<logical::TxnOp> ops = {
      {physical::TxnOp::Kind::kPut, "secret/x", "plain-x-value"},
      {physical::TxnOp::Kind::kPut, "secret/y", "plain-y-value"},
      {physical::TxnOp::Kind::kDelete, "secret/gone", ""},
  };
  ASSERT_TRUE(barrier_->Transaction(ops).ok());
  for (const auto& [key, value] : backend_.Snapshot()) {
    EXPECT_EQ(value.find("plain-"), std::string::npos) << key;
  }
  EXPECT_EQ(MustGet(*barrier_, "secret/x"), "plain-x-value");
  EXPECT_EQ(MustGet(*barrier_, "secret/y"), "plain-y-value");
  EXPECT_FALSE(barrier_->Get("secret/gone")->has_value());

  // Each put is bound to its own path.
  backend_.SetRaw("secret/y", backend_.Raw("secret/x"));
  ExpectDecryptFailure("secret/y", "plain-x-value");
}

TEST_F(BarrierTest, ReservedKeysAreRefused) {
  for (std::string_view key : {kKeyringPath, kRootKeyPath}) {
    const std::string before = backend_.Raw(std::string(key));
    EXPECT_EQ(barrier_->Put(key, "x").code(), StatusCode::kPermissionDenied) << key;
    EXPECT_EQ(barrier_->Delete(key).code(), StatusCode::kPermissionDenied) << key;
    EXPECT_EQ(barrier_->Get(key).status().code(), StatusCode::kPermissionDenied) << key;
    EXPECT_EQ(barrier_->Transaction({{physical::TxnOp::Kind::kPut, "secret/ok", "v"},
                                     {physical::TxnOp::Kind::kDelete, std::string(key), ""}})
                  .code(),
              StatusCode::kPermissionDenied)
        << key;
    EXPECT_EQ(backend_.Raw(std::string(key)), before);
  }
  EXPECT_FALSE(barrier_->Get("secret/ok")->has_value());  // the refused transaction did nothing
  EXPECT_TRUE(barrier_->Put("core/mounts", "other core keys are fine").ok());
  EXPECT_EQ(MustGet(*barrier_, "core/mounts"), "other core keys are fine");
  // After the refused writes the barrier still restarts cleanly.
  auto restarted = Barrier::Create(&backend_);
  EXPECT_TRUE(restarted->Unseal(unseal_key_).ok());
}

TEST_F(BarrierTest, ChangeUnsealKeyReplacesTheOldKey) {
  ASSERT_TRUE(barrier_->Put("secret/a", "v").ok());
  SecretBytes new_key = crypto::RandomSecret(32);
  ASSERT_TRUE(barrier_->ChangeUnsealKey(new_key).ok());
  barrier_->Seal();
  EXPECT_EQ(barrier_->Unseal(unseal_key_).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(barrier_->Sealed());
  ASSERT_TRUE(barrier_->Unseal(new_key).ok());
  EXPECT_EQ(MustGet(*barrier_, "secret/a"), "v");
}

TEST_F(BarrierTest, ConcurrentReadersAndWritersDuringRotation) {
  constexpr int kThreads = 4;
  constexpr int kOps = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        std::string key = "secret/t" + std::to_string(t) + "/" + std::to_string(i % 10);
        std::string value = "value-" + std::to_string(t) + "-" + std::to_string(i);
        if (!barrier_->Put(key, value).ok()) ++failures;
        auto got = barrier_->Get(key);
        if (!got.ok() || !got->has_value() || **got != value) ++failures;
      }
    });
  }
  for (int r = 0; r < 5; ++r) ASSERT_TRUE(barrier_->Rotate().ok());
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(barrier_->ActiveKeyStatus()->term, 6u);
}

}  // namespace
}  // namespace coffer::barrier
