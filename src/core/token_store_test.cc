#include "core/token_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "logical/inmem_storage.h"

namespace coffer::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr int64_t kStart = 1'700'000'000;

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.SetClock([this] { return now_.load(); });
    store_.SetOnRevoke([this](const TokenEntry& e) {
      std::lock_guard lock(revoked_mu_);
      revoked_.push_back(e.accessor);
    });
    ASSERT_TRUE(store_.Setup().ok());
    auto root = store_.CreateRootToken("");
    ASSERT_TRUE(root.ok()) << root.status().message();
    root_token_ = root->first;
    root_ = root->second;
  }

  // Creates a token (child of `parent` unless null) and returns it.
  CreatedToken Make(const TokenEntry* parent, TokenCreateParams params = {}) {
    if (params.policies.empty()) params.policies = {"default"};
    auto created = store_.Create(params, parent);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : CreatedToken{};
  }

  CreatedToken MakeWithTtl(const TokenEntry* parent, int64_t ttl) {
    TokenCreateParams params;
    params.ttl = ttl;
    return Make(parent, params);
  }

  bool Alive(const std::string& token) {
    auto entry = store_.Lookup(token);
    EXPECT_TRUE(entry.ok()) << entry.status().message();
    return entry.ok() && entry->has_value();
  }

  std::vector<std::string> KeysUnder(const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& k : mem_.Keys())
      if (k.rfind(prefix, 0) == 0) out.push_back(k);
    return out;
  }

  std::vector<std::string> Revoked() {
    std::lock_guard lock(revoked_mu_);
    return revoked_;
  }

  logical::InmemStorage mem_;
  logical::StorageView view_{&mem_, "sys/token/"};
  TokenStore store_{&view_};
  std::atomic<int64_t> now_{kStart};
  std::string root_token_;
  TokenEntry root_;
  std::mutex revoked_mu_;
  std::vector<std::string> revoked_;
};

TEST_F(TokenStoreTest, TokensAreHvsPlus24Base62) {
  CreatedToken t = Make(&root_);
  ASSERT_EQ(t.token.size(), 28u);
  EXPECT_EQ(t.token.substr(0, 4), "hvs.");
  EXPECT_EQ(t.token.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 4),
            std::string::npos);
  EXPECT_EQ(t.entry.accessor.size(), 24u);
  EXPECT_NE(Make(&root_).token, t.token);
}

TEST_F(TokenStoreTest, StorageHoldsOnlySaltedHashesNeverTheToken) {
  TokenCreateParams custom;
  custom.id = "my-custom-token-value";
  custom.policies = {"web"};
  CreatedToken a = Make(&root_);
  CreatedToken b = Make(&root_, custom);
  EXPECT_EQ(b.token, "my-custom-token-value");
  for (const std::string& secret : {a.token, a.token.substr(4), b.token, root_token_, root_token_.substr(4)}) {
    for (const auto& key : mem_.Keys()) {
      EXPECT_EQ(key.find(secret), std::string::npos) << key;
      auto value = mem_.Get(key);
      ASSERT_TRUE(value.ok() && value->has_value());
      EXPECT_EQ((*value)->find(secret), std::string::npos) << key;
    }
  }
  // The entry lives under id/<hash>; the hash is not a plain SHA-256 of the token (salted).
  auto hash = store_.HashToken(a.token);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->size(), 64u);
  EXPECT_EQ(*hash, a.entry.id_hash);
  EXPECT_THAT(KeysUnder("sys/token/id/"), ::testing::Contains("sys/token/id/" + *hash));

  auto found = store_.Lookup(a.token);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->accessor, a.entry.accessor);
  EXPECT_EQ((*found)->parent_hash, root_.id_hash);
  auto by_hash = store_.LookupByHash(a.entry.id_hash);
  ASSERT_TRUE(by_hash.ok() && by_hash->has_value());
  EXPECT_EQ((*by_hash)->accessor, a.entry.accessor);
  EXPECT_FALSE(*store_.Lookup("hvs.notarealtokenatall00000"));
  EXPECT_FALSE(*store_.Lookup(""));
}

TEST_F(TokenStoreTest, AccessorIndexFindsTheTokenAndListsAccessors) {
  CreatedToken a = Make(&root_);
  auto found = store_.LookupByAccessor(a.entry.accessor);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id_hash, a.entry.id_hash);
  EXPECT_FALSE(*store_.LookupByAccessor("nosuchaccessor"));
  EXPECT_FALSE(*store_.LookupByAccessor(""));

  auto accessors = store_.ListAccessors();
  ASSERT_TRUE(accessors.ok());
  EXPECT_THAT(*accessors, UnorderedElementsAre(root_.accessor, a.entry.accessor));

  // The index value names the token by hash only.
  auto keys = KeysUnder("sys/token/accessor/");
  ASSERT_EQ(keys.size(), 2u);
  for (const auto& key : keys) {
    auto raw = mem_.Get(key);
    auto j = nlohmann::json::parse(**raw);
    EXPECT_TRUE(j.contains("id_hash") && j.contains("accessor")) << j.dump();
  }
}

TEST_F(TokenStoreTest, ReadsTheOlderBareHashAccessorIndex) {
  CreatedToken a = Make(nullptr);
  for (const auto& key : KeysUnder("sys/token/accessor/")) {
    auto raw = nlohmann::json::parse(**mem_.Get(key));
    if (raw["accessor"] == a.entry.accessor) {
      ASSERT_TRUE(mem_.Put(key, raw["id_hash"].get<std::string>()).ok());
    }
  }
  auto found = store_.LookupByAccessor(a.entry.accessor);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id_hash, a.entry.id_hash);
}

TEST_F(TokenStoreTest, RevokeTreeRemovesThreeLevelsAndLeavesSiblingsAndOrphans) {
  CreatedToken a = Make(&root_);
  CreatedToken b = Make(&a.entry);
  CreatedToken c = Make(&b.entry);
  CreatedToken sibling = Make(&root_);
  CreatedToken orphan = Make(nullptr);
  CreatedToken b2 = Make(&a.entry);
  EXPECT_EQ(KeysUnder("sys/token/parent/" + a.entry.id_hash + "/").size(), 2u);

  ASSERT_TRUE(store_.RevokeTree(a.entry.id_hash).ok());
  EXPECT_FALSE(Alive(a.token));
  EXPECT_FALSE(Alive(b.token));
  EXPECT_FALSE(Alive(b2.token));
  EXPECT_FALSE(Alive(c.token));
  EXPECT_TRUE(Alive(sibling.token));
  EXPECT_TRUE(Alive(orphan.token));
  EXPECT_TRUE(Alive(root_token_));
  // Children go before their parents; every index entry goes with its token.
  std::vector<std::string> revoked = Revoked();
  ASSERT_EQ(revoked.size(), 4u);
  EXPECT_EQ(revoked.back(), a.entry.accessor);
  EXPECT_LT(std::find(revoked.begin(), revoked.end(), c.entry.accessor) - revoked.begin(),
            std::find(revoked.begin(), revoked.end(), b.entry.accessor) - revoked.begin());
  EXPECT_TRUE(KeysUnder("sys/token/parent/" + a.entry.id_hash).empty());
  EXPECT_TRUE(KeysUnder("sys/token/parent/" + b.entry.id_hash).empty());
  EXPECT_EQ(KeysUnder("sys/token/parent/").size(), 1u);  // root → sibling
  EXPECT_FALSE(*store_.LookupByAccessor(c.entry.accessor));
  EXPECT_EQ(KeysUnder("sys/token/accessor/").size(), 3u);  // root, sibling, orphan
  EXPECT_EQ(KeysUnder("sys/token/id/").size(), 3u);

  // Revoking the root takes the sibling but not the orphan.
  ASSERT_TRUE(store_.Revoke(root_token_).ok());
  EXPECT_FALSE(Alive(sibling.token));
  EXPECT_TRUE(Alive(orphan.token));
  // Unknown tokens revoke fine.
  EXPECT_TRUE(store_.Revoke("hvs.unknown").ok());
  EXPECT_TRUE(store_.RevokeTree("00ff").ok());
}

TEST_F(TokenStoreTest, RevokeTreeSurvivesAParentCycleInStorage) {
  CreatedToken a = Make(&root_);
  CreatedToken b = Make(&a.entry);
  // A corrupt index making b the parent of a must not make the walk loop forever.
  ASSERT_TRUE(mem_.Put("sys/token/parent/" + b.entry.id_hash + "/" + a.entry.id_hash, "").ok());
  ASSERT_TRUE(store_.RevokeTree(a.entry.id_hash).ok());
  EXPECT_FALSE(Alive(a.token));
  EXPECT_FALSE(Alive(b.token));
  EXPECT_TRUE(KeysUnder("sys/token/parent/" + a.entry.id_hash).empty());
  EXPECT_TRUE(KeysUnder("sys/token/parent/" + b.entry.id_hash).empty());
}

TEST_F(TokenStoreTest, RevokeOrphanKeepsTheChildrenAsOrphans) {
  CreatedToken a = Make(&root_);
  CreatedToken c1 = Make(&a.entry);
  CreatedToken c2 = Make(&a.entry);
  CreatedToken grandchild = Make(&c1.entry);

  ASSERT_TRUE(store_.RevokeOrphan(a.entry.id_hash).ok());
  EXPECT_FALSE(Alive(a.token));
  EXPECT_THAT(Revoked(), ElementsAre(a.entry.accessor));
  for (const auto* t : {&c1, &c2}) {
    auto entry = store_.Lookup(t->token);
    ASSERT_TRUE(entry.ok() && entry->has_value());
    EXPECT_TRUE((*entry)->Orphan());
  }
  EXPECT_TRUE(KeysUnder("sys/token/parent/" + a.entry.id_hash).empty());
  // The grandchild keeps its parent.
  auto g = store_.Lookup(grandchild.token);
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->parent_hash, c1.entry.id_hash);

  // Revoking the root no longer reaches the new orphans.
  ASSERT_TRUE(store_.RevokeTree(root_.id_hash).ok());
  EXPECT_TRUE(Alive(c1.token));
  EXPECT_TRUE(Alive(c2.token));
  EXPECT_TRUE(Alive(grandchild.token));
}

TEST_F(TokenStoreTest, ExpiredTokensVanishAtOnceAndArePurgedWithTheirChildren) {
  CreatedToken a = MakeWithTtl(&root_, 60);
  CreatedToken child = MakeWithTtl(&a.entry, 3600);
  CreatedToken other = MakeWithTtl(&root_, 3600);
  EXPECT_EQ(a.entry.expire_time, kStart + 60);
  EXPECT_EQ(store_.NextExpiry(), kStart + 60);

  now_ = kStart + 59;
  EXPECT_TRUE(Alive(a.token));
  now_ = kStart + 60;
  EXPECT_FALSE(Alive(a.token));
  EXPECT_FALSE(*store_.LookupByAccessor(a.entry.accessor));
  EXPECT_FALSE(*store_.LookupByHash(a.entry.id_hash));
  EXPECT_TRUE(Alive(child.token));  // until the purge revokes the tree, as in Vault
  // An expired parent cannot get new children.
  auto late = store_.Create(TokenCreateParams{}, &a.entry);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().message(), "parent token not found");

  auto purged = store_.PurgeExpired();
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_EQ(*purged, 2);
  EXPECT_FALSE(Alive(child.token));
  EXPECT_TRUE(Alive(other.token));
  EXPECT_EQ(KeysUnder("sys/token/id/").size(), 2u);  // root and other
  EXPECT_THAT(Revoked(), UnorderedElementsAre(a.entry.accessor, child.entry.accessor));
  EXPECT_EQ(store_.NextExpiry(), kStart + 3600);
  EXPECT_EQ(*store_.PurgeExpired(), 0);
}

TEST_F(TokenStoreTest, SetupRebuildsTheExpiryIndexAndResetForgetsTheSalt) {
  CreatedToken a = MakeWithTtl(&root_, 100);
  store_.Reset();
  EXPECT_EQ(store_.Lookup(a.token).status().code(), StatusCode::kSealed);
  EXPECT_FALSE(store_.NextExpiry().has_value());

  TokenStore again(&view_);
  again.SetClock([this] { return now_.load(); });
  ASSERT_TRUE(again.Setup().ok());
  EXPECT_EQ(again.NextExpiry(), kStart + 100);
  auto found = again.Lookup(a.token);  // same salt: same hash
  ASSERT_TRUE(found.ok() && found->has_value());
  now_ = kStart + 100;
  EXPECT_EQ(*again.PurgeExpired(), 1);
}

TEST_F(TokenStoreTest, UseTokenCountsDownAndReportsTheLastUse) {
  TokenCreateParams params;
  params.num_uses = 3;
  CreatedToken t = Make(&root_, params);
  EXPECT_EQ(*store_.UseToken(t.entry), false);
  EXPECT_EQ((*store_.Lookup(t.token))->num_uses, 2);
  EXPECT_EQ(*store_.UseToken(t.entry), false);
  EXPECT_EQ(*store_.UseToken(t.entry), true);
  // On its final use the token is already invisible; a further use is refused.
  EXPECT_FALSE(Alive(t.token));
  EXPECT_EQ(store_.UseToken(t.entry).status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(store_.RevokeTree(t.entry.id_hash).ok());
  EXPECT_TRUE(KeysUnder("sys/token/id/" + t.entry.id_hash).empty());

  // Unlimited tokens are never written.
  CreatedToken unlimited = Make(&root_);
  auto before = mem_.Get("sys/token/id/" + unlimited.entry.id_hash);
  EXPECT_EQ(*store_.UseToken(unlimited.entry), false);
  EXPECT_EQ(*mem_.Get("sys/token/id/" + unlimited.entry.id_hash), *before);
}

TEST_F(TokenStoreTest, ConcurrentUsesNeverExceedTheLimit) {
  TokenCreateParams params;
  params.num_uses = 50;
  CreatedToken t = Make(&root_, params);
  std::atomic<int> granted{0}, last{0}, denied{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10; ++k) {
        auto r = store_.UseToken(t.entry);
        if (!r.ok()) {
          ++denied;
          continue;
        }
        ++granted;
        if (*r) ++last;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 50);
  EXPECT_EQ(last.load(), 1);
  EXPECT_EQ(denied.load(), 30);
}

TEST(CalculateTtlTest, FollowsVaultsRules) {
  LeaseLimits limits{3600, 7200};
  // Default, then backend TTL, then increment.
  EXPECT_EQ(CalculateTtl(limits, 0, 0, 0, 0, 100, 100)->ttl, 3600);
  EXPECT_EQ(CalculateTtl(limits, 0, 60, 0, 0, 100, 100)->ttl, 60);
  EXPECT_EQ(CalculateTtl(limits, 90, 60, 0, 0, 100, 100)->ttl, 90);
  // Capped by what is left of the system max since the start.
  auto capped = CalculateTtl(limits, 3600, 0, 0, 0, 100, 100 + 7000);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->ttl, 200);
  EXPECT_THAT(capped->warnings, ElementsAre("TTL of \"1h0m0s\" exceeded the effective max_ttl of \"3m20s\"; TTL "
                                            "value is capped accordingly"));
  // Explicit max below the system max wins.
  EXPECT_EQ(CalculateTtl(limits, 3600, 0, 0, 1000, 100, 600)->ttl, 500);
  // Periodic: the period, whatever the increment, capped by the max TTL.
  EXPECT_EQ(CalculateTtl(limits, 99999, 0, 600, 0, 100, 100 + 100000)->ttl, 600);
  auto period_capped = CalculateTtl(limits, 0, 0, 10000, 0, 100, 100);
  EXPECT_EQ(period_capped->ttl, 7200);
  EXPECT_THAT(period_capped->warnings,
              ElementsAre("period of \"2h46m40s\" exceeded the effective max_ttl of \"2h0m0s\"; period value is "
                          "capped accordingly"));
  // Periodic with an explicit max stops at start + explicit max.
  EXPECT_EQ(CalculateTtl(limits, 0, 0, 600, 1000, 100, 800)->ttl, 300);
  auto past = CalculateTtl(limits, 0, 0, 0, 0, 100, 100 + 7201);
  EXPECT_EQ(past.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(past.status().message(), "past the max TTL, cannot renew");
}

TEST_F(TokenStoreTest, RenewFollowsTtlRulesAndRefusesWhatVaultRefuses) {
  LeaseLimits limits{3600, 10000};
  CreatedToken t = MakeWithTtl(&root_, 3600);
  now_ = kStart + 1000;
  auto renewed = store_.Renew(t.entry, 0, limits);
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_EQ(renewed->ttl, 3600);  // the last granted TTL
  EXPECT_EQ(renewed->entry.expire_time, kStart + 4600);
  EXPECT_EQ(renewed->entry.last_renewal_time, kStart + 1000);
  EXPECT_EQ(renewed->entry.ttl, 3600);  // creation_ttl stays
  now_ = kStart + 4000;
  EXPECT_TRUE(Alive(t.token));  // alive past its original expiry
  // Capped by the system max counted from creation.
  EXPECT_EQ(store_.Renew(t.entry, 3600, limits)->ttl, 3600);
  now_ = kStart + 7500;
  renewed = store_.Renew(t.entry, 3600, limits);
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->ttl, 2500);
  EXPECT_EQ(renewed->warnings.size(), 1u);

  // explicit_max_ttl.
  now_ = kStart;
  TokenCreateParams bounded;
  bounded.ttl = 600;
  bounded.explicit_max_ttl = 1000;
  CreatedToken e = Make(&root_, bounded);
  now_ = kStart + 500;
  EXPECT_EQ(store_.Renew(e.entry, 3600, limits)->ttl, 500);

  // Periodic tokens renew to their period, forever.
  now_ = kStart;
  TokenCreateParams periodic;
  periodic.ttl = 300;
  periodic.period = 300;
  CreatedToken p = Make(&root_, periodic);
  for (int64_t at = kStart + 250; at < kStart + 20 * limits.max_ttl; at += 250) {  // far past max_ttl
    now_ = at;
    auto r = store_.Renew(p.entry, 86400, limits);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->ttl, 300);
    EXPECT_EQ(r->entry.expire_time, at + 300);
  }

  // Refusals.
  now_ = kStart;
  TokenCreateParams fixed;
  fixed.ttl = 600;
  fixed.renewable = false;
  CreatedToken n = Make(&root_, fixed);
  EXPECT_EQ(store_.Renew(n.entry, 0, limits).status().message(), "lease is not renewable");
  EXPECT_EQ(store_.Renew(root_, 0, limits).status().message(), "invalid lease ID");
  TokenCreateParams root_child;
  root_child.policies = {"root"};
  CreatedToken rc = Make(&root_, root_child);
  EXPECT_EQ(store_.Renew(rc.entry, 0, limits).status().message(), "lease is not renewable");
  now_ = kStart + 601;
  auto expired = store_.Renew(n.entry, 0, limits);
  EXPECT_EQ(expired.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(expired.status().message(), "token not found");
}

TEST_F(TokenStoreTest, CustomIdsFollowVaultsRules) {
  for (const char* bad : {"hvs.abc", "s.abc", "a.b"}) {
    TokenCreateParams params;
    params.id = bad;
    auto r = store_.Create(params, &root_);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().find(bad), std::string::npos) << "the id must not be echoed";
  }
  TokenCreateParams params;
  params.id = "custom";
  ASSERT_TRUE(store_.Create(params, &root_).ok());
  auto dup = store_.Create(params, &root_);
  EXPECT_EQ(dup.status().message(), "cannot create a token with a duplicate ID");
  // Dev mode: the root token may have any id, but only once.
  auto dev = store_.CreateRootToken("root");
  ASSERT_TRUE(dev.ok());
  EXPECT_TRUE(Alive("root"));
  EXPECT_FALSE(dev->second.has_lease);
  EXPECT_FALSE(store_.CreateRootToken("root").ok());
}

TEST_F(TokenStoreTest, ARevokedParentCannotGetChildren) {
  CreatedToken a = Make(&root_);
  ASSERT_TRUE(store_.RevokeTree(a.entry.id_hash).ok());
  auto child = store_.Create(TokenCreateParams{}, &a.entry);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().message(), "parent token not found");
  EXPECT_TRUE(KeysUnder("sys/token/parent/" + a.entry.id_hash).empty());
}

TEST_F(TokenStoreTest, ChildrenCreatedDuringARevocationNeverOutliveIt) {
  for (int round = 0; round < 20; ++round) {
    CreatedToken parent = Make(&root_);
    std::atomic<bool> stop{false};
    std::mutex made_mu;
    std::vector<std::string> made;
    std::vector<std::thread> creators;
    for (int i = 0; i < 3; ++i) {
      creators.emplace_back([&] {
        while (!stop) {
          auto child = store_.Create(TokenCreateParams{}, &parent.entry);
          if (!child.ok()) {
            EXPECT_EQ(child.status().message(), "parent token not found");
            return;
          }
          std::lock_guard lock(made_mu);
          made.push_back(child->token);
        }
      });
    }
    while (true) {  // let some children appear first
      {
        std::lock_guard lock(made_mu);
        if (made.size() >= 5) break;
      }
      std::this_thread::yield();
    }
    ASSERT_TRUE(store_.RevokeTree(parent.entry.id_hash).ok());
    stop = true;
    for (auto& t : creators) t.join();
    for (const auto& token : made) EXPECT_FALSE(Alive(token));
    EXPECT_TRUE(KeysUnder("sys/token/parent/" + parent.entry.id_hash).empty());
  }
}

TEST_F(TokenStoreTest, TidyRepairsIndexesAndRevokesExpiredTokens) {
  CreatedToken a = Make(&root_);
  CreatedToken child_of_ghost = Make(&a.entry);
  CreatedToken expiring = MakeWithTtl(&root_, 10);
  TokenCreateParams once;
  once.num_uses = 1;
  CreatedToken used_up = Make(&root_, once);
  ASSERT_TRUE(*store_.UseToken(used_up.entry));  // and the core never revoked it
  // A parent that vanished without orphaning its child (e.g. a crash mid revoke-orphan).
  ASSERT_TRUE(mem_.Delete("sys/token/id/" + a.entry.id_hash).ok());
  // An index entry naming a child that no longer exists.
  ASSERT_TRUE(mem_.Put("sys/token/parent/" + root_.id_hash + "/" + std::string(64, 'a'), "").ok());
  // An accessor pointing nowhere, and one without a token.
  ASSERT_TRUE(mem_.Put("sys/token/accessor/" + std::string(64, 'b'),
                       nlohmann::json{{"id_hash", std::string(64, 'c')}, {"accessor", "ghost"}}.dump())
                  .ok());
  ASSERT_TRUE(mem_.Put("sys/token/accessor/" + std::string(64, 'd'), "{}").ok());
  now_ = kStart + 10;

  auto counts = store_.Tidy();
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(counts->tokens_revoked, 2);
  EXPECT_EQ(counts->orphaned_children, 1);
  EXPECT_EQ(counts->parent_entries_deleted, 2);  // root → a (gone) and root → aaa…
  EXPECT_EQ(counts->accessors_deleted, 3);       // ghost, empty, and the vanished parent's
  EXPECT_EQ(counts->errors, 0);

  auto orphan = store_.Lookup(child_of_ghost.token);
  ASSERT_TRUE(orphan.ok() && orphan->has_value());
  EXPECT_TRUE((*orphan)->Orphan());
  EXPECT_FALSE(Alive(expiring.token));
  EXPECT_TRUE(KeysUnder("sys/token/id/" + used_up.entry.id_hash).empty());
  EXPECT_TRUE(Alive(root_token_));
  EXPECT_TRUE(KeysUnder("sys/token/parent/").empty());
  EXPECT_EQ(KeysUnder("sys/token/accessor/").size(), 2u);  // root and the orphan
  // A second pass finds nothing to do.
  auto again = store_.Tidy();
  EXPECT_EQ(again->accessors_deleted + again->parent_entries_deleted + again->orphaned_children + again->tokens_revoked,
            0);
}

// --- The decoded-entry cache: every change to a token is visible to the very next lookup.

// Looks the token up twice, so the second answer comes from the cache.
void Warm(TokenStore& store, const std::string& token) {
  for (int i = 0; i < 2; ++i) {
    auto e = store.LookupShared(token);
    ASSERT_TRUE(e.ok() && *e != nullptr);
  }
}

TEST_F(TokenStoreTest, CachedEntryIsSharedAndMatchesStorage) {
  CreatedToken t = Make(&root_);
  auto a = store_.LookupShared(t.token);
  auto b = store_.LookupShared(t.token);
  ASSERT_TRUE(a.ok() && b.ok() && *a && *b);
  EXPECT_EQ(a->get(), b->get());  // the second lookup did not decode again
  EXPECT_EQ((*a)->id_hash, t.entry.id_hash);
  EXPECT_EQ((*a)->policies, t.entry.policies);
  EXPECT_EQ(*store_.LookupShared("hvs.doesnotexist000000000000"), nullptr);
}

TEST_F(TokenStoreTest, RevokingACachedTokenStopsItAtOnce) {
  CreatedToken parent = Make(&root_);
  CreatedToken child = Make(&parent.entry);
  Warm(store_, parent.token);
  Warm(store_, child.token);
  ASSERT_TRUE(store_.Revoke(parent.token).ok());
  EXPECT_EQ(*store_.LookupShared(parent.token), nullptr);
  EXPECT_EQ(*store_.LookupShared(child.token), nullptr);
  EXPECT_FALSE(Alive(parent.token));
  // A revoked (cached) parent cannot get children either.
  EXPECT_FALSE(store_.Create(TokenCreateParams{.policies = {"default"}}, &parent.entry).ok());
}

TEST_F(TokenStoreTest, RevokeOrphanUpdatesCachedChildren) {
  CreatedToken parent = Make(&root_);
  CreatedToken child = Make(&parent.entry);
  Warm(store_, parent.token);
  Warm(store_, child.token);
  ASSERT_TRUE(store_.RevokeOrphan(parent.entry.id_hash).ok());
  EXPECT_EQ(*store_.LookupShared(parent.token), nullptr);
  auto c = store_.LookupShared(child.token);
  ASSERT_TRUE(c.ok() && *c);
  EXPECT_TRUE((*c)->Orphan());
}

TEST_F(TokenStoreTest, CachedNumUsesCountsDownAndTheLastUseHidesTheToken) {
  TokenCreateParams params;
  params.num_uses = 2;
  CreatedToken t = Make(&root_, params);
  Warm(store_, t.token);
  auto e = *store_.LookupShared(t.token);
  EXPECT_EQ(*store_.UseToken(*e), false);
  e = *store_.LookupShared(t.token);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->num_uses, 1);  // not the cached 2
  EXPECT_EQ(*store_.UseToken(*e), true);
  EXPECT_EQ(*store_.LookupShared(t.token), nullptr);
  // Durable: storage holds the pending mark, not just the cache.
  auto stored = nlohmann::json::parse(**mem_.Get("sys/token/id/" + t.entry.id_hash));
  EXPECT_EQ(stored["num_uses"], -1);
  ASSERT_TRUE(store_.RevokeTree(t.entry.id_hash).ok());
  EXPECT_EQ(*store_.LookupShared(t.token), nullptr);
}

TEST_F(TokenStoreTest, RenewalOfACachedTokenAppliesItsNewTtl) {
  LeaseLimits limits{3600, 100000};
  CreatedToken t = MakeWithTtl(&root_, 100);
  Warm(store_, t.token);
  now_ = kStart + 50;
  ASSERT_TRUE(store_.Renew(t.entry, 1000, limits).ok());
  auto e = *store_.LookupShared(t.token);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->expire_time, kStart + 1050);
  now_ = kStart + 500;  // past the cached expiry, within the renewed one
  EXPECT_TRUE(Alive(t.token));
  now_ = kStart + 1050;
  EXPECT_FALSE(Alive(t.token));
  EXPECT_EQ(*store_.LookupShared(t.token), nullptr);
}

TEST_F(TokenStoreTest, ExpiryIsCheckedOnCachedEntries) {
  CreatedToken t = MakeWithTtl(&root_, 10);
  Warm(store_, t.token);
  now_ = kStart + 10;
  EXPECT_EQ(*store_.LookupShared(t.token), nullptr);
}

TEST_F(TokenStoreTest, SealForgetsCachedEntries) {
  CreatedToken t = Make(&root_);
  Warm(store_, t.token);
  std::shared_ptr<const TokenEntry> before = *store_.LookupShared(t.token);
  store_.Reset();
  EXPECT_EQ(store_.LookupShared(t.token).status().code(), StatusCode::kSealed);
  ASSERT_TRUE(store_.Setup().ok());
  auto after = store_.LookupShared(t.token);
  ASSERT_TRUE(after.ok() && *after);
  EXPECT_NE(after->get(), before.get());  // decoded anew: the seal emptied the cache
}

TEST_F(TokenStoreTest, LookupsRacingARevocationNeverSeeTheTokenAfterIt) {
  for (int round = 0; round < 20; ++round) {
    CreatedToken t = Make(&root_);
    std::atomic<bool> revoked{false}, stop{false};
    std::atomic<int> seen_after{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 3; ++i) {
      readers.emplace_back([&] {
        while (!stop.load()) {
          bool was_revoked = revoked.load();
          auto e = store_.LookupShared(t.token);
          if (was_revoked && e.ok() && *e) ++seen_after;
        }
      });
    }
    std::this_thread::yield();
    ASSERT_TRUE(store_.Revoke(t.token).ok());
    revoked = true;
    for (int i = 0; i < 200; ++i) {
      auto e = store_.LookupShared(t.token);
      if (e.ok() && *e) ++seen_after;
    }
    stop = true;
    for (auto& th : readers) th.join();
    EXPECT_EQ(seen_after.load(), 0) << "round " << round;
  }
}

}  // namespace
}  // namespace coffer::core
