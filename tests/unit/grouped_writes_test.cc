// GroupedWrites (orchestrator/daemon/store/grouped_writes.h): writes from
// many threads land, shared out into transactions; a transaction's failure
// is the error of each caller in it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "orchestrator/daemon/store/grouped_writes.h"
#include "tests/support/memory_store.h"

namespace stack::test {
namespace {

using orch::StoreOp;

// A store that counts transactions and takes a moment over each, as etcd's
// round trip does: the callers that come meanwhile queue up.
class SlowStore final : public MemoryStore {
 public:
  stack::Result<orch::TxnResult> txn(const orch::Txn& t) override {
    txns++;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return MemoryStore::txn(t);
  }
  std::atomic<int> txns{0};
};

TEST(GroupedWrites, EveryWriteOfManyThreadsLandsInFewerTransactions) {
  SlowStore store;
  orch::GroupedWrites writes(store);
  constexpr int kThreads = 16, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; i++)
        if (!writes.write({StoreOp::Put, "assign/" + std::to_string(t) + "/" + std::to_string(i), "x", 0})) failed++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(store.list("assign/")->size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_LT(store.txns, kThreads * kEach) << "every write went alone: nothing was grouped";
}

TEST(GroupedWrites, AFailedTransactionIsItsCallersError) {
  MemoryStore store;
  orch::GroupedWrites writes(store);
  EXPECT_TRUE(writes.write({StoreOp::Put, "a", "1", 0}));
  auto bad = writes.write({StoreOp::Put, "b", "2", 424242});  // no such lease
  ASSERT_FALSE(bad);
  EXPECT_TRUE(orch::is_store_error(bad.error(), orch::kErrLeaseNotFound)) << bad.error().message();
  EXPECT_FALSE(store.get("b").value());
  EXPECT_EQ(store.get("a").value().value_or(""), "1");
}

}  // namespace
}  // namespace stack::test
