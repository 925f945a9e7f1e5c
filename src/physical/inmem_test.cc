#include "physical/inmem.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "physical/backend_conformance.h"

namespace coffer::physical::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Inmem, BackendConformanceTest,
                         ::testing::Values(BackendFactory{
                             "inmem", [](const std::string&) { return NewInmemBackend(); }}),
                         FactoryName);

TEST(InmemBackendTest, BackendsAreIndependent) {
  auto first = NewInmemBackend();
  auto second = NewInmemBackend();
  ASSERT_TRUE(first->Put("k", "v").ok());
  auto got = second->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);
}

TEST(InmemBackendTest, TransactionIsAtomicForConcurrentReaders) {
  // A reader never sees one half of a transaction that moves a value between two keys.
  auto backend = NewInmemBackend();
  ASSERT_TRUE(backend->Put("left", "token").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!stop) {
      auto list = backend->List("");
      if (list.ok() && list->size() != 1) ++torn;
    }
  });
  for (int i = 0; i < 2000; ++i) {
    bool to_right = i % 2 == 0;
    std::vector<TxnOp> ops = {
        {TxnOp::Kind::kDelete, to_right ? "left" : "right", ""},
        {TxnOp::Kind::kPut, to_right ? "right" : "left", "token"},
    };
    ASSERT_TRUE(backend->Transaction(ops).ok());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace coffer::physical::testing
