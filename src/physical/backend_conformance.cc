#include "physical/backend_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace coffer::physical::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

}  // namespace

std::string FactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

void BackendConformanceTest::SetUp() {
  backend_ = GetParam().make(dir_.path());
  ASSERT_NE(backend_, nullptr);
}

void BackendConformanceTest::TearDown() { backend_.reset(); }

std::optional<std::string> BackendConformanceTest::MustGet(std::string_view key) {
  auto result = backend_->Get(key);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : std::nullopt;
}

std::vector<std::string> BackendConformanceTest::MustList(std::string_view prefix) {
  auto result = backend_->List(prefix);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : std::vector<std::string>{};
}

TEST_P(BackendConformanceTest, GetOfAbsentKeyIsNullopt) {
  EXPECT_EQ(MustGet("nothing/here"), std::nullopt);
}

TEST_P(BackendConformanceTest, PutThenGetReturnsValue) {
  ASSERT_TRUE(backend_->Put("core/seal-config", "sealed-blob").ok());
  EXPECT_EQ(MustGet("core/seal-config"), "sealed-blob");
  EXPECT_EQ(MustGet("core/seal"), std::nullopt);
  EXPECT_EQ(MustGet("core/seal-config/"), std::nullopt);
}

TEST_P(BackendConformanceTest, OverwriteReplacesValue) {
  ASSERT_TRUE(backend_->Put("k", "a much longer first value").ok());
  ASSERT_TRUE(backend_->Put("k", "short").ok());
  EXPECT_EQ(MustGet("k"), "short");
}

TEST_P(BackendConformanceTest, DeleteRemovesKeyAndDeletingAbsentKeyIsOk) {
  ASSERT_TRUE(backend_->Put("a", "1").ok());
  ASSERT_TRUE(backend_->Put("b", "2").ok());
  ASSERT_TRUE(backend_->Delete("a").ok());
  EXPECT_EQ(MustGet("a"), std::nullopt);
  EXPECT_EQ(MustGet("b"), "2");
  EXPECT_TRUE(backend_->Delete("a").ok());
  EXPECT_TRUE(backend_->Delete("never-existed").ok());
}

TEST_P(BackendConformanceTest, BinaryValuesRoundTripIncludingNulBytes) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  all_bytes += std::string("\0\0tail\0", 7);
  ASSERT_TRUE(backend_->Put("bin", all_bytes).ok());
  auto got = MustGet("bin");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), all_bytes.size());
  EXPECT_EQ(*got, all_bytes);
}

TEST_P(BackendConformanceTest, EmptyValueIsStoredAndDistinctFromAbsent) {
  ASSERT_TRUE(backend_->Put("empty", "").ok());
  auto got = MustGet("empty");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "");
}

TEST_P(BackendConformanceTest, LargeValueRoundTrips) {
  std::string big(1 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : big) c = static_cast<char>(rng());
  ASSERT_TRUE(backend_->Put("big", big).ok());
  EXPECT_EQ(MustGet("big"), big);
}

TEST_P(BackendConformanceTest, ListOfEmptyBackendIsEmpty) {
  EXPECT_THAT(MustList(""), IsEmpty());
  EXPECT_THAT(MustList("missing/"), IsEmpty());
}

TEST_P(BackendConformanceTest, ListRootShowsKeysAndFoldersOnce) {
  for (const char* key : {"a/b/c", "a/b/d", "a/e", "top", "z/1"}) {
    ASSERT_TRUE(backend_->Put(key, "v").ok());
  }
  EXPECT_THAT(MustList(""), ElementsAre("a/", "top", "z/"));
}

TEST_P(BackendConformanceTest, ListStripsPrefixAndShowsOnlyImmediateChildren) {
  for (const char* key : {"a/b/c", "a/b/d/e", "a/e", "ab/x", "a"}) {
    ASSERT_TRUE(backend_->Put(key, "v").ok());
  }
  EXPECT_THAT(MustList("a/"), ElementsAre("b/", "e"));
  EXPECT_THAT(MustList("a/b/"), ElementsAre("c", "d/"));
  EXPECT_THAT(MustList("a/b/d/"), ElementsAre("e"));
  EXPECT_THAT(MustList("ab/"), ElementsAre("x"));
}

TEST_P(BackendConformanceTest, KeyAndFolderWithSameNameBothListed) {
  ASSERT_TRUE(backend_->Put("app", "v").ok());
  ASSERT_TRUE(backend_->Put("app/db", "v").ok());
  ASSERT_TRUE(backend_->Put("app/web/cert", "v").ok());
  ASSERT_TRUE(backend_->Put("app/web", "v").ok());
  EXPECT_THAT(MustList(""), ElementsAre("app", "app/"));
  EXPECT_THAT(MustList("app/"), ElementsAre("db", "web", "web/"));
}

TEST_P(BackendConformanceTest, ListIsSortedBytewise) {
  // Inserted out of order; '-' and '.' sort before '/', '0' and letters after it, and bytes
  // above 0x7F (UTF-8) after ASCII.
  std::vector<std::string> keys = {"m",
                                   "b/x",
                                   "b-c",
                                   "b.d",
                                   "b0",
                                   "B",
                                   "\xC3\xBC"
                                   "ber",
                                   "a"};
  std::shuffle(keys.begin(), keys.end(), std::mt19937(3));
  for (const auto& key : keys) ASSERT_TRUE(backend_->Put(key, "v").ok());
  EXPECT_THAT(MustList(""), ElementsAre("B", "a", "b-c", "b.d", "b/", "b0", "m",
                                        "\xC3\xBC"
                                        "ber"));
}

TEST_P(BackendConformanceTest, ListSkipsLargeFoldersAndSeesKeysAfterThem) {
  std::vector<TxnOp> ops;
  for (int i = 0; i < 200; ++i)
    ops.push_back({TxnOp::Kind::kPut, "f/big/" + std::to_string(i), "v"});
  ASSERT_TRUE(backend_->Transaction(ops).ok());
  ASSERT_TRUE(backend_->Put("f/after", "v").ok());
  ASSERT_TRUE(backend_->Put("f/before", "v").ok());
  ASSERT_TRUE(backend_->Put("f/big0", "v").ok());
  EXPECT_THAT(MustList("f/"), ElementsAre("after", "before", "big/", "big0"));
  EXPECT_EQ(MustList("f/big/").size(), 200u);
}

TEST_P(BackendConformanceTest, FolderDisappearsWhenItsLastKeyIsDeleted) {
  ASSERT_TRUE(backend_->Put("d/one/x", "v").ok());
  ASSERT_TRUE(backend_->Put("d/two", "v").ok());
  EXPECT_THAT(MustList("d/"), ElementsAre("one/", "two"));
  ASSERT_TRUE(backend_->Delete("d/one/x").ok());
  EXPECT_THAT(MustList("d/"), ElementsAre("two"));
}

TEST_P(BackendConformanceTest, ListDoesNotReturnKeyEqualToPrefix) {
  ASSERT_TRUE(backend_->Put("p/", "v").ok());
  ASSERT_TRUE(backend_->Put("p/child", "v").ok());
  EXPECT_THAT(MustList("p/"), ElementsAre("child"));
  EXPECT_THAT(MustList(""), ElementsAre("p/"));
}

TEST_P(BackendConformanceTest, TransactionAppliesPutsAndDeletesTogether) {
  ASSERT_TRUE(backend_->Put("old", "1").ok());
  std::vector<TxnOp> ops = {
      {TxnOp::Kind::kPut, "new", "2"},
      {TxnOp::Kind::kDelete, "old", ""},
      {TxnOp::Kind::kPut, "bin", std::string("\0x\0", 3)},
  };
  ASSERT_TRUE(backend_->Transaction(ops).ok());
  EXPECT_EQ(MustGet("new"), "2");
  EXPECT_EQ(MustGet("old"), std::nullopt);
  EXPECT_EQ(MustGet("bin"), std::string("\0x\0", 3));
}

TEST_P(BackendConformanceTest, TransactionAppliesOpsInOrder) {
  std::vector<TxnOp> ops = {
      {TxnOp::Kind::kPut, "gone", "1"},      {TxnOp::Kind::kDelete, "gone", ""},
      {TxnOp::Kind::kDelete, "back", ""},    {TxnOp::Kind::kPut, "back", "2"},
      {TxnOp::Kind::kPut, "twice", "first"}, {TxnOp::Kind::kPut, "twice", "second"},
  };
  ASSERT_TRUE(backend_->Transaction(ops).ok());
  EXPECT_EQ(MustGet("gone"), std::nullopt);
  EXPECT_EQ(MustGet("back"), "2");
  EXPECT_EQ(MustGet("twice"), "second");
}

TEST_P(BackendConformanceTest, EmptyTransactionIsOk) {
  EXPECT_TRUE(backend_->Transaction({}).ok());
  EXPECT_THAT(MustList(""), IsEmpty());
}

TEST_P(BackendConformanceTest, ConcurrentReadersAndWritersSeeCompleteValues) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "c/" + std::to_string(t) + "/" + std::to_string(i);
        std::string value(100 + i, static_cast<char>('a' + t));
        if (!backend_->Put(key, value).ok()) ++failures;
        auto got = backend_->Get(key);
        if (!got.ok() || *got != value) ++failures;
        // Every read of a neighbour's key is either absent or a whole value.
        auto other =
            backend_->Get("c/" + std::to_string((t + 1) % kThreads) + "/" + std::to_string(i));
        if (!other.ok() || (other->has_value() && (*other)->size() != size_t(100 + i))) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(MustList("c/").size(), size_t(kThreads));
  EXPECT_EQ(MustList("c/3/").size(), size_t(kPerThread));
}

}  // namespace coffer::physical::testing
