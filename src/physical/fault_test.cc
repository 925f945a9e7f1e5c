#include "physical/fault.h"

#include <gtest/gtest.h>

#include <chrono>

#include "physical/inmem.h"

namespace coffer::physical {
namespace {

class FaultInjectingBackendTest : public ::testing::Test {
 protected:
  FaultInjectingBackendTest() : inner_(NewInmemBackend()), fault_(inner_.get()) {}

  std::optional<std::string> InnerGet(std::string_view key) {
    auto got = inner_->Get(key);
    EXPECT_TRUE(got.ok());
    return got.ok() ? *got : std::nullopt;
  }

  std::unique_ptr<Backend> inner_;
  FaultInjectingBackend fault_;
};

void ExpectInjected(const Status& status) {
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "injected fault");
}

TEST_F(FaultInjectingBackendTest, PassesThroughWithoutFaults) {
  ASSERT_TRUE(fault_.Put("a/b", "1").ok());
  ASSERT_TRUE(fault_.Transaction({{TxnOp::Kind::kPut, "a/c", "2"}}).ok());
  auto got = fault_.Get("a/b");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "1");
  auto list = fault_.List("a/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"b", "c"}));
  ASSERT_TRUE(fault_.Delete("a/b").ok());
  EXPECT_EQ(InnerGet("a/b"), std::nullopt);
}

TEST_F(FaultInjectingBackendTest, FailsOnlyTheNthWrite) {
  fault_.FailWrite(3);
  EXPECT_TRUE(fault_.Put("k1", "v").ok());
  EXPECT_TRUE(fault_.Delete("k0").ok());
  ExpectInjected(fault_.Put("k3", "v"));
  EXPECT_EQ(InnerGet("k3"), std::nullopt);  // not applied
  EXPECT_TRUE(fault_.Put("k4", "v").ok());
  EXPECT_EQ(InnerGet("k4"), "v");
  EXPECT_EQ(fault_.counters().injected_faults, 1u);
}

TEST_F(FaultInjectingBackendTest, FailsNthWriteAndEveryLaterOne) {
  fault_.FailWrite(2, /*and_after=*/true);
  EXPECT_TRUE(fault_.Put("k1", "v").ok());
  ExpectInjected(fault_.Put("k2", "v"));
  ExpectInjected(fault_.Transaction({{TxnOp::Kind::kPut, "k3", "v"}}));
  ExpectInjected(fault_.Delete("k1"));
  EXPECT_EQ(InnerGet("k1"), "v");
  EXPECT_EQ(InnerGet("k3"), std::nullopt);
  // Reads are unaffected by write faults.
  EXPECT_TRUE(fault_.Get("k1").ok());
  fault_.ClearFaults();
  EXPECT_TRUE(fault_.Put("k2", "v").ok());
}

TEST_F(FaultInjectingBackendTest, FailsWritesTouchingAPrefix) {
  fault_.FailWritesWithPrefix("core/");
  EXPECT_TRUE(fault_.Put("logical/x", "v").ok());
  ExpectInjected(fault_.Put("core/keyring", "v"));
  // A transaction touching the prefix fails as a whole and applies nothing.
  ExpectInjected(fault_.Transaction(
      {{TxnOp::Kind::kPut, "logical/y", "v"}, {TxnOp::Kind::kDelete, "core/old", ""}}));
  EXPECT_EQ(InnerGet("logical/y"), std::nullopt);
  EXPECT_EQ(InnerGet("core/keyring"), std::nullopt);
}

TEST_F(FaultInjectingBackendTest, FailAfterApplyLandsTheWriteButReportsAnError) {
  fault_.SetFailAfterApply(true);
  fault_.FailWrite(1);
  ExpectInjected(fault_.Put("k", "landed"));
  EXPECT_EQ(InnerGet("k"), "landed");
}

TEST_F(FaultInjectingBackendTest, FailsReadsMatchingPrefix) {
  ASSERT_TRUE(inner_->Put("secret/a", "1").ok());
  ASSERT_TRUE(inner_->Put("other/b", "2").ok());
  fault_.FailReads("secret/");
  ExpectInjected(fault_.Get("secret/a").status());
  ExpectInjected(fault_.List("secret/").status());
  EXPECT_TRUE(fault_.Get("other/b").ok());
  EXPECT_TRUE(fault_.List("other/").ok());
  EXPECT_TRUE(fault_.Put("secret/c", "3").ok());  // writes are unaffected

  fault_.FailReads();
  ExpectInjected(fault_.Get("other/b").status());
  ExpectInjected(fault_.List("").status());

  fault_.ClearFaults();
  auto got = fault_.Get("secret/a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "1");
}

TEST_F(FaultInjectingBackendTest, CountsEveryOperation) {
  (void)fault_.Get("a");
  (void)fault_.Get("b");
  (void)fault_.Put("a", "1");
  (void)fault_.Delete("a");
  (void)fault_.List("");
  (void)fault_.Transaction({});
  fault_.FailReads();
  (void)fault_.Get("c");
  FaultInjectingBackend::Counters c = fault_.counters();
  EXPECT_EQ(c.gets, 3u);
  EXPECT_EQ(c.puts, 1u);
  EXPECT_EQ(c.deletes, 1u);
  EXPECT_EQ(c.lists, 1u);
  EXPECT_EQ(c.transactions, 1u);
  EXPECT_EQ(c.injected_faults, 1u);
}

TEST_F(FaultInjectingBackendTest, DelaySlowsOperations) {
  fault_.SetDelay(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fault_.Put("k", "v").ok());
  ASSERT_TRUE(fault_.Get("k").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  fault_.ClearFaults();
  start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fault_.Get("k").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(FaultInjectingBackendOwnershipTest, OwnsItsInnerBackend) {
  FaultInjectingBackend fault(NewInmemBackend());
  ASSERT_TRUE(fault.Put("k", "v").ok());
  auto got = fault.inner().Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "v");
}

}  // namespace
}  // namespace coffer::physical
