#include "core/identity_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "logical/inmem_storage.h"

namespace coffer::core {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kAccessor[] = "auth_userpass_1a2b3c4d";
constexpr char kOtherAccessor[] = "auth_approle_5e6f7a8b";

logical::Alias AliasNamed(std::string name, std::map<std::string, std::string> metadata = {}) {
  logical::Alias a;
  a.name = std::move(name);
  a.metadata = std::move(metadata);
  return a;
}

// Refuses writes while `fail` is set, like a full disk; reads still work.
class FlakyStorage : public logical::InmemStorage {
 public:
  Status Put(std::string_view key, std::string_view value) override {
    if (fail) return Unavailable("storage: disk full");
    return InmemStorage::Put(key, value);
  }
  Status Transaction(const std::vector<logical::TxnOp>& ops) override {
    if (fail) return Unavailable("storage: disk full");
    return InmemStorage::Transaction(ops);
  }
  std::atomic<bool> fail{false};
};

class IdentityStoreTest : public ::testing::Test {
 protected:
  IdentityStoreTest() : view_(&storage_, "sys/identity/"), store_(&view_) {
    store_.SetClock([this] { return now_.load(); });
    EXPECT_TRUE(store_.Setup().ok());
  }

  std::shared_ptr<const Entity> Login(const std::string& name, std::map<std::string, std::string> metadata = {},
                                      const std::string& accessor = kAccessor) {
    auto e = store_.EntityForLogin(accessor, "userpass", "auth/userpass/", AliasNamed(name, std::move(metadata)));
    EXPECT_TRUE(e.ok()) << e.status().message();
    return e.ok() ? *e : nullptr;
  }

  FlakyStorage storage_;
  logical::StorageView view_;
  IdentityStore store_;
  std::atomic<int64_t> now_{1'700'000'000};
};

TEST_F(IdentityStoreTest, FirstLoginCreatesAnEntityWithItsAlias) {
  uint64_t before = store_.generation();
  auto e = Login("alice", {{"team", "payments"}});
  ASSERT_NE(e, nullptr);
  EXPECT_THAT(e->id, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_THAT(e->name, MatchesRegex("entity_[0-9a-f]{8}"));
  EXPECT_FALSE(e->disabled);
  EXPECT_EQ(e->creation_time, now_.load());
  ASSERT_EQ(e->aliases.size(), 1u);
  const EntityAlias& a = e->aliases[0];
  EXPECT_EQ(a.canonical_id, e->id);
  EXPECT_EQ(a.mount_accessor, kAccessor);
  EXPECT_EQ(a.mount_type, "userpass");
  EXPECT_EQ(a.mount_path, "auth/userpass/");
  EXPECT_EQ(a.name, "alice");
  EXPECT_EQ(a.metadata, (std::map<std::string, std::string>{{"team", "payments"}}));
  EXPECT_NE(a.id, e->id);
  EXPECT_NE(store_.generation(), before);
  EXPECT_THAT(storage_.Keys(), ElementsAre("sys/identity/entity/" + e->id));
  auto got = store_.Get(e->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->get(), e.get());
}

TEST_F(IdentityStoreTest, SecondLoginReusesTheEntityWithoutWriting) {
  auto first = Login("alice", {{"team", "payments"}});
  uint64_t generation = store_.generation();
  storage_.fail = true;  // a reuse must not need storage
  auto second = Login("alice", {{"team", "payments"}});
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second.get(), first.get());
  EXPECT_EQ(store_.generation(), generation);
  // Alias names compare case-insensitively, as in Vault.
  EXPECT_EQ(Login("ALICE", {{"team", "payments"}})->id, first->id);
}

TEST_F(IdentityStoreTest, TheSameNameOnAnotherMountIsAnotherEntity) {
  auto a = Login("alice");
  auto b = Login("alice", {}, kOtherAccessor);
  EXPECT_NE(a->id, b->id);
  EXPECT_NE(a->name, b->name);
}

TEST_F(IdentityStoreTest, ChangedLoginMetadataUpdatesTheAlias) {
  auto first = Login("alice", {{"team", "payments"}});
  uint64_t generation = store_.generation();
  now_ += 60;
  auto second = Login("alice", {{"team", "billing"}});
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->aliases[0].metadata, (std::map<std::string, std::string>{{"team", "billing"}}));
  EXPECT_EQ(second->aliases[0].last_update_time, now_.load());
  EXPECT_EQ(second->aliases[0].creation_time, now_.load() - 60);
  EXPECT_EQ(first->aliases[0].metadata.at("team"), "payments");  // published entities never change
  EXPECT_NE(store_.generation(), generation);
  auto stored = storage_.Get("sys/identity/entity/" + first->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(json::parse(**stored)["aliases"][0]["metadata"], (json{{"team", "billing"}}));
}

TEST_F(IdentityStoreTest, ConcurrentFirstLoginsMakeOneEntity) {
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto e = store_.EntityForLogin(kAccessor, "userpass", "auth/userpass/", AliasNamed("bob"));
      if (e.ok()) ids[i] = (*e)->id;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_FALSE(ids[0].empty());
  EXPECT_EQ(store_.ListEntities().size(), 1u);
  EXPECT_EQ(storage_.Keys().size(), 1u);
}

TEST_F(IdentityStoreTest, ADisabledEntityIsRefused) {
  auto e = Login("alice");
  IdentityStore::EntityWrite w;
  w.id = e->id;
  w.disabled = true;
  ASSERT_TRUE(store_.WriteEntity(w).ok());
  auto refused = store_.EntityForLogin(kAccessor, "userpass", "auth/userpass/", AliasNamed("alice", {{"x", "y"}}));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(), "permission denied");
  w.disabled = false;
  ASSERT_TRUE(store_.WriteEntity(w).ok());
  EXPECT_EQ(Login("alice")->id, e->id);
}

TEST_F(IdentityStoreTest, LoginsWithoutAliasNameOrAccessorAreRefused) {
  EXPECT_EQ(store_.EntityForLogin(kAccessor, "userpass", "auth/userpass/", AliasNamed("")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.EntityForLogin("", "userpass", "auth/userpass/", AliasNamed("a")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.ListEntities().empty());
}

TEST_F(IdentityStoreTest, RemovingAMountsAliasesKeepsTheEntities) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto other = Login("alice", {}, kOtherAccessor);
  IdentityStore::AliasWrite w;
  w.name = "alice-approle";
  w.mount_accessor = kOtherAccessor;
  w.canonical_id = alice->id;
  ASSERT_TRUE(store_.WriteAlias(w).ok());
  uint64_t generation = store_.generation();

  ASSERT_TRUE(store_.RemoveAliasesOfMount(kAccessor).ok());
  EXPECT_NE(store_.generation(), generation);
  auto alice_now = *store_.Get(alice->id);
  ASSERT_NE(alice_now, nullptr);
  ASSERT_EQ(alice_now->aliases.size(), 1u);
  EXPECT_EQ(alice_now->aliases[0].mount_accessor, kOtherAccessor);
  EXPECT_TRUE((*store_.Get(bob->id))->aliases.empty());
  EXPECT_EQ((*store_.Get(other->id))->aliases.size(), 1u);
  EXPECT_FALSE(store_.AliasByFactors(kAccessor, "alice"));
  // A new login on the re-enabled mount gets a new entity: the old alias is gone.
  EXPECT_NE(Login("alice")->id, alice->id);
}

TEST_F(IdentityStoreTest, EverythingSurvivesANewStoreOverTheSameStorage) {
  auto alice = Login("alice", {{"team", "payments"}});
  IdentityStore::EntityWrite w;
  w.id = alice->id;
  w.metadata = std::map<std::string, std::string>{{"tier", "gold"}};
  w.policies = std::vector<std::string>{"dev", "ops", "dev"};
  ASSERT_TRUE(store_.WriteEntity(w).ok());
  IdentityStore::AliasWrite aw;
  aw.name = "svc";
  aw.mount_accessor = kOtherAccessor;
  aw.canonical_id = alice->id;
  aw.custom_metadata = std::map<std::string, std::string>{{"cost", "42"}};
  ASSERT_TRUE(store_.WriteAlias(aw).ok());

  IdentityStore reopened(&view_);
  ASSERT_TRUE(reopened.Setup().ok());
  auto e = *reopened.Get(alice->id);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, alice->name);
  EXPECT_EQ(e->metadata, (std::map<std::string, std::string>{{"tier", "gold"}}));
  EXPECT_THAT(e->policies, ElementsAre("dev", "ops"));
  ASSERT_EQ(e->aliases.size(), 2u);
  EXPECT_EQ(reopened.GetByName(alice->name)->id, alice->id);
  auto ref = reopened.AliasByFactors(kOtherAccessor, "svc");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref.alias->custom_metadata.at("cost"), "42");
  auto again = reopened.EntityForLogin(kAccessor, "userpass", "auth/userpass/", AliasNamed("alice", {{"team", "payments"}}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->id, alice->id);

  reopened.Reset();
  EXPECT_EQ(*reopened.Get(alice->id), nullptr);
  ASSERT_TRUE(reopened.Setup().ok());
  EXPECT_NE(*reopened.Get(alice->id), nullptr);
}

TEST_F(IdentityStoreTest, ACorruptEntryFailsSetupNamingIt) {
  ASSERT_TRUE(storage_.Put("sys/identity/entity/abc", "{not json").ok());
  IdentityStore reopened(&view_);
  Status s = reopened.Setup();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("entity/abc"));
}

TEST_F(IdentityStoreTest, AFailedWriteChangesNothing) {
  auto alice = Login("alice");
  uint64_t generation = store_.generation();
  storage_.fail = true;
  EXPECT_FALSE(store_.EntityForLogin(kAccessor, "userpass", "auth/userpass/", AliasNamed("carol")).ok());
  EXPECT_FALSE(store_.EntityForLogin(kAccessor, "userpass", "auth/userpass/", AliasNamed("alice", {{"a", "b"}})).ok());
  EXPECT_EQ(store_.generation(), generation);
  EXPECT_EQ(store_.ListEntities().size(), 1u);
  EXPECT_TRUE((*store_.Get(alice->id))->aliases[0].metadata.empty());
}

TEST_F(IdentityStoreTest, EntityWritesFollowVault) {
  IdentityStore::EntityWrite create;
  create.name = "web";
  create.policies = std::vector<std::string>{"b", " a ", "b", ""};
  auto created = store_.WriteEntity(create);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->created);
  EXPECT_THAT(created->entity->policies, ElementsAre("a", "b"));

  // The same name again updates that entity (case-insensitively).
  IdentityStore::EntityWrite by_name;
  by_name.name = "WEB";
  by_name.metadata = std::map<std::string, std::string>{{"k", "v"}};
  auto updated = store_.WriteEntity(by_name);
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->created);
  EXPECT_EQ(updated->entity->id, created->entity->id);
  EXPECT_EQ(updated->entity->name, "WEB");
  EXPECT_THAT(updated->entity->policies, ElementsAre("a", "b"));  // unset fields are kept

  IdentityStore::EntityWrite unnamed;
  auto generated = store_.WriteEntity(unnamed);
  ASSERT_TRUE(generated.ok());
  EXPECT_THAT(generated->entity->name, MatchesRegex("entity_[0-9a-f]{8}"));

  IdentityStore::EntityWrite clash;
  clash.id = generated->entity->id;
  clash.name = "web";
  EXPECT_EQ(store_.WriteEntity(clash).status().message(), "entity name is already in use");
  IdentityStore::EntityWrite missing;
  missing.id = "no-such-id";
  EXPECT_EQ(store_.WriteEntity(missing).status().message(), "entity not found from id");
  IdentityStore::EntityWrite root;
  root.policies = std::vector<std::string>{"root"};
  EXPECT_EQ(store_.WriteEntity(root).status().message(), "policies cannot contain root");

  auto deleted = store_.DeleteEntity(created->entity->id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(store_.GetByName("web"), nullptr);
  EXPECT_FALSE(*store_.DeleteEntity(created->entity->id));
}

TEST_F(IdentityStoreTest, AliasWritesFollowVault) {
  auto alice = Login("alice");
  IdentityStore::AliasWrite w;
  w.name = "alice";
  w.mount_accessor = kOtherAccessor;
  w.canonical_id = alice->id;
  auto created = store_.WriteAlias(w);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->canonical_id, alice->id);
  EXPECT_TRUE(created->changed);
  // One alias per mount per entity.
  w.name = "alice2";
  EXPECT_EQ(store_.WriteAlias(w).status().message(), "Alias already exists for requested entity and mount accessor");
  // The same factors again is an update of that alias, here a no-op.
  w.name = "alice";
  auto same = store_.WriteAlias(w);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(same->alias_id, created->alias_id);

  // Without canonical_id a new entity is made.
  IdentityStore::AliasWrite fresh;
  fresh.name = "svc";
  fresh.mount_accessor = kOtherAccessor;
  auto other = store_.WriteAlias(fresh);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->canonical_id, alice->id);

  // Renaming onto existing factors is refused; moving to an entity with an alias on that mount too.
  IdentityStore::AliasWrite rename;
  rename.id = other->alias_id;
  rename.name = "alice";
  EXPECT_EQ(store_.WriteAlias(rename).status().message(),
            "alias with combination of mount accessor and name already exists");
  IdentityStore::AliasWrite move;
  move.id = other->alias_id;
  move.canonical_id = alice->id;
  EXPECT_THAT(store_.WriteAlias(move).status().message(),
              HasSubstr("the given entity already has an alias for this mount"));

  // Moving the alias of `alice` on kAccessor to the other entity works, in one transaction.
  IdentityStore::AliasWrite move_ok;
  move_ok.id = alice->aliases[0].id;
  move_ok.canonical_id = other->canonical_id;
  auto moved = store_.WriteAlias(move_ok);
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  EXPECT_EQ(moved->canonical_id, other->canonical_id);
  EXPECT_EQ((*store_.Get(alice->id))->aliases.size(), 1u);
  EXPECT_EQ((*store_.Get(other->canonical_id))->aliases.size(), 2u);
  auto login = Login("alice");
  EXPECT_EQ(login->id, other->canonical_id);

  IdentityStore::AliasWrite bad;
  bad.id = "nope";
  EXPECT_EQ(store_.WriteAlias(bad).status().message(), "invalid alias ID provided");
  IdentityStore::AliasWrite bad_entity;
  bad_entity.name = "x";
  bad_entity.mount_accessor = kAccessor;
  bad_entity.canonical_id = "nope";
  EXPECT_EQ(store_.WriteAlias(bad_entity).status().message(), "invalid canonical ID");

  EXPECT_TRUE(*store_.DeleteAlias(created->alias_id));
  EXPECT_FALSE(*store_.DeleteAlias(created->alias_id));
  EXPECT_FALSE(store_.GetAlias(created->alias_id));
  EXPECT_NE(*store_.Get(alice->id), nullptr);  // the entity stays
}

TEST_F(IdentityStoreTest, SnapshotsPairTheEntityWithItsGeneration) {
  auto e = Login("alice");
  IdentityStore::Snapshot s = store_.GetWithGeneration(e->id);
  EXPECT_EQ(s.entity.get(), e.get());
  EXPECT_EQ(s.generation, store_.generation());
  IdentityStore::EntityWrite w;
  w.id = e->id;
  w.metadata = std::map<std::string, std::string>{{"k", "v"}};
  ASSERT_TRUE(store_.WriteEntity(w).ok());
  IdentityStore::Snapshot after = store_.GetWithGeneration(e->id);
  EXPECT_NE(after.generation, s.generation);
  EXPECT_EQ(after.entity->metadata.at("k"), "v");
  EXPECT_EQ(store_.GetWithGeneration("nope").entity, nullptr);
}

TEST_F(IdentityStoreTest, IdentityContextCarriesWhatTemplatesNeed) {
  auto e = Login("alice", {{"team", "payments"}});
  policy::IdentityContext c = IdentityContextOf(*e, 42);
  EXPECT_EQ(c.entity_id, e->id);
  EXPECT_EQ(c.entity_name, e->name);
  EXPECT_EQ(c.generation, 42u);
  ASSERT_EQ(c.aliases.count(kAccessor), 1u);
  EXPECT_EQ(c.aliases.at(kAccessor).name, "alice");
  EXPECT_EQ(c.aliases.at(kAccessor).metadata.at("team"), "payments");
}

}  // namespace
}  // namespace coffer::core
