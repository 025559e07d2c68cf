// LeaseHolder on the tests' memory store: one holder per key, the key goes
// with release(), and a lease ended by someone else is reported lost.
#include "orchestrator/daemon/store/lease_holder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/memory_store.h"

namespace stack::orch {
namespace {

TEST(LeaseHolder, OneHolderPerKeyAndTheKeyGoesWithRelease) {
  test::MemoryStore store;
  auto first = LeaseHolder::acquire(store, "owner", "stackd on host-a (pid 1)", 10);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(store.range("owner")->kvs.at(0).lease, (*first)->lease());
  auto second = LeaseHolder::acquire(store, "owner", "stackd on host-b (pid 2)", 10);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("held by stackd on host-a (pid 1)"), std::string::npos)
      << second.error().message();
  EXPECT_EQ(store.get("owner").value(), std::optional<std::string>("stackd on host-a (pid 1)"))
      << "a refused holder changes nothing";
  (*first)->release();
  EXPECT_FALSE((*first)->held());
  EXPECT_FALSE(store.get("owner").value().has_value()) << "release revokes the lease: the key goes at once";
  auto third = LeaseHolder::acquire(store, "owner", "stackd on host-b (pid 2)", 10);
  ASSERT_TRUE(third) << third.error().message();
}

TEST(LeaseHolder, AHolderJudgedStaleIsTakenOverAtOnceAndOnlyThatOne) {
  test::MemoryStore store;
  auto crashed = store.lease_grant(10);  // a holder that died: its lease still runs
  ASSERT_TRUE(crashed);
  ASSERT_TRUE(store.commit({{StoreOp::Put, "owner", "me, before the crash", *crashed}}));
  auto is_me = [](const std::string& holder) { return holder.rfind("me,", 0) == 0; };
  auto other = LeaseHolder::acquire(store, "owner", "someone", 10, {}, [](const std::string&) { return false; });
  ASSERT_FALSE(other) << "not stale to this caller: refused";
  auto h = LeaseHolder::acquire(store, "owner", "me, again", 10, {}, is_me);
  ASSERT_TRUE(h) << h.error().message();
  auto kv = store.range("owner")->kvs.at(0);
  EXPECT_EQ(kv.value, "me, again");
  EXPECT_EQ(kv.lease, (*h)->lease()) << "the key moved to the new lease";
  ASSERT_TRUE(store.lease_revoke(*crashed));
  EXPECT_EQ(store.get("owner").value(), std::optional<std::string>("me, again"))
      << "the old lease's end no longer takes the key";
}

TEST(LeaseHolder, ALeaseEndedElsewhereIsReportedLost) {
  test::MemoryStore store;
  std::atomic<bool> lost{false};
  auto h = LeaseHolder::acquire(store, "leader", "n1", 1, [&](const stack::Error&) { lost = true; });
  ASSERT_TRUE(h);
  ASSERT_TRUE(store.lease_revoke((*h)->lease()));  // as etcd does when the TTL ran out
  for (int i = 0; i < 200 && !lost; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(lost) << "the next keep-alive finds the lease gone";
  EXPECT_FALSE((*h)->held());
}

}  // namespace
}  // namespace stack::orch
