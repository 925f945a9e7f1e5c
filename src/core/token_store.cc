#include "core/token_store.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace coffer::core {
namespace {

constexpr char kSaltKey[] = "salt";
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Uniform base62 by rejection sampling (bytes >= 248 are redrawn).
std::string RandomBase62(size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::string bytes = crypto::RandomBytes(n * 2);
    for (unsigned char b : bytes) {
      if (b >= 248) continue;
      out.push_back(kBase62[b % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

nlohmann::json ToJson(const TokenEntry& e) {
  return {{"id_hash", e.id_hash},         {"accessor", e.accessor},
          {"policies", e.policies},       {"path", e.path},
          {"display_name", e.display_name}, {"parent_hash", e.parent_hash},
          {"meta", e.meta},               {"creation_time", e.creation_time},
          {"ttl", e.ttl},                 {"explicit_max_ttl", e.explicit_max_ttl},
          {"num_uses", e.num_uses},       {"renewable", e.renewable},
          {"type", e.type}};
}

StatusOr<TokenEntry> FromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLoss("token entry is not valid JSON");
  try {
    TokenEntry e;
    e.id_hash = j.at("id_hash").get<std::string>();
    e.accessor = j.at("accessor").get<std::string>();
    e.policies = j.at("policies").get<std::vector<std::string>>();
    e.path = j.value("path", "");
    e.display_name = j.value("display_name", "");
    e.parent_hash = j.value("parent_hash", "");
    e.meta = j.value("meta", std::map<std::string, std::string>{});
    e.creation_time = j.value("creation_time", int64_t{0});
    e.ttl = j.value("ttl", int64_t{0});
    e.explicit_max_ttl = j.value("explicit_max_ttl", int64_t{0});
    e.num_uses = j.value("num_uses", int64_t{0});
    e.renewable = j.value("renewable", false);
    e.type = j.value("type", "service");
    return e;
  } catch (const nlohmann::json::exception&) {
    return DataLoss("token entry has an unexpected shape");
  }
}

}  // namespace

bool TokenEntry::IsRoot() const {
  for (const auto& p : policies)
    if (p == "root") return true;
  return false;
}

std::string GenerateTokenString() { return "hvs." + RandomBase62(24); }
std::string GenerateAccessor() { return RandomBase62(24); }

TokenStore::TokenStore(logical::Storage* view) : view_(view) {}

Status TokenStore::Setup() {
  std::unique_lock lock(mu_);
  ASSIGN_OR_RETURN(auto stored, view_->Get(kSaltKey));
  if (stored) {
    salt_ = ToSecretBytes(*stored);
    SecureWipe(stored->data(), stored->size());
    return OkStatus();
  }
  SecretBytes salt = crypto::RandomSecret(32);
  RETURN_IF_ERROR(view_->Put(kSaltKey, AsStringView(salt)));
  salt_ = std::move(salt);
  return OkStatus();
}

void TokenStore::Reset() {
  std::unique_lock lock(mu_);
  salt_.clear();
  salt_.shrink_to_fit();
}

std::string TokenStore::HashOf(std::string_view value) const {
  return HexEncode(crypto::HmacSha256(AsStringView(salt_), value));
}

Status TokenStore::Store(const TokenEntry& entry) {
  std::string accessor_key = "accessor/" + HashOf(entry.accessor);
  return view_->Transaction({
      {physical::TxnOp::Kind::kPut, "id/" + entry.id_hash, ToJson(entry).dump()},
      {physical::TxnOp::Kind::kPut, accessor_key, entry.id_hash},
  });
}

StatusOr<std::pair<std::string, TokenEntry>> TokenStore::CreateRootToken(std::string id) {
  std::shared_lock lock(mu_);
  if (salt_.empty()) return SealedError();
  if (id.empty()) id = GenerateTokenString();
  TokenEntry e;
  e.id_hash = HashOf(id);
  e.accessor = GenerateAccessor();
  e.policies = {"root"};
  e.path = "auth/token/root";
  e.display_name = "root";
  e.creation_time = static_cast<int64_t>(std::time(nullptr));
  RETURN_IF_ERROR(Store(e));
  return std::make_pair(std::move(id), std::move(e));
}

StatusOr<std::optional<TokenEntry>> TokenStore::Lookup(std::string_view token) const {
  if (token.empty()) return std::optional<TokenEntry>();
  std::string key;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) return SealedError();
    key = "id/" + HashOf(token);
  }
  ASSIGN_OR_RETURN(auto raw, view_->Get(key));
  if (!raw) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(TokenEntry entry, FromJson(*raw));
  if (entry.ttl > 0 && entry.creation_time + entry.ttl <= static_cast<int64_t>(std::time(nullptr))) {
    return std::optional<TokenEntry>();
  }
  return std::optional<TokenEntry>(std::move(entry));
}

Status TokenStore::Revoke(std::string_view token) {
  ASSIGN_OR_RETURN(auto entry, Lookup(token));
  if (!entry) return OkStatus();
  std::shared_lock lock(mu_);
  return view_->Transaction({
      {physical::TxnOp::Kind::kDelete, "id/" + entry->id_hash, ""},
      {physical::TxnOp::Kind::kDelete, "accessor/" + HashOf(entry->accessor), ""},
  });
}

}  // namespace coffer::core
