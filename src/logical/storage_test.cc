#include "logical/storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "logical/inmem_storage.h"

namespace coffer::logical {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Fails every call after `fail_after` successful ones, to show errors propagate.
class FailingStorage : public InmemStorage {
 public:
  explicit FailingStorage(int fail_after) : remaining_(fail_after) {}
  Status Delete(std::string_view key) override {
    if (remaining_-- <= 0) return Unavailable("storage unavailable");
    return InmemStorage::Delete(key);
  }

 private:
  int remaining_;
};

TEST(InmemStorageTest, GetPutDelete) {
  InmemStorage s;
  ASSERT_TRUE(s.Put("a/b", "1").ok());
  auto got = s.Get("a/b");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(**got, "1");
  ASSERT_TRUE(s.Put("a/b", "2").ok());
  EXPECT_EQ(**s.Get("a/b"), "2");
  ASSERT_TRUE(s.Delete("a/b").ok());
  EXPECT_FALSE(s.Get("a/b")->has_value());
  EXPECT_TRUE(s.Delete("absent").ok());
}

TEST(InmemStorageTest, ListReturnsSortedImmediateChildrenWithFoldersOnce) {
  InmemStorage s;
  for (const char* key : {"app/db/password", "app/db/user", "app/api", "app-x", "app", "zeta/q", "app/z/deep/er"}) {
    ASSERT_TRUE(s.Put(key, "v").ok());
  }
  EXPECT_THAT(*s.List(""), ElementsAre("app", "app-x", "app/", "zeta/"));
  EXPECT_THAT(*s.List("app/"), ElementsAre("api", "db/", "z/"));
  EXPECT_THAT(*s.List("app/db/"), ElementsAre("password", "user"));
  EXPECT_THAT(*s.List("nothing/"), IsEmpty());
}

TEST(InmemStorageTest, TransactionAppliesEveryOperation) {
  InmemStorage s;
  ASSERT_TRUE(s.Put("old", "x").ok());
  ASSERT_TRUE(s.Transaction({{TxnOp::Kind::kPut, "new", "y"}, {TxnOp::Kind::kDelete, "old", ""}}).ok());
  EXPECT_THAT(s.Keys(), ElementsAre("new"));
}

TEST(StorageViewTest, PrefixesEveryKey) {
  InmemStorage parent;
  StorageView view(&parent, "logical/1234/");
  ASSERT_TRUE(view.Put("foo/bar", "v").ok());
  EXPECT_THAT(parent.Keys(), ElementsAre("logical/1234/foo/bar"));
  EXPECT_EQ(**view.Get("foo/bar"), "v");
  EXPECT_THAT(*view.List(""), ElementsAre("foo/"));
  EXPECT_THAT(*view.List("foo/"), ElementsAre("bar"));
  ASSERT_TRUE(view.Delete("foo/bar").ok());
  EXPECT_THAT(parent.Keys(), IsEmpty());
}

TEST(StorageViewTest, CannotSeeKeysOutsideItsPrefix) {
  InmemStorage parent;
  ASSERT_TRUE(parent.Put("logical/other/secret", "theirs").ok());
  ASSERT_TRUE(parent.Put("logical/mine-not/secret", "theirs").ok());
  ASSERT_TRUE(parent.Put("core/keyring", "k").ok());
  StorageView view(&parent, "logical/mine/");
  EXPECT_THAT(*view.List(""), IsEmpty());
  EXPECT_FALSE(view.Get("secret")->has_value());
  ASSERT_TRUE(view.Put("secret", "mine").ok());
  EXPECT_EQ(**parent.Get("logical/other/secret"), "theirs");
  EXPECT_EQ(**parent.Get("logical/mine/secret"), "mine");
}

TEST(StorageViewTest, RejectsDotDotAndLeadingSlashEverywhere) {
  InmemStorage parent;
  ASSERT_TRUE(parent.Put("logical/other/secret", "theirs").ok());
  ASSERT_TRUE(parent.Put("core/keyring", "k").ok());
  StorageView view(&parent, "logical/mine/");
  for (const char* key : {"../other/secret", "a/../../other/secret", "..", "a/..", "/core/keyring"}) {
    SCOPED_TRACE(key);
    auto got = view.Get(key);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(view.Put(key, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(view.Delete(key).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(view.Transaction({{TxnOp::Kind::kDelete, key, ""}}).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(view.List("../").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(view.List("/").status().code(), StatusCode::kInvalidArgument);
  // Nothing outside the view was touched.
  EXPECT_THAT(parent.Keys(), ElementsAre("core/keyring", "logical/other/secret"));
}

TEST(StorageViewTest, DotsInsideNamesAreFine) {
  InmemStorage parent;
  StorageView view(&parent, "v/");
  ASSERT_TRUE(view.Put("a..b/.../..c/.d", "x").ok());
  EXPECT_THAT(parent.Keys(), ElementsAre("v/a..b/.../..c/.d"));
}

TEST(StorageViewTest, ErrorNamesTheKeyButCutsLongOnes) {
  InmemStorage parent;
  StorageView view(&parent, "v/");
  auto got = view.Get("../x");
  EXPECT_NE(got.status().message().find("\"../x\""), std::string::npos) << got.status().message();
  std::string long_key = "../" + std::string(500, 'a');
  EXPECT_LT(view.Get(long_key).status().message().size(), 150u);
}

TEST(StorageViewTest, TransactionIsPrefixedAndAllOrNothingOnBadKeys) {
  InmemStorage parent;
  StorageView view(&parent, "v/");
  ASSERT_TRUE(view.Transaction({{TxnOp::Kind::kPut, "a", "1"}, {TxnOp::Kind::kPut, "b/c", "2"}}).ok());
  EXPECT_THAT(parent.Keys(), ElementsAre("v/a", "v/b/c"));
  // One bad key rejects the whole batch before the parent sees any of it.
  EXPECT_EQ(view.Transaction({{TxnOp::Kind::kDelete, "a", ""}, {TxnOp::Kind::kPut, "../x", "3"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_THAT(parent.Keys(), ElementsAre("v/a", "v/b/c"));
}

TEST(StorageViewTest, NestedViewsCompose) {
  InmemStorage parent;
  StorageView outer(&parent, "logical/");
  StorageView inner(&outer, "abc/");
  ASSERT_TRUE(inner.Put("k", "v").ok());
  EXPECT_THAT(parent.Keys(), ElementsAre("logical/abc/k"));
}

TEST(ClearPrefixTest, DeletesEverythingBelowThePrefixOnly) {
  InmemStorage s;
  for (const char* key : {"logical/a/x", "logical/a/d/y", "logical/a/d/e/f/z", "logical/a/d", "logical/ab/keep",
                          "logical/b/keep", "core/keep"}) {
    ASSERT_TRUE(s.Put(key, "v").ok());
  }
  ASSERT_TRUE(ClearPrefix(s, "logical/a/").ok());
  EXPECT_THAT(s.Keys(), ElementsAre("core/keep", "logical/ab/keep", "logical/b/keep"));
}

TEST(ClearPrefixTest, ThroughAViewClearsTheWholeMount) {
  InmemStorage s;
  ASSERT_TRUE(s.Put("logical/m/x", "v").ok());
  ASSERT_TRUE(s.Put("logical/m/y/z", "v").ok());
  ASSERT_TRUE(s.Put("logical/n/x", "v").ok());
  StorageView view(&s, "logical/m/");
  ASSERT_TRUE(ClearPrefix(view, "").ok());
  EXPECT_THAT(s.Keys(), ElementsAre("logical/n/x"));
}

TEST(ClearPrefixTest, PropagatesStorageErrors) {
  FailingStorage s(/*fail_after=*/1);
  ASSERT_TRUE(s.Put("p/a", "v").ok());
  ASSERT_TRUE(s.Put("p/b", "v").ok());
  Status st = ClearPrefix(s, "p/");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.Keys(), ElementsAre("p/b"));
}

}  // namespace
}  // namespace coffer::logical
