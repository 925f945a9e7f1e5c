#include "policy/policy_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "logical/inmem_storage.h"

namespace coffer::policy {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kReadSecrets[] = R"(path "secret/*" { capabilities = ["read"] })";
constexpr char kDenySecrets[] = R"(path "secret/*" { capabilities = ["deny"] })";

// Refuses writes while `fail` is set, like a full disk; reads still work.
class FlakyStorage : public logical::InmemStorage {
 public:
  Status Put(std::string_view key, std::string_view value) override {
    if (fail) return Unavailable("storage: disk full");
    return InmemStorage::Put(key, value);
  }
  Status Delete(std::string_view key) override {
    if (fail) return Unavailable("storage: disk full");
    return InmemStorage::Delete(key);
  }
  std::atomic<bool> fail{false};
};

class PolicyStoreTest : public ::testing::Test {
 protected:
  PolicyStoreTest() : view_(&storage_, "sys/policy/"), store_(&view_) {}

  void SetUp() override { ASSERT_TRUE(store_.Setup().ok()); }

  bool Allowed(const std::vector<std::string>& names, std::string_view path, Operation op) {
    auto acl = store_.AclFor(names);
    EXPECT_TRUE(acl.ok()) << acl.status().message();
    return acl.ok() && (*acl)->Check(path, op, json::object()).allowed;
  }

  FlakyStorage storage_;
  logical::StorageView view_;
  PolicyStore store_;
};

TEST_F(PolicyStoreTest, SetupCreatesTheDefaultPolicy) {
  EXPECT_THAT(*store_.List(), ElementsAre("default", "root"));
  auto def = store_.Get("default");
  ASSERT_TRUE(def.ok());
  ASSERT_NE(*def, nullptr);
  EXPECT_EQ((*def)->raw, kDefaultPolicyText);
  EXPECT_THAT(storage_.Keys(), ElementsAre("sys/policy/default"));

  // The default policy's rules, as a token holding only it sees them.
  EXPECT_TRUE(Allowed({"default"}, "auth/token/lookup-self", Operation::kRead));
  EXPECT_TRUE(Allowed({"default"}, "auth/token/renew-self", Operation::kUpdate));
  EXPECT_TRUE(Allowed({"default"}, "sys/capabilities-self", Operation::kUpdate));
  EXPECT_TRUE(Allowed({"default"}, "cubbyhole/notes", Operation::kCreate));
  EXPECT_TRUE(Allowed({"default"}, "cubbyhole/", Operation::kList));
  EXPECT_TRUE(Allowed({"default"}, "sys/internal/ui/resultant-acl", Operation::kRead));
  EXPECT_TRUE(Allowed({"default"}, "sys/leases/lookup", Operation::kUpdate));
  EXPECT_TRUE(Allowed({"default"}, "sys/tools/hash/sha2-512", Operation::kUpdate));
  EXPECT_TRUE(Allowed({"default"}, "identity/oidc/provider/main/authorize", Operation::kRead));
  EXPECT_FALSE(Allowed({"default"}, "secret/data/x", Operation::kRead));
  EXPECT_FALSE(Allowed({"default"}, "auth/token/create", Operation::kUpdate));
  EXPECT_FALSE(Allowed({"default"}, "sys/policies/acl/default", Operation::kUpdate));
}

TEST_F(PolicyStoreTest, SetupKeepsAnEditedDefaultPolicy) {
  ASSERT_TRUE(store_.Put("default", kReadSecrets).ok());
  PolicyStore reopened(&view_);
  ASSERT_TRUE(reopened.Setup().ok());
  EXPECT_EQ((*reopened.Get("default"))->raw, kReadSecrets);
}

TEST_F(PolicyStoreTest, StoresNameAndRawTextAsJson) {
  ASSERT_TRUE(store_.Put("  Ops ", kReadSecrets).ok());
  auto stored = storage_.Get("sys/policy/ops");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(json::parse(**stored), (json{{"name", "ops"}, {"policy", kReadSecrets}}));
  auto p = store_.Get("OPS");
  ASSERT_TRUE(p.ok());
  ASSERT_NE(*p, nullptr);
  EXPECT_EQ((*p)->name, "ops");
  EXPECT_EQ((*p)->raw, kReadSecrets);
  EXPECT_THAT(*store_.List(), ElementsAre("default", "ops", "root"));

  // A fresh store over the same storage reads it back.
  PolicyStore reopened(&view_);
  auto again = reopened.Get("ops");
  ASSERT_TRUE(again.ok());
  ASSERT_NE(*again, nullptr);
  EXPECT_EQ((*again)->paths.size(), 1u);
}

TEST_F(PolicyStoreTest, MissingAndInvalidNamesAreAbsent) {
  auto missing = store_.Get("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, nullptr);
  auto invalid = store_.Get("a/b");
  ASSERT_TRUE(invalid.ok());
  EXPECT_EQ(*invalid, nullptr);
  EXPECT_EQ(store_.Put("a/b", kReadSecrets).message(),
            "invalid policy name \"a/b\": use letters, digits and - _ . @ + = : , only");
}

TEST_F(PolicyStoreTest, RootIsBuiltInAndImmutable) {
  auto root = store_.Get("root");
  ASSERT_TRUE(root.ok());
  ASSERT_NE(*root, nullptr);
  EXPECT_EQ((*root)->name, "root");
  EXPECT_EQ((*root)->raw, "");

  Status put = store_.Put("root", kReadSecrets);
  EXPECT_EQ(put.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(put.message(), "cannot update \"root\" policy");
  Status del = store_.Delete("Root");
  EXPECT_EQ(del.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(del.message(), "cannot delete \"root\" policy");
  EXPECT_EQ(store_.Put("response-wrapping", kReadSecrets).message(), "cannot update \"response-wrapping\" policy");
  EXPECT_THAT(storage_.Keys(), ElementsAre("sys/policy/default"));

  auto acl = store_.AclFor({"root"});
  ASSERT_TRUE(acl.ok());
  EXPECT_TRUE((*acl)->root());
  EXPECT_TRUE((*acl)->Check("sys/raw/anything", Operation::kDelete, json::object()).sudo);
}

TEST_F(PolicyStoreTest, DefaultCannotBeDeleted) {
  Status del = store_.Delete("default");
  EXPECT_EQ(del.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(del.message(), "cannot delete default policy");
  EXPECT_NE(*store_.Get("default"), nullptr);
}

TEST_F(PolicyStoreTest, DeleteRemovesAndForgets) {
  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  ASSERT_TRUE(store_.Delete("ops").ok());
  EXPECT_EQ(*store_.Get("ops"), nullptr);
  EXPECT_THAT(*store_.List(), ElementsAre("default", "root"));
  EXPECT_TRUE(store_.Delete("ops").ok());  // deleting what is not there is fine
  EXPECT_TRUE(store_.Delete("not a name").ok());
}

TEST_F(PolicyStoreTest, AnInvalidPolicyLeavesTheStoreUnchanged) {
  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  auto before = storage_.Get("sys/policy/ops");
  Status bad = store_.Put("ops", "path \"secret/*\" {\n  capabilities = [\"reed\"]\n}");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "policy ops: 2:19: path \"secret/*\": invalid capability \"reed\"");
  EXPECT_EQ(*storage_.Get("sys/policy/ops"), *before);
  EXPECT_EQ((*store_.Get("ops"))->raw, kReadSecrets);
  EXPECT_TRUE(Allowed({"ops"}, "secret/x", Operation::kRead));

  // A new name that does not parse is not created.
  EXPECT_FALSE(store_.Put("fresh", "path").ok());
  EXPECT_EQ(*store_.Get("fresh"), nullptr);
}

TEST_F(PolicyStoreTest, AStorageFailureChangesNothing) {
  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  ASSERT_TRUE(Allowed({"ops"}, "secret/x", Operation::kRead));
  storage_.fail = true;
  EXPECT_EQ(store_.Put("ops", kDenySecrets).code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Delete("ops").code(), StatusCode::kUnavailable);
  EXPECT_EQ((*store_.Get("ops"))->raw, kReadSecrets);
  EXPECT_TRUE(Allowed({"ops"}, "secret/x", Operation::kRead));
}

TEST_F(PolicyStoreTest, AclForCachesBySortedNamesAndIgnoresUnknownOnes) {
  ASSERT_TRUE(store_.Put("a", R"(path "a/*" { capabilities = ["read"] })").ok());
  ASSERT_TRUE(store_.Put("b", R"(path "b/*" { capabilities = ["read"] })").ok());
  auto first = store_.AclFor({"b", "a", "missing"});
  auto second = store_.AclFor({"A", "b", "a", "missing", "not a name"});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());  // the same compiled ACL
  EXPECT_TRUE((*first)->Check("a/x", Operation::kRead, json::object()).allowed);
  EXPECT_TRUE((*first)->Check("b/x", Operation::kRead, json::object()).allowed);

  auto only_unknown = store_.AclFor({"missing"});
  ASSERT_TRUE(only_unknown.ok());
  EXPECT_FALSE((*only_unknown)->Check("a/x", Operation::kRead, json::object()).allowed);
}

TEST_F(PolicyStoreTest, ChangesInvalidateCachedAcls) {
  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  EXPECT_TRUE(Allowed({"ops", "default"}, "secret/x", Operation::kRead));

  ASSERT_TRUE(store_.Put("ops", kDenySecrets).ok());
  EXPECT_FALSE(Allowed({"ops", "default"}, "secret/x", Operation::kRead));

  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  EXPECT_TRUE(Allowed({"ops", "default"}, "secret/x", Operation::kRead));

  ASSERT_TRUE(store_.Delete("ops").ok());
  EXPECT_FALSE(Allowed({"ops", "default"}, "secret/x", Operation::kRead));

  // Creating a policy a token already names takes effect too.
  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  EXPECT_TRUE(Allowed({"ops", "default"}, "secret/x", Operation::kRead));
}

TEST_F(PolicyStoreTest, ACorruptStoredEntryIsAnErrorNotAnEmptyPolicy) {
  ASSERT_TRUE(storage_.InmemStorage::Put("sys/policy/broken", "not json").ok());
  auto p = store_.Get("broken");
  EXPECT_EQ(p.status().code(), StatusCode::kInternal);
  EXPECT_THAT(p.status().message(), HasSubstr("\"broken\" is malformed"));
  EXPECT_EQ(store_.AclFor({"broken"}).status().code(), StatusCode::kInternal);
}

TEST_F(PolicyStoreTest, ConcurrentReadersSeeTheLastWrite) {
  ASSERT_TRUE(store_.Put("ops", kReadSecrets).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto acl = store_.AclFor({"ops", "default"});
        if (!acl.ok()) ++errors;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store_.Put("ops", i % 2 ? kReadSecrets : kDenySecrets).ok());
  }
  ASSERT_TRUE(store_.Put("ops", kDenySecrets).ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_FALSE(Allowed({"ops", "default"}, "secret/x", Operation::kRead));
  EXPECT_FALSE(Allowed({"default", "ops"}, "secret/x", Operation::kRead));
}

}  // namespace
}  // namespace coffer::policy
