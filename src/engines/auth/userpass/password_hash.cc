#include "engines/auth/userpass/password_hash.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <semaphore>
#include <thread>

#include "base/encoding.h"
#include "base/secret_bytes.h"
#include "crypto/random.h"
#include "crypto/scrypt.h"

namespace coffer::userpass {
namespace {

// Bounds for stored parameters: far above anything Coffer writes, low enough that a corrupt
// record cannot make one login allocate more than 1 GiB.
constexpr int kMinLog2N = 1, kMaxLog2N = 20;
constexpr uint32_t kMaxR = 64, kMaxP = 16;

std::counting_semaphore<1024>& HashSlots() {
  static std::counting_semaphore<1024> slots(MaxConcurrentHashes());
  return slots;
}

// scrypt under the concurrency limit.
StatusOr<SecretBytes> LimitedScrypt(std::string_view password, const std::string& salt, const ScryptParams& params,
                                    size_t length) {
  HashSlots().acquire();
  auto out = crypto::Scrypt(password, salt, params.log2_n, params.r, params.p, length);
  HashSlots().release();
  return out;
}

bool ParamsInRange(const ScryptParams& p) {
  return p.log2_n >= kMinLog2N && p.log2_n <= kMaxLog2N && p.r >= 1 && p.r <= kMaxR && p.p >= 1 && p.p <= kMaxP;
}

}  // namespace

int MaxConcurrentHashes() {
  static const int n = static_cast<int>(std::clamp(2 * std::thread::hardware_concurrency(), 4u, 64u));
  return n;
}

nlohmann::json PasswordHash::ToJson() const {
  return nlohmann::json{{"algorithm", "scrypt"}, {"log2_n", params.log2_n},    {"r", params.r},
                        {"p", params.p},         {"salt", Base64Encode(salt)}, {"hash", Base64Encode(hash)}};
}

StatusOr<PasswordHash> PasswordHash::FromJson(const nlohmann::json& j) {
  const Status corrupt = DataLoss("userpass: stored password hash is malformed");
  if (!j.is_object()) return corrupt;
  auto str = [&](const char* key) -> const std::string* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto num = [&](const char* key) -> int64_t {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
  };
  const std::string* algorithm = str("algorithm");
  const std::string* salt = str("salt");
  const std::string* hash = str("hash");
  if (algorithm == nullptr || *algorithm != "scrypt" || salt == nullptr || hash == nullptr) return corrupt;
  int64_t log2_n = num("log2_n"), r = num("r"), p = num("p");
  if (log2_n < 0 || log2_n > kMaxLog2N || r < 0 || r > kMaxR || p < 0 || p > kMaxP) return corrupt;
  PasswordHash out;
  out.params = ScryptParams{static_cast<int>(log2_n), static_cast<uint32_t>(r), static_cast<uint32_t>(p)};
  if (!ParamsInRange(out.params)) return corrupt;
  auto salt_bytes = Base64Decode(*salt);
  auto hash_bytes = Base64Decode(*hash);
  if (!salt_bytes.ok() || !hash_bytes.ok() || salt_bytes->size() < kSaltBytes || hash_bytes->size() < 16 ||
      hash_bytes->size() > 64) {
    return corrupt;
  }
  out.salt = std::move(*salt_bytes);
  out.hash = std::move(*hash_bytes);
  return out;
}

StatusOr<PasswordHash> HashPassword(std::string_view password, const ScryptParams& params) {
  if (!ParamsInRange(params)) return InvalidArgument("userpass: scrypt parameters out of range");
  PasswordHash out;
  out.params = params;
  out.salt = crypto::RandomBytes(kSaltBytes);
  ASSIGN_OR_RETURN(SecretBytes derived, LimitedScrypt(password, out.salt, params, kHashBytes));
  out.hash.assign(AsStringView(derived));
  return out;
}

StatusOr<bool> VerifyPassword(std::string_view password, const PasswordHash& stored) {
  if (!ParamsInRange(stored.params) || stored.hash.empty()) {
    return DataLoss("userpass: stored password hash is malformed");
  }
  ASSIGN_OR_RETURN(SecretBytes derived, LimitedScrypt(password, stored.salt, stored.params, stored.hash.size()));
  return ConstantTimeEquals(AsStringView(derived), stored.hash);
}

PasswordHash DummyPasswordHash(const ScryptParams& params) {
  PasswordHash out;
  out.params = params;
  out.salt = crypto::RandomBytes(kSaltBytes);
  out.hash = crypto::RandomBytes(kHashBytes);
  return out;
}

}  // namespace coffer::userpass
