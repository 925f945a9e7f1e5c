// The barrier: the only place storage is encrypted. Every value written through it is sealed
// with the keyring's active key (AES-256-GCM, the storage path as associated data) and every
// value read is authenticated, so a tampered, truncated or moved ciphertext is a kDataLoss
// error, never garbage. Keys (paths) are stored in the clear so List works unchanged.
//
// Physical layout (all values binary):
//   <any path>     4-byte big-endian key term ‖ version 0x01 ‖ nonce(12) ‖ ciphertext ‖ tag(16)
//   core/keyring   version 0x01 ‖ AES-256-GCM under the root key, AAD "core/keyring"
//   core/root-key  version 0x01 ‖ AES-256-GCM under the unseal key, AAD "core/root-key"
// The keyring plaintext is binary: version 0x01, u32 active term, u32 count, then per key
// u32 term, i64 install time (unix seconds), u64 encryption count, u8 key length, key bytes.
//
// Thread-safe. Get/Put/Delete/List/Transaction run concurrently under a shared lock held only
// for the cryptography (never across physical I/O); Initialize/Unseal/Seal/Rotate serialize.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "logical/storage.h"
#include "physical/backend.h"

namespace coffer::barrier {

inline constexpr std::string_view kKeyringPath = "core/keyring";
inline constexpr std::string_view kRootKeyPath = "core/root-key";
inline constexpr size_t kUnsealKeySize = 32;

class Keyring;

class Barrier final : public logical::Storage {
 public:
  // `backend` is borrowed, must be non-null and outlive the barrier. Starts sealed.
  static std::unique_ptr<Barrier> Create(physical::Backend* backend);
  ~Barrier() override;

  // True when a keyring is present in physical storage. Errors only for storage failures.
  StatusOr<bool> Initialized();

  // Creates a random root key and a keyring with term 1; stores the keyring encrypted by the
  // root key and the root key encrypted by unseal_key (32 bytes) in one physical transaction.
  // Leaves the barrier sealed. kInvalidArgument if already initialized or the key is not 32
  // bytes; storage errors pass through and leave nothing behind.
  Status Initialize(const SecretBytes& unseal_key);

  // Decrypts the root key with unseal_key and loads the keyring. A wrong key is
  // kInvalidArgument ("unseal key is incorrect") and changes nothing; not initialized is
  // kNotInitialized; a keyring that fails authentication is kDataLoss. Unsealing an unsealed
  // barrier only verifies the key.
  Status Unseal(const SecretBytes& unseal_key);

  // Wipes the root key and keyring from memory; Storage calls then return SealedError().
  void Seal();
  bool Sealed() const { return sealed_.load(std::memory_order_acquire); }

  // Adds term N+1 as the active key and persists the keyring; old terms still decrypt.
  // SealedError() when sealed. On a storage error the active term does not change.
  Status Rotate();

  // Persists the keyring now, so its encryption counts survive a restart. Call it
  // periodically and before a clean shutdown. SealedError() when sealed.
  Status Checkpoint();

  // Re-encrypts the root key under a new unseal key (for rekeying the seal). Requires an
  // unsealed barrier; afterwards only new_unseal_key unseals.
  Status ChangeUnsealKey(const SecretBytes& new_unseal_key);

  struct KeyStatus {
    uint32_t term;
    int64_t install_time_unix;
    // Encryptions under this term: counted in memory (atomic) and persisted with the keyring
    // at every keyring write (Rotate, Checkpoint), so after a crash the count is a lower
    // bound that misses the encryptions since the last keyring write.
    uint64_t encryptions;
  };
  StatusOr<KeyStatus> ActiveKeyStatus() const;

  // logical::Storage. Values are encrypted on the way in and authenticated and decrypted on
  // the way out. SealedError() while sealed. core/keyring and core/root-key are reserved:
  // Get, Put, Delete and Transaction on them are kPermissionDenied. List passes through.
  StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transaction(const std::vector<logical::TxnOp>& ops) override;

 private:
  explicit Barrier(physical::Backend* backend);

  // Stores `keyring` encrypted under root_key_ at core/keyring. Requires admin_mu_.
  Status PersistKeyring(const Keyring& keyring);

  physical::Backend* const backend_;
  std::atomic<bool> sealed_{true};

  // Serializes the administrative operations (Initialize, Unseal, Seal, Rotate, Checkpoint,
  // ChangeUnsealKey); taken before mu_. Guards root_key_.
  std::mutex admin_mu_;
  SecretBytes root_key_;

  // Guards keyring_: shared for the data path, exclusive to install or drop a keyring.
  mutable std::shared_mutex mu_;
  std::unique_ptr<Keyring> keyring_;
};

}  // namespace coffer::barrier
