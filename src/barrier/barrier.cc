#include "barrier/barrier.h"

#include <cassert>
#include <chrono>
#include <map>
#include <utility>

#include "crypto/aead.h"
#include "crypto/random.h"

namespace coffer::barrier {
namespace {

constexpr uint8_t kValueVersion = 1;
constexpr uint8_t kEnvelopeVersion = 1;
constexpr uint8_t kKeyringVersion = 1;
constexpr size_t kTermSize = 4;
constexpr size_t kValueHeaderSize = kTermSize + 1;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsReserved(std::string_view key) { return key == kKeyringPath || key == kRootKeyPath; }

Status ReservedError(std::string_view key) {
  return PermissionDenied(std::string(key) + " is reserved for the barrier");
}

Status CheckUnsealKeySize(const SecretBytes& key) {
  if (key.size() != kUnsealKeySize) {
    return InvalidArgument("unseal key must be " + std::to_string(kUnsealKeySize) +
                           " bytes, got " + std::to_string(key.size()));
  }
  return OkStatus();
}

// version ‖ AES-256-GCM(plaintext) with `path` as associated data.
std::string SealEnvelope(const crypto::Aes256Gcm& aead, const SecretBytes& plaintext,
                         std::string_view path) {
  std::string out;
  out.reserve(1 + crypto::Aes256Gcm::kOverhead + plaintext.size());
  out.push_back(static_cast<char>(kEnvelopeVersion));
  aead.EncryptAppend(AsStringView(plaintext), path, &out);
  return out;
}

// The AEAD part of an envelope, or kDataLoss when the framing is wrong.
StatusOr<std::string_view> EnvelopeBody(std::string_view raw, std::string_view path) {
  if (raw.empty()) return DataLoss("failed to decrypt " + std::string(path) + ": empty value");
  if (static_cast<uint8_t>(raw[0]) != kEnvelopeVersion) {
    return DataLoss("failed to decrypt " + std::string(path) + ": unsupported version " +
                    std::to_string(static_cast<uint8_t>(raw[0])));
  }
  return raw.substr(1);
}

// Big-endian writer into a buffer sized up front (no reallocation leaves key copies behind).
class Writer {
 public:
  explicit Writer(SecretBytes& out) : out_(out) {}
  void U8(uint8_t v) { out_[pos_++] = v; }
  void U32(uint32_t v) { BigEndian(v, 4); }
  void U64(uint64_t v) { BigEndian(v, 8); }
  void Bytes(const SecretBytes& b) {
    for (uint8_t byte : b) out_[pos_++] = byte;
  }
  bool Full() const { return pos_ == out_.size(); }

 private:
  void BigEndian(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_[pos_++] = static_cast<uint8_t>(v >> (8 * i));
  }
  SecretBytes& out_;
  size_t pos_ = 0;
};

// Bounds-checked big-endian reader over the keyring plaintext.
class Reader {
 public:
  explicit Reader(const SecretBytes& bytes) : bytes_(bytes) {}
  bool ReadU8(uint8_t* v) {
    if (bytes_.size() - pos_ < 1) return false;
    *v = bytes_[pos_++];
    return true;
  }
  bool ReadU32(uint32_t* v) {
    uint64_t wide;
    if (!ReadBigEndian(4, &wide)) return false;
    *v = static_cast<uint32_t>(wide);
    return true;
  }
  bool ReadU64(uint64_t* v) { return ReadBigEndian(8, v); }
  bool ReadBytes(size_t n, SecretBytes* out) {
    if (bytes_.size() - pos_ < n) return false;
    out->assign(bytes_.begin() + static_cast<std::ptrdiff_t>(pos_),
                bytes_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }

 private:
  bool ReadBigEndian(size_t n, uint64_t* v) {
    if (bytes_.size() - pos_ < n) return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; ++i) r = (r << 8) | bytes_[pos_++];
    *v = r;
    return true;
  }
  const SecretBytes& bytes_;
  size_t pos_ = 0;
};

}  // namespace

// One data-encryption key of the keyring.
struct KeyEntry {
  KeyEntry(uint32_t t, int64_t installed, uint64_t count, SecretBytes k, crypto::Aes256Gcm a)
      : term(t), install_time_unix(installed), encryptions(count), key(std::move(k)),
        aead(std::move(a)) {}

  const uint32_t term;
  const int64_t install_time_unix;
  std::atomic<uint64_t> encryptions;
  const SecretBytes key;  // kept for serialization; aead holds its own copy
  const crypto::Aes256Gcm aead;
};

// The set of data keys by term, with one active term for new writes. Immutable once installed
// in a Barrier except for the atomic encryption counters, so readers need only a shared lock.
class Keyring {
 public:
  // A fresh keyring holding one random key with term 1.
  static std::unique_ptr<Keyring> CreateFirst() {
    auto ring = std::make_unique<Keyring>();
    ring->AddNewKey(1);
    return ring;
  }

  static StatusOr<std::unique_ptr<Keyring>> Parse(const SecretBytes& bytes) {
    const Status corrupt = DataLoss("keyring is corrupt");
    Reader in(bytes);
    uint8_t version;
    uint32_t active_term, count;
    if (!in.ReadU8(&version) || version != kKeyringVersion) return corrupt;
    if (!in.ReadU32(&active_term) || !in.ReadU32(&count) || count == 0) return corrupt;
    auto ring = std::make_unique<Keyring>();
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t term;
      uint64_t installed, encryptions;
      uint8_t key_len;
      SecretBytes key;
      if (!in.ReadU32(&term) || !in.ReadU64(&installed) || !in.ReadU64(&encryptions) ||
          !in.ReadU8(&key_len) || !in.ReadBytes(key_len, &key)) {
        return corrupt;
      }
      auto aead = crypto::Aes256Gcm::New(key);
      if (term == 0 || !aead.ok() || ring->entries_.count(term) != 0) return corrupt;
      ring->entries_.emplace(term, std::make_unique<KeyEntry>(term, static_cast<int64_t>(installed),
                                                              encryptions, std::move(key),
                                                              std::move(aead).value()));
    }
    if (!in.AtEnd()) return corrupt;
    auto active = ring->entries_.find(active_term);
    if (active == ring->entries_.end()) return corrupt;
    ring->active_ = active->second.get();
    return ring;
  }

  SecretBytes Serialize() const {
    size_t size = 1 + 4 + 4;
    for (const auto& [term, entry] : entries_) size += 4 + 8 + 8 + 1 + entry->key.size();
    SecretBytes out(size);
    Writer w(out);
    w.U8(kKeyringVersion);
    w.U32(active_->term);
    w.U32(static_cast<uint32_t>(entries_.size()));
    for (const auto& [term, entry] : entries_) {
      w.U32(term);
      w.U64(static_cast<uint64_t>(entry->install_time_unix));
      w.U64(entry->encryptions.load(std::memory_order_relaxed));
      w.U8(static_cast<uint8_t>(entry->key.size()));
      w.Bytes(entry->key);
    }
    assert(w.Full());
    return out;
  }

  // A copy of this keyring plus a new random key with the next term, active.
  std::unique_ptr<Keyring> CloneWithNextTerm() const {
    auto ring = std::make_unique<Keyring>();
    for (const auto& [term, entry] : entries_) {
      ring->entries_.emplace(
          term, std::make_unique<KeyEntry>(term, entry->install_time_unix,
                                           entry->encryptions.load(std::memory_order_relaxed),
                                           entry->key, entry->aead));
    }
    ring->AddNewKey(entries_.rbegin()->first + 1);
    return ring;
  }

  // Carries over encryption counts from `older` (called while no encryption can run).
  void TakeCountsFrom(const Keyring& older) {
    for (const auto& [term, entry] : older.entries_) {
      auto it = entries_.find(term);
      if (it != entries_.end()) {
        it->second->encryptions.store(entry->encryptions.load(std::memory_order_relaxed),
                                      std::memory_order_relaxed);
      }
    }
  }

  const KeyEntry& active() const { return *active_; }

  // term ‖ version ‖ nonce ‖ ciphertext ‖ tag, with the path as associated data.
  std::string EncryptValue(std::string_view path, std::string_view value) const {
    std::string out;
    out.reserve(kValueHeaderSize + crypto::Aes256Gcm::kOverhead + value.size());
    const uint32_t term = active_->term;
    out.push_back(static_cast<char>(term >> 24));
    out.push_back(static_cast<char>(term >> 16));
    out.push_back(static_cast<char>(term >> 8));
    out.push_back(static_cast<char>(term));
    out.push_back(static_cast<char>(kValueVersion));
    active_->aead.EncryptAppend(value, path, &out);
    active_->encryptions.fetch_add(1, std::memory_order_relaxed);
    return out;
  }

  StatusOr<std::string> DecryptValue(std::string_view path, std::string_view raw) const {
    auto fail = [&](std::string_view why) {
      return DataLoss("failed to decrypt " + std::string(path) + ": " + std::string(why));
    };
    if (raw.size() < kValueHeaderSize) return fail("ciphertext too short");
    const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
    const uint32_t term = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (p[4] != kValueVersion) {
      return fail("unsupported ciphertext version " + std::to_string(p[4]));
    }
    auto it = entries_.find(term);
    if (it == entries_.end()) return fail("unknown key term " + std::to_string(term));
    auto plain = it->second->aead.Decrypt(raw.substr(kValueHeaderSize), path);
    if (!plain.ok()) return fail(plain.status().message());
    return plain;
  }

 private:
  void AddNewKey(uint32_t term) {
    SecretBytes key = crypto::RandomSecret(crypto::Aes256Gcm::kKeySize);
    auto aead = crypto::Aes256Gcm::New(key);
    assert(aead.ok());
    auto entry = std::make_unique<KeyEntry>(term, NowUnix(), 0, std::move(key),
                                            std::move(aead).value());
    active_ = entry.get();
    entries_[term] = std::move(entry);
  }

  std::map<uint32_t, std::unique_ptr<KeyEntry>> entries_;
  KeyEntry* active_ = nullptr;
};

std::unique_ptr<Barrier> Barrier::Create(physical::Backend* backend) {
  assert(backend != nullptr);
  return std::unique_ptr<Barrier>(new Barrier(backend));
}

Barrier::Barrier(physical::Backend* backend) : backend_(backend) {}
Barrier::~Barrier() = default;

StatusOr<bool> Barrier::Initialized() {
  ASSIGN_OR_RETURN(std::optional<std::string> keyring, backend_->Get(kKeyringPath));
  return keyring.has_value();
}

Status Barrier::Initialize(const SecretBytes& unseal_key) {
  RETURN_IF_ERROR(CheckUnsealKeySize(unseal_key));
  std::lock_guard admin(admin_mu_);
  ASSIGN_OR_RETURN(bool initialized, Initialized());
  if (initialized) return InvalidArgument("barrier is already initialized");

  ASSIGN_OR_RETURN(crypto::Aes256Gcm unseal_aead, crypto::Aes256Gcm::New(unseal_key));
  SecretBytes root_key = crypto::RandomSecret(crypto::Aes256Gcm::kKeySize);
  ASSIGN_OR_RETURN(crypto::Aes256Gcm root_aead, crypto::Aes256Gcm::New(root_key));
  std::unique_ptr<Keyring> keyring = Keyring::CreateFirst();

  std::vector<physical::TxnOp> ops;
  ops.push_back({physical::TxnOp::Kind::kPut, std::string(kRootKeyPath),
                 SealEnvelope(unseal_aead, root_key, kRootKeyPath)});
  ops.push_back({physical::TxnOp::Kind::kPut, std::string(kKeyringPath),
                 SealEnvelope(root_aead, keyring->Serialize(), kKeyringPath)});
  return backend_->Transaction(ops).WithContext("barrier initialize");
}

Status Barrier::Unseal(const SecretBytes& unseal_key) {
  RETURN_IF_ERROR(CheckUnsealKeySize(unseal_key));
  std::lock_guard admin(admin_mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> sealed_root, backend_->Get(kRootKeyPath));
  if (!sealed_root) return Status(StatusCode::kNotInitialized, "barrier is not initialized");

  ASSIGN_OR_RETURN(crypto::Aes256Gcm unseal_aead, crypto::Aes256Gcm::New(unseal_key));
  ASSIGN_OR_RETURN(std::string_view root_body, EnvelopeBody(*sealed_root, kRootKeyPath));
  StatusOr<SecretBytes> root_key = unseal_aead.DecryptSecret(root_body, kRootKeyPath);
  if (!root_key.ok()) {
    return InvalidArgument("unseal key is incorrect: it does not decrypt the root key");
  }
  if (root_key->size() != crypto::Aes256Gcm::kKeySize) {
    return DataLoss("failed to decrypt " + std::string(kRootKeyPath) + ": wrong key length");
  }
  if (!Sealed()) return OkStatus();  // already unsealed; the key has been verified

  ASSIGN_OR_RETURN(std::optional<std::string> sealed_keyring, backend_->Get(kKeyringPath));
  if (!sealed_keyring) return DataLoss("barrier storage is inconsistent: core/keyring is missing");
  ASSIGN_OR_RETURN(crypto::Aes256Gcm root_aead, crypto::Aes256Gcm::New(*root_key));
  ASSIGN_OR_RETURN(std::string_view keyring_body, EnvelopeBody(*sealed_keyring, kKeyringPath));
  StatusOr<SecretBytes> keyring_bytes = root_aead.DecryptSecret(keyring_body, kKeyringPath);
  if (!keyring_bytes.ok()) {
    return keyring_bytes.status().WithContext("failed to decrypt " + std::string(kKeyringPath));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Keyring> keyring, Keyring::Parse(*keyring_bytes));

  std::unique_lock lock(mu_);
  keyring_ = std::move(keyring);
  root_key_ = std::move(root_key).value();
  sealed_.store(false, std::memory_order_release);
  return OkStatus();
}

void Barrier::Seal() {
  std::lock_guard admin(admin_mu_);
  std::unique_lock lock(mu_);
  sealed_.store(true, std::memory_order_release);
  keyring_.reset();           // KeyEntry keys live in SecretBytes: freed means wiped
  SecretBytes().swap(root_key_);
}

Status Barrier::PersistKeyring(const Keyring& keyring) {
  ASSIGN_OR_RETURN(crypto::Aes256Gcm root_aead, crypto::Aes256Gcm::New(root_key_));
  return backend_->Put(kKeyringPath, SealEnvelope(root_aead, keyring.Serialize(), kKeyringPath))
      .WithContext("persist keyring");
}

Status Barrier::Rotate() {
  std::lock_guard admin(admin_mu_);
  if (Sealed()) return SealedError();
  // Only admin operations replace keyring_, and they hold admin_mu_, so reading it here
  // without mu_ is safe; concurrent writers only bump atomic counters.
  std::unique_ptr<Keyring> next = keyring_->CloneWithNextTerm();
  RETURN_IF_ERROR(PersistKeyring(*next));
  std::unique_lock lock(mu_);
  next->TakeCountsFrom(*keyring_);
  keyring_ = std::move(next);
  return OkStatus();
}

Status Barrier::Checkpoint() {
  std::lock_guard admin(admin_mu_);
  if (Sealed()) return SealedError();
  return PersistKeyring(*keyring_);
}

Status Barrier::ChangeUnsealKey(const SecretBytes& new_unseal_key) {
  RETURN_IF_ERROR(CheckUnsealKeySize(new_unseal_key));
  std::lock_guard admin(admin_mu_);
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(crypto::Aes256Gcm unseal_aead, crypto::Aes256Gcm::New(new_unseal_key));
  return backend_->Put(kRootKeyPath, SealEnvelope(unseal_aead, root_key_, kRootKeyPath))
      .WithContext("change unseal key");
}

StatusOr<Barrier::KeyStatus> Barrier::ActiveKeyStatus() const {
  std::shared_lock lock(mu_);
  if (keyring_ == nullptr) return SealedError();
  const KeyEntry& active = keyring_->active();
  return KeyStatus{active.term, active.install_time_unix,
                   active.encryptions.load(std::memory_order_relaxed)};
}

StatusOr<std::optional<std::string>> Barrier::Get(std::string_view key) {
  if (Sealed()) return SealedError();
  if (IsReserved(key)) return ReservedError(key);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, backend_->Get(key));
  if (!raw) return std::optional<std::string>();
  std::shared_lock lock(mu_);
  if (keyring_ == nullptr) return SealedError();
  ASSIGN_OR_RETURN(std::string plain, keyring_->DecryptValue(key, *raw));
  return std::optional<std::string>(std::move(plain));
}

Status Barrier::Put(std::string_view key, std::string_view value) {
  if (Sealed()) return SealedError();
  if (IsReserved(key)) return ReservedError(key);
  std::string sealed;
  {
    std::shared_lock lock(mu_);
    if (keyring_ == nullptr) return SealedError();
    sealed = keyring_->EncryptValue(key, value);
  }
  return backend_->Put(key, sealed);
}

Status Barrier::Delete(std::string_view key) {
  if (Sealed()) return SealedError();
  if (IsReserved(key)) return ReservedError(key);
  return backend_->Delete(key);
}

StatusOr<std::vector<std::string>> Barrier::List(std::string_view prefix) {
  if (Sealed()) return SealedError();
  return backend_->List(prefix);
}

Status Barrier::Transaction(const std::vector<logical::TxnOp>& ops) {
  if (Sealed()) return SealedError();
  for (const logical::TxnOp& op : ops) {
    if (IsReserved(op.key)) return ReservedError(op.key);
  }
  std::vector<physical::TxnOp> sealed_ops;
  sealed_ops.reserve(ops.size());
  {
    std::shared_lock lock(mu_);
    if (keyring_ == nullptr) return SealedError();
    for (const logical::TxnOp& op : ops) {
      if (op.kind == physical::TxnOp::Kind::kPut) {
        sealed_ops.push_back({op.kind, op.key, keyring_->EncryptValue(op.key, op.value)});
      } else {
        sealed_ops.push_back({op.kind, op.key, std::string()});
      }
    }
  }
  return backend_->Transaction(sealed_ops);
}

}  // namespace coffer::barrier
