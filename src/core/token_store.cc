#include "core/token_store.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/duration.h"
#include "base/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace coffer::core {
namespace {

using physical::TxnOp;

constexpr char kSaltKey[] = "salt";
constexpr char kIdPrefix[] = "id/";
constexpr char kAccessorPrefix[] = "accessor/";
constexpr char kParentPrefix[] = "parent/";
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// RevokeOrphan re-lists children until none is left (a creation may have raced the mark that
// stops new ones); the loop is bounded all the same.
constexpr int kMaxOrphanRounds = 1000;

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

// Never throws: a string that is not valid UTF-8 (possible only through query parameters) is
// stored with U+FFFD replacements instead of raising nlohmann's exception.
std::string Serialize(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json ToJson(const TokenEntry& e) {
  nlohmann::json j = {{"id_hash", e.id_hash},
          {"accessor", e.accessor},
          {"policies", e.policies},
          {"path", e.path},
          {"display_name", e.display_name},
          {"parent_hash", e.parent_hash},
          {"meta", e.meta},
          {"creation_time", e.creation_time},
          {"ttl", e.ttl},
          {"explicit_max_ttl", e.explicit_max_ttl},
          {"period", e.period},
          {"num_uses", e.num_uses},
          {"renewable", e.renewable},
          {"type", e.type},
          {"role", e.role},
          {"bound_cidrs", e.bound_cidrs},
          {"entity_id", e.entity_id},
          {"has_lease", e.has_lease},
          {"expire_time", e.expire_time},
          {"lease_ttl", e.lease_ttl},
          {"last_renewal_time", e.last_renewal_time}};
  if (e.backend_max_ttl > 0) j["backend_max_ttl"] = e.backend_max_ttl;
  return j;
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
    e.period = j.value("period", int64_t{0});
    e.num_uses = j.value("num_uses", int64_t{0});
    e.renewable = j.value("renewable", false);
    e.type = j.value("type", "service");
    e.role = j.value("role", "");
    e.bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
    e.entity_id = j.value("entity_id", "");
    e.backend_max_ttl = j.value("backend_max_ttl", int64_t{0});
    e.has_lease = j.value("has_lease", false);
    // Entries written before lease times were stored expire at creation + ttl.
    e.expire_time = j.value("expire_time", e.ttl > 0 ? e.creation_time + e.ttl : int64_t{0});
    e.lease_ttl = j.value("lease_ttl", e.ttl);
    e.last_renewal_time = j.value("last_renewal_time", int64_t{0});
    return e;
  } catch (const nlohmann::json::exception&) {
    return DataLoss("token entry has an unexpected shape");
  }
}

std::string AccessorIndexValue(const TokenEntry& e) {
  return Serialize(nlohmann::json{{"id_hash", e.id_hash}, {"accessor", e.accessor}});
}

struct AccessorIndex {
  std::string id_hash;
  std::string accessor;
};

// Index values are {"id_hash", "accessor"}; an older format stored the bare id_hash.
AccessorIndex ParseAccessorIndex(const std::string& raw) {
  auto j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  AccessorIndex out;
  if (j.is_object()) {
    if (j.contains("id_hash") && j["id_hash"].is_string()) out.id_hash = j["id_hash"].get<std::string>();
    if (j.contains("accessor") && j["accessor"].is_string()) out.accessor = j["accessor"].get<std::string>();
  } else if (!raw.empty() && raw.find_first_not_of("0123456789abcdef") == std::string::npos) {
    out.id_hash = raw;
  }
  return out;
}

std::string WithoutSlash(std::string s) {
  if (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Locks a new token's stripe exclusively and its parent's stripe shared, in a fixed order (once,
// exclusively, when they share a stripe), so two threads can never deadlock. Sharing the
// parent's stripe lets many children of one parent (say, the root token) be created and
// committed at once, while a revocation of the parent (exclusive) still waits for them.
class PairLock {
 public:
  PairLock(std::shared_mutex& exclusive, std::shared_mutex& shared) {
    if (&exclusive == &shared) {
      exclusive_ = std::unique_lock<std::shared_mutex>(exclusive);
      return;
    }
    if (std::less<std::shared_mutex*>()(&shared, &exclusive)) {
      shared_ = std::shared_lock<std::shared_mutex>(shared);
      exclusive_ = std::unique_lock<std::shared_mutex>(exclusive);
    } else {
      exclusive_ = std::unique_lock<std::shared_mutex>(exclusive);
      shared_ = std::shared_lock<std::shared_mutex>(shared);
    }
  }

 private:
  std::unique_lock<std::shared_mutex> exclusive_;
  std::shared_lock<std::shared_mutex> shared_;
};

}  // namespace

bool TokenEntry::IsRoot() const {
  for (const auto& p : policies)
    if (p == "root") return true;
  return false;
}

std::string GenerateTokenString() { return "hvs." + RandomBase62(24); }
std::string GenerateAccessor() { return RandomBase62(24); }

StatusOr<TtlResult> CalculateTtl(const LeaseLimits& limits, int64_t increment, int64_t backend_ttl, int64_t period,
                                 int64_t explicit_max_ttl, int64_t start_time, int64_t now) {
  if (start_time <= 0) start_time = now;
  int64_t max_ttl = limits.max_ttl;
  if (explicit_max_ttl > 0 && explicit_max_ttl < max_ttl) max_ttl = explicit_max_ttl;
  if (max_ttl <= 0) return InternalError("max TTL must be greater than zero");

  TtlResult result;
  std::optional<int64_t> max_valid_time;
  if (period > 0) {
    if (period > max_ttl) {
      result.warnings.push_back("period of \"" + FormatDuration(period) + "\" exceeded the effective max_ttl of \"" +
                                FormatDuration(max_ttl) + "\"; period value is capped accordingly");
      period = max_ttl;
    }
    result.ttl = period;
    if (explicit_max_ttl > 0) max_valid_time = start_time + explicit_max_ttl;
  } else {
    int64_t default_ttl = limits.default_ttl > 0 ? limits.default_ttl : max_ttl;
    result.ttl = increment > 0 ? increment : backend_ttl > 0 ? backend_ttl : default_ttl;
    max_valid_time = start_time + max_ttl;
  }
  if (max_valid_time) {
    int64_t max_valid_ttl = *max_valid_time - now;
    if (max_valid_ttl < 0) return InvalidArgument("past the max TTL, cannot renew");
    if (max_valid_ttl < result.ttl) {
      result.warnings.push_back("TTL of \"" + FormatDuration(result.ttl) + "\" exceeded the effective max_ttl of \"" +
                                FormatDuration(max_valid_ttl) + "\"; TTL value is capped accordingly");
      result.ttl = max_valid_ttl;
    }
  }
  return result;
}

TokenStore::TokenStore(logical::Storage* view) : view_(view), roles_view_(view, "roles/") {}

void TokenStore::SetClock(Clock clock) { clock_ = std::move(clock); }
void TokenStore::SetOnRevoke(RevokeCallback on_revoke) { on_revoke_ = std::move(on_revoke); }

int64_t TokenStore::Now() const { return clock_ ? clock_() : static_cast<int64_t>(std::time(nullptr)); }

Status TokenStore::Setup() {
  {
    std::unique_lock lock(mu_);
    ASSIGN_OR_RETURN(auto stored, view_->Get(kSaltKey));
    if (stored) {
      salt_ = ToSecretBytes(*stored);
      SecureWipe(stored->data(), stored->size());
    } else {
      SecretBytes salt = crypto::RandomSecret(32);
      RETURN_IF_ERROR(view_->Put(kSaltKey, AsStringView(salt)));
      salt_ = std::move(salt);
    }
  }
  ClearCache();
  {
    std::lock_guard lock(expiry_mu_);
    expiry_queue_.clear();
    expiry_of_.clear();
  }
  // Index every token's expiry, as Vault's expiration manager restores its leases at unseal.
  ASSIGN_OR_RETURN(std::vector<std::string> ids, view_->List(kIdPrefix));
  for (const std::string& id : ids) {
    auto entry = ReadEntry(id);
    if (!entry.ok()) {
      if (entry.status().code() == StatusCode::kDataLoss) continue;  // Tidy() reports it
      return entry.status();
    }
    if (*entry) TrackExpiry(id, (*entry)->expire_time);
  }
  return OkStatus();
}

void TokenStore::Reset() {
  {
    std::unique_lock lock(mu_);
    salt_.clear();
    salt_.shrink_to_fit();
  }
  ClearCache();
  std::lock_guard lock(expiry_mu_);
  expiry_queue_.clear();
  expiry_of_.clear();
}

StatusOr<std::string> TokenStore::Hash(std::string_view value) const {
  std::shared_lock lock(mu_);
  if (salt_.empty()) return SealedError();
  return HexEncode(crypto::HmacSha256(AsStringView(salt_), value));
}

StatusOr<std::string> TokenStore::HashToken(std::string_view token) const { return Hash(token); }

std::shared_mutex& TokenStore::StripeFor(std::string_view id_hash) const {
  return stripes_[StripeIndex(id_hash)];
}

size_t TokenStore::StripeIndex(std::string_view id_hash) {
  return std::hash<std::string_view>()(id_hash) % kStripes;
}

StatusOr<std::shared_ptr<const TokenEntry>> TokenStore::ReadShared(std::string_view id_hash) const {
  if (id_hash.empty()) return std::shared_ptr<const TokenEntry>();
  const size_t stripe = StripeIndex(id_hash);
  uint64_t epoch;
  {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(id_hash);
    if (it != cache_.end()) return it->second;
    epoch = cache_epoch_[stripe];
  }
  ASSIGN_OR_RETURN(auto raw, view_->Get(kIdPrefix + std::string(id_hash)));
  if (!raw) return std::shared_ptr<const TokenEntry>();
  ASSIGN_OR_RETURN(TokenEntry entry, FromJson(*raw));
  auto shared = std::make_shared<const TokenEntry>(std::move(entry));
  std::unique_lock lock(cache_mu_);
  // A write to this stripe since the miss may have made what was read stale: do not keep it.
  if (cache_epoch_[stripe] == epoch) {
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_.insert_or_assign(std::string(id_hash), shared);
  }
  return shared;
}

void TokenStore::InvalidateCached(std::string_view id_hash) const {
  std::unique_lock lock(cache_mu_);
  ++cache_epoch_[StripeIndex(id_hash)];
  auto it = cache_.find(id_hash);
  if (it != cache_.end()) cache_.erase(it);
}

void TokenStore::ClearCache() const {
  std::unique_lock lock(cache_mu_);
  cache_.clear();
  for (uint64_t& e : cache_epoch_) ++e;
}

StatusOr<std::optional<TokenEntry>> TokenStore::ReadEntry(std::string_view id_hash) const {
  if (id_hash.empty()) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(auto raw, view_->Get(kIdPrefix + std::string(id_hash)));
  if (!raw) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(TokenEntry entry, FromJson(*raw));
  return std::optional<TokenEntry>(std::move(entry));
}

Status TokenStore::WriteEntry(const TokenEntry& entry) {
  Status written = view_->Put(kIdPrefix + entry.id_hash, Serialize(ToJson(entry)));
  InvalidateCached(entry.id_hash);
  return written;
}

void TokenStore::TrackExpiry(const std::string& id_hash, int64_t expire_time) {
  std::lock_guard lock(expiry_mu_);
  auto it = expiry_of_.find(id_hash);
  if (it != expiry_of_.end()) {
    expiry_queue_.erase({it->second, id_hash});
    expiry_of_.erase(it);
  }
  if (expire_time == 0) return;
  expiry_queue_.insert({expire_time, id_hash});
  expiry_of_[id_hash] = expire_time;
}

void TokenStore::ForgetExpiry(const std::string& id_hash) { TrackExpiry(id_hash, 0); }

void TokenStore::NotifyRevoked(const TokenEntry& entry) {
  if (on_revoke_) on_revoke_(entry);
}

StatusOr<std::pair<std::string, TokenEntry>> TokenStore::CreateInternal(TokenEntry entry, std::string id,
                                                                        bool validate_custom_id,
                                                                        const TokenEntry* parent) {
  bool supplied_id = !id.empty();
  if (supplied_id && validate_custom_id) {
    if (id.rfind("hvs.", 0) == 0) return InvalidArgument("custom token ID cannot have the 'hvs.' prefix");
    if (id.rfind("s.", 0) == 0) return InvalidArgument("custom token ID cannot have the 's.' prefix");
    if (id.find('.') != std::string::npos) return InvalidArgument("custom token ID cannot have a '.' in the value");
  }
  if (!supplied_id) id = GenerateTokenString();
  ASSIGN_OR_RETURN(entry.id_hash, Hash(id));
  entry.accessor = GenerateAccessor();
  ASSIGN_OR_RETURN(std::string accessor_hash, Hash(entry.accessor));
  entry.parent_hash = parent != nullptr ? parent->id_hash : "";

  std::vector<TxnOp> ops = {
      {TxnOp::Kind::kPut, kIdPrefix + entry.id_hash, Serialize(ToJson(entry))},
      {TxnOp::Kind::kPut, kAccessorPrefix + accessor_hash, AccessorIndexValue(entry)},
  };
  if (parent != nullptr) {
    ops.push_back({TxnOp::Kind::kPut, kParentPrefix + parent->id_hash + "/" + entry.id_hash, ""});
  }
  {
    // The parent is checked and the child written under the parent's stripe. A revocation
    // marks the parent pending under that stripe before it lists the children, so a new child
    // is either refused here or seen by the revocation: none can outlive its parent.
    // A generated id (~143 random bits) is known to nobody until this returns, so nothing can
    // race on the new token's own stripe: only the parent's is taken, shared. Taking the new
    // token's stripe exclusively too would, whenever it is the parent's stripe (1 in kStripes),
    // wait for every concurrent creation under that parent to commit, behind a stream of
    // shared holders (std::shared_mutex prefers readers here), for seconds under load. A
    // supplied id needs its stripe exclusively for the duplicate check.
    std::optional<PairLock> pair;
    std::optional<std::shared_lock<std::shared_mutex>> parent_only;
    if (supplied_id) {
      pair.emplace(StripeFor(entry.id_hash), StripeFor(parent != nullptr ? parent->id_hash : entry.id_hash));
    } else if (parent != nullptr) {
      parent_only.emplace(StripeFor(parent->id_hash));
    }
    if (parent != nullptr) {
      // Through the cache: writes to the parent invalidate it under the parent's stripe,
      // which this thread holds (shared).
      ASSIGN_OR_RETURN(auto current, ReadShared(parent->id_hash));
      if (!current || current->num_uses < 0 || current->ExpiredAt(Now())) {
        return InvalidArgument("parent token not found");
      }
    }
    if (supplied_id) {
      ASSIGN_OR_RETURN(auto existing, ReadEntry(entry.id_hash));
      if (existing) return InvalidArgument("cannot create a token with a duplicate ID");
    }
    Status written = view_->Transaction(ops);
    InvalidateCached(entry.id_hash);
    RETURN_IF_ERROR(written);
  }
  TrackExpiry(entry.id_hash, entry.expire_time);
  return std::make_pair(std::move(id), std::move(entry));
}

StatusOr<std::pair<std::string, TokenEntry>> TokenStore::CreateRootToken(std::string id) {
  TokenEntry e;
  e.policies = {"root"};
  e.path = "auth/token/root";
  e.display_name = "root";
  e.creation_time = Now();
  return CreateInternal(std::move(e), std::move(id), /*validate_custom_id=*/false, nullptr);
}

StatusOr<CreatedToken> TokenStore::Create(const TokenCreateParams& params, const TokenEntry* parent) {
  if (params.ttl < 0 || params.explicit_max_ttl < 0 || params.period < 0 || params.num_uses < 0) {
    return InvalidArgument("token TTLs and uses cannot be negative");
  }
  TokenEntry e;
  e.policies = params.policies;
  e.path = params.path;
  e.display_name = params.display_name;
  e.meta = params.meta;
  e.creation_time = Now();
  e.ttl = params.ttl;
  e.explicit_max_ttl = params.explicit_max_ttl;
  e.period = params.period;
  e.num_uses = params.num_uses;
  e.renewable = params.renewable;
  e.role = params.role;
  e.bound_cidrs = params.bound_cidrs;
  e.entity_id = params.entity_id;
  e.backend_max_ttl = params.backend_max_ttl;
  e.has_lease = true;
  e.expire_time = params.ttl > 0 ? e.creation_time + params.ttl : 0;
  e.lease_ttl = params.ttl;
  ASSIGN_OR_RETURN(auto created, CreateInternal(std::move(e), params.id, /*validate_custom_id=*/true, parent));
  return CreatedToken{std::move(created.first), std::move(created.second)};
}

StatusOr<std::optional<TokenEntry>> TokenStore::Lookup(std::string_view token) const {
  if (token.empty()) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(std::string id_hash, Hash(token));
  return LookupByHash(id_hash);
}

StatusOr<std::shared_ptr<const TokenEntry>> TokenStore::LookupShared(std::string_view token) const {
  if (token.empty()) return std::shared_ptr<const TokenEntry>();
  ASSIGN_OR_RETURN(std::string id_hash, Hash(token));
  return LookupSharedByHash(id_hash);
}

StatusOr<std::shared_ptr<const TokenEntry>> TokenStore::LookupSharedByHash(std::string_view id_hash) const {
  ASSIGN_OR_RETURN(auto entry, ReadShared(id_hash));
  if (!entry || entry->num_uses < 0 || entry->ExpiredAt(Now())) return std::shared_ptr<const TokenEntry>();
  return entry;
}

StatusOr<std::optional<TokenEntry>> TokenStore::LookupByHash(std::string_view id_hash) const {
  ASSIGN_OR_RETURN(auto entry, LookupSharedByHash(id_hash));
  if (!entry) return std::optional<TokenEntry>();
  return std::optional<TokenEntry>(*entry);
}

StatusOr<std::optional<TokenEntry>> TokenStore::LookupByAccessor(std::string_view accessor) const {
  if (accessor.empty()) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(std::string accessor_hash, Hash(accessor));
  ASSIGN_OR_RETURN(auto raw, view_->Get(kAccessorPrefix + accessor_hash));
  if (!raw) return std::optional<TokenEntry>();
  AccessorIndex index = ParseAccessorIndex(*raw);
  ASSIGN_OR_RETURN(auto entry, LookupByHash(index.id_hash));
  if (entry && entry->accessor != accessor) return std::optional<TokenEntry>();
  return entry;
}

Status TokenStore::Revoke(std::string_view token) {
  if (token.empty()) return OkStatus();
  ASSIGN_OR_RETURN(std::string id_hash, Hash(token));
  return RevokeTree(id_hash);
}

Status TokenStore::MarkRevocationPending(const std::string& id_hash) {
  auto read = ReadEntry(id_hash);
  if (!read.ok()) return read.status().code() == StatusCode::kDataLoss ? OkStatus() : read.status();
  std::optional<TokenEntry>& entry = *read;
  if (!entry || entry->num_uses == -1) return OkStatus();
  entry->num_uses = -1;
  return WriteEntry(*entry);
}

StatusOr<std::optional<TokenEntry>> TokenStore::DeleteToken(const std::string& id_hash,
                                                            const std::string& stack_parent) {
  // A corrupt entry is deleted all the same (its accessor index is left for Tidy()).
  auto read = ReadEntry(id_hash);
  if (!read.ok() && read.status().code() != StatusCode::kDataLoss) return read.status();
  std::optional<TokenEntry> entry = read.ok() ? std::move(*read) : std::nullopt;
  std::vector<TxnOp> ops = {{TxnOp::Kind::kDelete, kIdPrefix + id_hash, ""}};
  if (!stack_parent.empty()) {
    ops.push_back({TxnOp::Kind::kDelete, kParentPrefix + stack_parent + "/" + id_hash, ""});
  }
  if (entry) {
    if (!entry->accessor.empty()) {
      ASSIGN_OR_RETURN(std::string accessor_hash, Hash(entry->accessor));
      ops.push_back({TxnOp::Kind::kDelete, kAccessorPrefix + accessor_hash, ""});
    }
    if (!entry->parent_hash.empty() && entry->parent_hash != stack_parent) {
      ops.push_back({TxnOp::Kind::kDelete, kParentPrefix + entry->parent_hash + "/" + id_hash, ""});
    }
  }
  Status deleted = view_->Transaction(ops);
  InvalidateCached(id_hash);
  RETURN_IF_ERROR(deleted);
  return entry;
}

StatusOr<int64_t> TokenStore::RevokeTreeCounted(const std::string& root) {
  if (root.empty()) return int64_t{0};
  // Depth-first without recursion: a node is deleted only once it has no children left, so a
  // failure part-way never strands a subtree without its ancestor (a retry finishes the job).
  struct Frame {
    std::string id_hash;
    std::string parent;  // the node that put it on the stack ("" for the root)
  };
  std::vector<Frame> stack = {{root, ""}};
  std::unordered_set<std::string> seen;
  int64_t revoked = 0;
  while (!stack.empty()) {
    Frame frame = stack.back();
    bool first_visit = seen.insert(frame.id_hash).second;
    std::vector<std::string> children;
    std::optional<TokenEntry> removed;
    {
      std::lock_guard lock(StripeFor(frame.id_hash));
      // Marked "revocation pending" on the first visit: invisible to lookups from now on, and
      // refused as a parent, so no child can be added while the subtree is being walked.
      if (first_visit) RETURN_IF_ERROR(MarkRevocationPending(frame.id_hash));
      std::string prefix = kParentPrefix + frame.id_hash + "/";
      ASSIGN_OR_RETURN(std::vector<std::string> listed, view_->List(prefix));
      for (std::string& child : listed) {
        child = WithoutSlash(std::move(child));
        if (seen.count(child) > 0) {
          // A parent/child cycle: drop the index entry instead of walking it forever.
          RETURN_IF_ERROR(view_->Delete(prefix + child));
          continue;
        }
        children.push_back(std::move(child));
      }
      if (children.empty()) {
        ASSIGN_OR_RETURN(removed, DeleteToken(frame.id_hash, frame.parent));
      }
    }
    if (!children.empty()) {
      for (std::string& child : children) stack.push_back({std::move(child), frame.id_hash});
      continue;
    }
    stack.pop_back();
    ForgetExpiry(frame.id_hash);
    if (removed) {
      ++revoked;
      NotifyRevoked(*removed);
    }
  }
  return revoked;
}

Status TokenStore::RevokeTree(std::string_view id_hash) {
  ASSIGN_OR_RETURN(int64_t revoked, RevokeTreeCounted(std::string(id_hash)));
  (void)revoked;
  return OkStatus();
}

Status TokenStore::OrphanChild(const std::string& parent_hash, const std::string& child_hash) {
  std::lock_guard lock(StripeFor(child_hash));
  ASSIGN_OR_RETURN(auto child, ReadEntry(child_hash));
  std::vector<TxnOp> ops = {{TxnOp::Kind::kDelete, kParentPrefix + parent_hash + "/" + child_hash, ""}};
  if (child && child->parent_hash == parent_hash) {
    child->parent_hash.clear();
    ops.push_back({TxnOp::Kind::kPut, kIdPrefix + child_hash, Serialize(ToJson(*child))});
  }
  Status written = view_->Transaction(ops);
  InvalidateCached(child_hash);
  return written;
}

Status TokenStore::RevokeOrphan(std::string_view id_hash_view) {
  std::string id_hash(id_hash_view);
  if (id_hash.empty()) return OkStatus();
  // The token is marked revocation pending (unusable, no new children), its children are
  // orphaned, and it is deleted last, so a failure part-way leaves it in place and a retry
  // completes the job.
  for (int round = 0; round < kMaxOrphanRounds; ++round) {
    std::vector<std::string> children;
    std::optional<TokenEntry> removed;
    {
      std::lock_guard lock(StripeFor(id_hash));
      if (round == 0) RETURN_IF_ERROR(MarkRevocationPending(id_hash));
      ASSIGN_OR_RETURN(children, view_->List(kParentPrefix + id_hash + "/"));
      if (children.empty()) {
        ASSIGN_OR_RETURN(removed, DeleteToken(id_hash, ""));
      }
    }
    if (children.empty()) {
      ForgetExpiry(id_hash);
      if (removed) NotifyRevoked(*removed);
      return OkStatus();
    }
    for (std::string& child : children) RETURN_IF_ERROR(OrphanChild(id_hash, WithoutSlash(std::move(child))));
  }
  return Unavailable("revoke-orphan: child tokens kept appearing; try again");
}

StatusOr<RenewResult> TokenStore::Renew(const TokenEntry& entry, int64_t increment, const LeaseLimits& limits) {
  std::lock_guard lock(StripeFor(entry.id_hash));
  ASSIGN_OR_RETURN(auto current, ReadEntry(entry.id_hash));  // uncached: authoritative for the write
  int64_t now = Now();
  if (!current || current->num_uses < 0 || current->ExpiredAt(now)) return InvalidArgument("token not found");
  if (!current->has_lease) return InvalidArgument("invalid lease ID");
  if (current->expire_time == 0 || !current->renewable) return InvalidArgument("lease is not renewable");
  ASSIGN_OR_RETURN(TtlResult ttl, CalculateTtl(limits, increment, current->lease_ttl, current->period,
                                               current->explicit_max_ttl, current->creation_time, now));
  current->expire_time = now + ttl.ttl;
  current->lease_ttl = ttl.ttl;
  current->last_renewal_time = now;
  RETURN_IF_ERROR(WriteEntry(*current));
  TrackExpiry(current->id_hash, current->expire_time);
  return RenewResult{std::move(*current), ttl.ttl, std::move(ttl.warnings)};
}

StatusOr<bool> TokenStore::UseToken(const TokenEntry& entry) {
  // Uses only ever count down, so an unlimited token needs no lock and no read.
  if (entry.num_uses == 0) return false;
  std::lock_guard lock(StripeFor(entry.id_hash));
  ASSIGN_OR_RETURN(auto current, ReadEntry(entry.id_hash));
  if (!current || current->num_uses < 0 || current->ExpiredAt(Now())) return PermissionDenied();
  if (current->num_uses == 0) return false;
  bool used_up = current->num_uses == 1;
  current->num_uses = used_up ? -1 : current->num_uses - 1;
  RETURN_IF_ERROR(WriteEntry(*current));
  return used_up;
}

StatusOr<std::vector<std::string>> TokenStore::ListAccessors() const {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, view_->List(kAccessorPrefix));
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    ASSIGN_OR_RETURN(auto raw, view_->Get(kAccessorPrefix + key));
    if (!raw) continue;
    AccessorIndex index = ParseAccessorIndex(*raw);
    if (index.id_hash.empty() || index.accessor.empty()) continue;
    out.push_back(std::move(index.accessor));
  }
  return out;
}

StatusOr<TidyCounts> TokenStore::Tidy() {
  TidyCounts counts;
  int64_t now = Now();

  // 1. Expired tokens, and tokens stuck revocation pending (a revocation cut short by a crash,
  //    or a used-up token the core did not revoke), found by a full scan.
  ASSIGN_OR_RETURN(std::vector<std::string> ids, view_->List(kIdPrefix));
  for (const std::string& id : ids) {
    auto entry = ReadEntry(id);
    if (!entry.ok()) {
      ++counts.errors;
      continue;
    }
    if (!*entry || (!(*entry)->ExpiredAt(now) && (*entry)->num_uses >= 0)) continue;
    auto revoked = RevokeTreeCounted(id);
    if (!revoked.ok()) {
      ++counts.errors;
      continue;
    }
    counts.tokens_revoked += *revoked;
  }

  // 2. The parent index: children of a vanished parent become orphans; entries naming a
  //    vanished child, or a child that names another parent, are dropped.
  ASSIGN_OR_RETURN(std::vector<std::string> parents, view_->List(kParentPrefix));
  for (const std::string& parent_key : parents) {
    std::string parent = WithoutSlash(parent_key);
    auto children = view_->List(kParentPrefix + parent + "/");
    auto parent_entry = ReadEntry(parent);
    if (!children.ok() || !parent_entry.ok()) {
      ++counts.errors;
      continue;
    }
    bool parent_exists = parent_entry->has_value();
    for (const std::string& child_key : *children) {
      std::string child = WithoutSlash(child_key);
      auto child_entry = ReadEntry(child);
      if (!child_entry.ok()) {
        ++counts.errors;
        continue;
      }
      if (*child_entry && !parent_exists && (*child_entry)->parent_hash == parent) {
        ++(OrphanChild(parent, child).ok() ? counts.orphaned_children : counts.errors);
        continue;
      }
      if (!*child_entry || !parent_exists || (*child_entry)->parent_hash != parent) {
        ++(view_->Delete(kParentPrefix + parent + "/" + child).ok() ? counts.parent_entries_deleted : counts.errors);
      }
    }
  }

  // 3. Accessor index entries whose token is gone.
  ASSIGN_OR_RETURN(std::vector<std::string> accessors, view_->List(kAccessorPrefix));
  for (const std::string& key : accessors) {
    auto raw = view_->Get(kAccessorPrefix + key);
    if (!raw.ok()) {
      ++counts.errors;
      continue;
    }
    if (!*raw) continue;
    AccessorIndex index = ParseAccessorIndex(**raw);
    bool dangling = index.id_hash.empty();
    if (!dangling) {
      auto entry = ReadEntry(index.id_hash);
      if (!entry.ok()) {
        ++counts.errors;
        continue;
      }
      dangling = !entry->has_value();
    }
    if (!dangling) continue;
    ++(view_->Delete(kAccessorPrefix + key).ok() ? counts.accessors_deleted : counts.errors);
  }
  return counts;
}

StatusOr<int64_t> TokenStore::PurgeExpired() {
  int64_t now = Now();
  std::vector<std::string> due;
  {
    std::lock_guard lock(expiry_mu_);
    for (auto it = expiry_queue_.begin(); it != expiry_queue_.end() && it->first <= now; ++it) {
      due.push_back(it->second);
    }
  }
  int64_t revoked = 0;
  Status first_error;
  for (const std::string& id_hash : due) {
    auto entry = ReadEntry(id_hash);
    if (!entry.ok()) {
      if (first_error.ok()) first_error = entry.status();
      continue;
    }
    if (!*entry) {
      ForgetExpiry(id_hash);
      continue;
    }
    // Renewed in the meantime: the renewal moved its place in the queue already.
    if (!(*entry)->ExpiredAt(now)) continue;
    auto count = RevokeTreeCounted(id_hash);
    if (!count.ok()) {
      if (first_error.ok()) first_error = count.status();
      continue;
    }
    revoked += *count;
  }
  if (!first_error.ok()) return first_error;
  return revoked;
}

std::optional<int64_t> TokenStore::NextExpiry() const {
  std::lock_guard lock(expiry_mu_);
  if (expiry_queue_.empty()) return std::nullopt;
  return expiry_queue_.begin()->first;
}

}  // namespace coffer::core
