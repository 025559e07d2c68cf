// The state store's contract, etcd's model (orchestrator/daemon/store/state_store.h),
// written once and run against every backend: the tests' memory store and
// SQLite (tests/unit/state_store_contract_test.cc) and etcd itself
// (tests/integration/etcd_store_test.cc). Time is a fake clock for the
// backends that keep time themselves: lease expiry happens when a test
// advances it and calls expire_leases(), never by sleeping.
//
// A backend is a struct with open(StoreOptions) and two traits:
//   kOwnLeaseClock  leases expire by StoreOptions::clock (false: the server's)
//   kLazyWatch      a watch reads history when polled (false: the server
//                   sends it at creation, as etcd's stream does)
//   kKeepsTombstoneAtCompaction
//                   a delete at exactly the compacted revision stays in
//                   history (false: etcd compacts it away with its key)
#pragma once

#include <gtest/gtest.h>

#include <thread>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch::contract {

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  void advance(int seconds) { now += std::chrono::seconds(seconds); }
};

template <class Backend>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (requires { Backend::skip_reason(); }) {
      auto why = Backend::skip_reason();
      if (!why.empty()) GTEST_SKIP() << why;
    }
    store_ = backend_.open(StoreOptions{[this] { return clock_.now; }, 0});
    ASSERT_TRUE(store_);
  }

  StateStore& s() { return *store_; }
  Revision rev() { return s().revision().value(); }
  KeyValue kv(const std::string& key) {
    auto r = s().range(key);
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->kvs.size(), 1u) << key;
    return r->kvs.empty() ? KeyValue{} : r->kvs.front();
  }
  bool exists(const std::string& key) { return s().get(key).value().has_value(); }
  TxnResult run(const Txn& t) {
    auto r = s().txn(t);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : TxnResult{};
  }
  std::vector<WatchEvent> poll(StoreWatch& w) {
    auto r = w.poll();
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : std::vector<WatchEvent>{};
  }

  FakeClock clock_;
  Backend backend_;
  std::unique_ptr<StateStore> store_;
};

TYPED_TEST_SUITE_P(StoreContract);

inline WatchEvent put_event(KeyValue kv) { return {WatchEvent::Put, std::move(kv)}; }
inline WatchEvent delete_event(std::string key, Revision at) { return {WatchEvent::Delete, KeyValue{std::move(key), {}, 0, at, 0, 0}}; }

TYPED_TEST_P(StoreContract, EveryWritingTxnAddsOneRevisionAndKeysCarryTheirHistory) {
  EXPECT_EQ(this->rev(), 1) << "an empty store is at revision 1, as etcd";
  ASSERT_TRUE(this->s().put("a", "1"));
  EXPECT_EQ(this->rev(), 2);
  EXPECT_EQ(this->kv("a"), (KeyValue{"a", "1", 2, 2, 1, 0}));
  ASSERT_TRUE(this->s().put("a", "2"));
  EXPECT_EQ(this->kv("a"), (KeyValue{"a", "2", 2, 3, 2, 0}));
  auto both = this->run(Txn{{}, {{StoreOp::Put, "b", "x"}, {StoreOp::Put, "c", "y"}}, {}});
  EXPECT_TRUE(both.succeeded);
  EXPECT_EQ(both.revision, 4) << "one revision per txn, however many keys";
  EXPECT_EQ(this->kv("b").mod_revision, 4);
  EXPECT_EQ(this->kv("c").mod_revision, 4);
  // Reads and deletes of absent keys change nothing, so no revision.
  EXPECT_EQ(this->run(Txn{{}, {{StoreOp::Get, "a", ""}}, {}}).revision, 4);
  ASSERT_TRUE(this->s().remove("nothing"));
  EXPECT_EQ(this->rev(), 4);
  // A delete resets the key: put again, it is created anew at version 1.
  ASSERT_TRUE(this->s().remove("a"));
  EXPECT_EQ(this->rev(), 5);
  ASSERT_TRUE(this->s().put("a", "3"));
  EXPECT_EQ(this->kv("a"), (KeyValue{"a", "3", 6, 6, 1, 0}));
}

TYPED_TEST_P(StoreContract, RangeReadsAKeyAPrefixOrThePastState) {
  ASSERT_TRUE(this->s().put("app/a", "1"));  // 2
  ASSERT_TRUE(this->s().put("app/b", "1"));  // 3
  ASSERT_TRUE(this->s().put("apple", "1"));  // 4
  ASSERT_TRUE(this->s().put("app/a", "2"));  // 5
  ASSERT_TRUE(this->s().remove("app/b"));    // 6
  auto now = this->s().range("app/", RangeOptions{true, 0});
  ASSERT_TRUE(now);
  EXPECT_EQ(now->revision, 6);
  ASSERT_EQ(now->kvs.size(), 1u);
  EXPECT_EQ(now->kvs[0], (KeyValue{"app/a", "2", 2, 5, 2, 0}));
  auto at3 = this->s().range("app/", RangeOptions{true, 3});
  ASSERT_TRUE(at3) << at3.error().message();
  ASSERT_EQ(at3->kvs.size(), 2u);
  EXPECT_EQ(at3->kvs[0], (KeyValue{"app/a", "1", 2, 2, 1, 0}));
  EXPECT_EQ(at3->kvs[1], (KeyValue{"app/b", "1", 3, 3, 1, 0}));
  EXPECT_EQ(at3->revision, 6) << "the header is the current revision, as etcd's";
  auto key_at5 = this->s().range("app/b", RangeOptions{false, 5});
  ASSERT_TRUE(key_at5);
  EXPECT_EQ(key_at5->kvs.size(), 1u);
  EXPECT_EQ(this->s().range("app", RangeOptions{false, 4})->kvs.size(), 0u) << "a key is not a prefix";
  EXPECT_EQ(this->s().range("", RangeOptions{true, 0})->kvs.size(), 2u) << "the empty prefix is every key";
  auto future = this->s().range("app/", RangeOptions{true, 7});
  ASSERT_FALSE(future);
  EXPECT_TRUE(is_store_error(future.error(), kErrFutureRevision)) << future.error().message();
}

TYPED_TEST_P(StoreContract, CompareAndSwapRunsOneBranch) {
  // Create-if-absent: the second one finds the key and runs its failure ops.
  Txn create{{Compare::absent("leader")}, {{StoreOp::Put, "leader", "n1"}}, {{StoreOp::Get, "leader", ""}}};
  auto first = this->run(create);
  EXPECT_TRUE(first.succeeded);
  EXPECT_EQ(first.revision, 2);
  create.success[0].value = "n2";
  auto second = this->run(create);
  EXPECT_FALSE(second.succeeded);
  EXPECT_EQ(second.revision, 2);
  ASSERT_EQ(second.results.size(), 1u);
  ASSERT_EQ(second.results[0].kvs.size(), 1u);
  EXPECT_EQ(second.results[0].kvs[0].value, "n1");
  // Swap on mod_revision: the writer that read revision 2 wins once.
  Txn swap{{Compare::of(Compare::ModRevision, "leader", Compare::Equal, 2)}, {{StoreOp::Put, "leader", "n3"}}, {}};
  EXPECT_TRUE(this->run(swap).succeeded);
  EXPECT_FALSE(this->run(swap).succeeded);
  EXPECT_EQ(this->s().get("leader").value(), std::optional<std::string>("n3"));
  EXPECT_EQ(this->rev(), 3);
}

TYPED_TEST_P(StoreContract, CompareTargetsAndOperators) {
  ASSERT_TRUE(this->s().put("k", "m"));  // 2
  ASSERT_TRUE(this->s().put("k", "m"));  // 3: version 2, create 2, mod 3
  auto holds = [&](Compare c) { return this->run(Txn{{c}, {}, {}}).succeeded; };
  using C = Compare;
  EXPECT_TRUE(holds(C::value_is("k", C::Equal, "m")));
  EXPECT_TRUE(holds(C::value_is("k", C::NotEqual, "n")));
  EXPECT_TRUE(holds(C::value_is("k", C::Less, "n")));
  EXPECT_TRUE(holds(C::value_is("k", C::Greater, "l")));
  EXPECT_TRUE(holds(C::value_is("k", C::Less, "\xff"))) << "bytes compare unsigned";
  EXPECT_FALSE(holds(C::value_is("k", C::Greater, "m")));
  EXPECT_TRUE(holds(C::of(C::Version, "k", C::Equal, 2)));
  EXPECT_TRUE(holds(C::of(C::Version, "k", C::Greater, 1)));
  EXPECT_FALSE(holds(C::of(C::Version, "k", C::Less, 2)));
  EXPECT_TRUE(holds(C::of(C::CreateRevision, "k", C::Equal, 2)));
  EXPECT_TRUE(holds(C::of(C::ModRevision, "k", C::Equal, 3)));
  EXPECT_TRUE(holds(C::of(C::ModRevision, "k", C::NotEqual, 2)));
  // An absent key: its numbers are 0, and any value compare fails.
  EXPECT_TRUE(holds(C::of(C::Version, "none", C::Equal, 0)));
  EXPECT_TRUE(holds(C::of(C::ModRevision, "none", C::Less, 1)));
  EXPECT_FALSE(holds(C::value_is("none", C::Equal, "")));
  EXPECT_FALSE(holds(C::value_is("none", C::NotEqual, "x")));
  // Every compare must hold.
  EXPECT_FALSE(this->run(Txn{{C::value_is("k", C::Equal, "m"), C::absent("k")}, {}, {}}).succeeded);
}

TYPED_TEST_P(StoreContract, OpsOfOneTxnSeeEachOtherAndGetsReturnSortedKeys) {
  ASSERT_TRUE(this->s().put("x", "1"));  // 2
  auto r = this->run(Txn{{},
                         {{StoreOp::Put, "d/2", "b"},
                          {StoreOp::Put, "d/1", "a"},
                          {StoreOp::GetPrefix, "d/", ""},
                          {StoreOp::Delete, "x", ""},
                          {StoreOp::Get, "x", ""}},
                         {}});
  ASSERT_EQ(r.results.size(), 5u);
  ASSERT_EQ(r.results[2].kvs.size(), 2u);
  EXPECT_EQ(r.results[2].kvs[0], (KeyValue{"d/1", "a", 3, 3, 1, 0}));
  EXPECT_EQ(r.results[2].kvs[1].key, "d/2");
  EXPECT_EQ(r.results[3].deleted, 1);
  EXPECT_TRUE(r.results[4].kvs.empty());
  EXPECT_EQ(r.revision, 3);
}

TYPED_TEST_P(StoreContract, AnInvalidTxnChangesNothing) {
  ASSERT_TRUE(this->s().put("a", "1"));
  ASSERT_TRUE(this->s().put("p/x", "1"));
  auto twice = this->s().txn(Txn{{}, {{StoreOp::Put, "b", "1"}, {StoreOp::Put, "b", "2"}}, {}});
  ASSERT_FALSE(twice);
  EXPECT_TRUE(is_store_error(twice.error(), kErrDuplicateKey)) << twice.error().message();
  auto put_and_delete = this->s().commit({{StoreOp::Put, "p/y", "1"}, {StoreOp::DeletePrefix, "p/", ""}});
  ASSERT_FALSE(put_and_delete);
  EXPECT_TRUE(is_store_error(put_and_delete.error(), kErrDuplicateKey));
  // A missing lease is found before anything is written.
  auto no_lease = this->s().commit({{StoreOp::Delete, "a", ""}, {StoreOp::Put, "c", "1", 12345}});
  ASSERT_FALSE(no_lease);
  EXPECT_TRUE(is_store_error(no_lease.error(), kErrLeaseNotFound)) << no_lease.error().message();
  EXPECT_FALSE(this->s().put("", "x")) << "an empty key";
  EXPECT_EQ(this->rev(), 3);
  EXPECT_TRUE(this->exists("a"));
  EXPECT_FALSE(this->exists("b"));
  EXPECT_FALSE(this->exists("c"));
  EXPECT_TRUE(this->exists("p/x"));
}

TYPED_TEST_P(StoreContract, ALeaseExpiresUnlessKeptAliveAndTakesItsKeys) {
  if (!TypeParam::kOwnLeaseClock) GTEST_SKIP() << "the server expires leases by its own clock (tested apart)";
  auto lease = this->s().lease_grant(10);
  ASSERT_TRUE(lease) << lease.error().message();
  ASSERT_TRUE(this->s().commit({{StoreOp::Put, "nodes/n1", "up", *lease}, {StoreOp::Put, "nodes/n2", "up", *lease}}));
  ASSERT_TRUE(this->s().put("nodes/n3", "up"));
  EXPECT_EQ(this->kv("nodes/n1").lease, *lease);
  this->clock_.advance(9);
  EXPECT_TRUE(this->s().expire_leases().value().empty());
  ASSERT_TRUE(this->s().lease_keep_alive(*lease));
  this->clock_.advance(9);  // 18 s after the grant, 9 after the keep-alive
  EXPECT_TRUE(this->s().expire_leases().value().empty());
  EXPECT_TRUE(this->exists("nodes/n1"));
  Revision before = this->rev();
  this->clock_.advance(1);  // the TTL is over
  auto renew_late = this->s().lease_keep_alive(*lease);
  ASSERT_FALSE(renew_late) << "an expired lease cannot be renewed";
  EXPECT_TRUE(is_store_error(renew_late.error(), kErrLeaseNotFound));
  EXPECT_EQ(this->s().expire_leases().value(), std::vector<LeaseId>{*lease});
  EXPECT_FALSE(this->exists("nodes/n1"));
  EXPECT_FALSE(this->exists("nodes/n2"));
  EXPECT_TRUE(this->exists("nodes/n3"));
  EXPECT_EQ(this->rev(), before + 1) << "both keys go in one revision";
  auto reuse = this->s().commit({{StoreOp::Put, "nodes/n1", "up", *lease}});
  ASSERT_FALSE(reuse);
  EXPECT_TRUE(is_store_error(reuse.error(), kErrLeaseNotFound));
  EXPECT_TRUE(this->s().expire_leases().value().empty());
}

TYPED_TEST_P(StoreContract, RevokeDeletesOnlyTheKeysStillOnTheLease) {
  auto lease = this->s().lease_grant(60);
  auto other = this->s().lease_grant(60);
  ASSERT_TRUE(lease && other);
  EXPECT_NE(*lease, *other);
  ASSERT_TRUE(this->s().commit({{StoreOp::Put, "a", "1", *lease}, {StoreOp::Put, "b", "1", *lease},
                                {StoreOp::Put, "c", "1", *other}}));
  ASSERT_TRUE(this->s().put("b", "2"));  // put without the lease: detached from it
  auto w = this->s().watch("", WatchOptions{true, 0});
  ASSERT_TRUE(w);
  ASSERT_TRUE(this->s().lease_revoke(*lease));
  EXPECT_FALSE(this->exists("a"));
  EXPECT_TRUE(this->exists("b"));
  EXPECT_TRUE(this->exists("c"));
  EXPECT_EQ(this->poll(**w), (std::vector<WatchEvent>{delete_event("a", 4)}));
  auto again = this->s().lease_revoke(*lease);
  ASSERT_FALSE(again);
  EXPECT_TRUE(is_store_error(again.error(), kErrLeaseNotFound));
  EXPECT_FALSE(this->s().lease_grant(0)) << "a TTL must be positive";
}

TYPED_TEST_P(StoreContract, WatchReplaysFromARevisionThenFollows) {
  ASSERT_TRUE(this->s().put("svc/a", "1"));  // 2
  ASSERT_TRUE(this->s().put("other", "1"));  // 3
  ASSERT_TRUE(this->s().put("svc/b", "1"));  // 4
  ASSERT_TRUE(this->s().remove("svc/a"));    // 5
  auto w = this->s().watch("svc/", WatchOptions{true, 3});
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(this->poll(**w),
            (std::vector<WatchEvent>{put_event({"svc/b", "1", 4, 4, 1, 0}), delete_event("svc/a", 5)}));
  EXPECT_TRUE(this->poll(**w).empty()) << "each event once";
  ASSERT_TRUE(this->s().put("svc/b", "2"));  // 6
  ASSERT_TRUE(this->s().put("other", "2"));  // 7
  EXPECT_EQ(this->poll(**w), (std::vector<WatchEvent>{put_event({"svc/b", "2", 4, 6, 2, 0})}));
  // One key, from now (revision 0): nothing of the past.
  auto key = this->s().watch("svc/b");
  ASSERT_TRUE(key);
  EXPECT_TRUE(this->poll(**key).empty());
  ASSERT_TRUE(this->s().put("svc/bb", "1"));  // 8: not the key
  ASSERT_TRUE(this->s().put("svc/b", "3"));   // 9
  EXPECT_EQ(this->poll(**key), (std::vector<WatchEvent>{put_event({"svc/b", "3", 4, 9, 3, 0})}));
  // From revision 1: the whole retained history.
  auto all = this->s().watch("", WatchOptions{true, 1});
  ASSERT_TRUE(all);
  EXPECT_EQ(this->poll(**all).size(), 8u);
}

// wait() returns once a matching write lands; the test asserts on what
// arrives, never on how long it took.
TYPED_TEST_P(StoreContract, WaitReturnsTheWriteThatLands) {
  auto w = this->s().watch("jobs/", WatchOptions{true, 0});
  ASSERT_TRUE(w);
  EXPECT_TRUE((*w)->wait(std::chrono::milliseconds(0)).value().empty());
  stack::Result<std::vector<WatchEvent>> got;
  std::thread waiter([&] { got = (*w)->wait(std::chrono::hours(1)); });
  ASSERT_TRUE(this->s().put("other", "1"));  // 2: wakes it, but does not match
  ASSERT_TRUE(this->s().put("jobs/1", "x"));  // 3
  waiter.join();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, (std::vector<WatchEvent>{put_event({"jobs/1", "x", 3, 3, 1, 0})}));
}

TYPED_TEST_P(StoreContract, DeletePrefixIsOneRevisionWithAnEventPerKey) {
  ASSERT_TRUE(this->s().commit({{StoreOp::Put, "replicas/shop/web/1", "{}"},
                                {StoreOp::Put, "replicas/shop/web/2", "{}"},
                                {StoreOp::Put, "replicas/shopx/web/1", "{}"}}));  // 2
  auto w = this->s().watch("replicas/", WatchOptions{true, 0});
  ASSERT_TRUE(w);
  auto r = this->run(Txn{{}, {{StoreOp::DeletePrefix, "replicas/shop/", ""}}, {}});
  EXPECT_EQ(r.revision, 3);
  EXPECT_EQ(r.results.at(0).deleted, 2);
  EXPECT_EQ(this->poll(**w), (std::vector<WatchEvent>{delete_event("replicas/shop/web/1", 3),
                                                      delete_event("replicas/shop/web/2", 3)}));
  EXPECT_TRUE(this->exists("replicas/shopx/web/1"));
}

TYPED_TEST_P(StoreContract, CompactionKeepsTheStateAtItsRevisionAndFailsOlderReads) {
  ASSERT_TRUE(this->s().put("a", "1"));  // 2
  ASSERT_TRUE(this->s().put("b", "1"));  // 3
  ASSERT_TRUE(this->s().put("a", "2"));  // 4
  ASSERT_TRUE(this->s().remove("b"));    // 5
  ASSERT_TRUE(this->s().put("c", "1"));  // 6
  auto lagging = this->s().watch("", WatchOptions{true, 2});
  ASSERT_TRUE(lagging);
  ASSERT_TRUE(this->s().compact(5));
  auto at5 = this->s().range("", RangeOptions{true, 5});
  ASSERT_TRUE(at5) << at5.error().message();
  ASSERT_EQ(at5->kvs.size(), 1u);
  EXPECT_EQ(at5->kvs[0], (KeyValue{"a", "2", 2, 4, 2, 0}));
  auto at4 = this->s().range("", RangeOptions{true, 4});
  ASSERT_FALSE(at4);
  EXPECT_TRUE(is_store_error(at4.error(), kErrCompacted)) << at4.error().message();
  auto old = this->s().watch("", WatchOptions{true, 4});
  ASSERT_FALSE(old);
  EXPECT_TRUE(is_store_error(old.error(), kErrCompacted)) << old.error().message();
  if (TypeParam::kLazyWatch) {
    // A watch that had not read past the compaction is over, for good.
    auto l = (*lagging)->poll();
    ASSERT_FALSE(l);
    EXPECT_TRUE(is_store_error(l.error(), kErrCompacted));
    EXPECT_FALSE((*lagging)->poll());
  } else {
    // The server sent the history when the watch was made: it is kept.
    EXPECT_EQ(this->poll(**lagging).size(), 5u);
  }
  // From the compacted revision itself: its events are kept (the delete too,
  // where the backend keeps it).
  auto from5 = this->s().watch("", WatchOptions{true, 5});
  ASSERT_TRUE(from5) << from5.error().message();
  std::vector<WatchEvent> want{delete_event("b", 5), put_event({"c", "1", 6, 6, 1, 0})};
  if (!TypeParam::kKeepsTombstoneAtCompaction) want.erase(want.begin());
  EXPECT_EQ(this->poll(**from5), want);
  auto twice = this->s().compact(5);
  ASSERT_FALSE(twice);
  EXPECT_TRUE(is_store_error(twice.error(), kErrCompacted));
  auto future = this->s().compact(7);
  ASSERT_FALSE(future);
  EXPECT_TRUE(is_store_error(future.error(), kErrFutureRevision));
}

TYPED_TEST_P(StoreContract, AQuietWatchSurvivesCompactionOfOtherKeys) {
  auto w = this->s().watch("quiet/", WatchOptions{true, 0});
  ASSERT_TRUE(w);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(this->s().put("busy", std::to_string(i)));
  EXPECT_TRUE(this->poll(**w).empty());
  ASSERT_TRUE(this->s().compact(this->rev()));
  ASSERT_TRUE(this->s().put("quiet/x", "1"));
  EXPECT_EQ(this->poll(**w).size(), 1u);
}

TYPED_TEST_P(StoreContract, RetainedRevisionsAreCompactedAutomatically) {
  this->store_.reset();
  this->store_ = this->backend_.open(StoreOptions{[this] { return this->clock_.now; }, 10});
  ASSERT_TRUE(this->store_);
  for (int i = 0; i < 19; ++i) ASSERT_TRUE(this->s().put("k" + std::to_string(i % 3), "v"));
  EXPECT_EQ(this->rev(), 20);
  EXPECT_FALSE(this->s().range("", RangeOptions{true, 9})) << "20 - 10: compacted up to 10";
  EXPECT_TRUE(this->s().range("", RangeOptions{true, 10}));
  EXPECT_EQ(this->s().range("", RangeOptions{true, 10})->kvs.size(), 3u);
}

// commit_chunked: a batch over many transactions lands whole, one revision
// per transaction (etcd's may be in flight together); a key written in two
// of them ends with the later write (those go one after another).
TYPED_TEST_P(StoreContract, AChunkedCommitLandsWholeAndKeepsTheOrderOfAKeyWrittenTwice) {
  std::vector<StoreOp> ops;
  for (int i = 0; i < 1000; i++) ops.push_back({StoreOp::Put, "records/" + std::to_string(i), std::to_string(i)});
  const Revision before = this->rev();
  ASSERT_TRUE(this->s().commit_chunked(ops));
  EXPECT_EQ(this->rev(), before + static_cast<Revision>((ops.size() + kMaxTxnOps - 1) / kMaxTxnOps));
  auto all = this->s().list("records/");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1000u);
  for (const auto& [key, value] : *all) EXPECT_EQ(key, "records/" + value);

  // "last" in each of eight transactions, its value the transaction's number.
  ops.clear();
  for (int t = 0; t < 8; t++)
    for (size_t i = 0; i < kMaxTxnOps; i++)
      ops.push_back(i == 0 ? StoreOp{StoreOp::Put, "last", std::to_string(t)}
                           : StoreOp{StoreOp::Put, "more/" + std::to_string(t) + "/" + std::to_string(i), "x"});
  ASSERT_TRUE(this->s().commit_chunked(ops));
  EXPECT_EQ(this->s().get("last").value(), std::optional<std::string>("7"));
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract,
                            AChunkedCommitLandsWholeAndKeepsTheOrderOfAKeyWrittenTwice,
                            EveryWritingTxnAddsOneRevisionAndKeysCarryTheirHistory,
                            RangeReadsAKeyAPrefixOrThePastState,
                            CompareAndSwapRunsOneBranch,
                            CompareTargetsAndOperators,
                            OpsOfOneTxnSeeEachOtherAndGetsReturnSortedKeys,
                            AnInvalidTxnChangesNothing,
                            ALeaseExpiresUnlessKeptAliveAndTakesItsKeys,
                            RevokeDeletesOnlyTheKeysStillOnTheLease,
                            WatchReplaysFromARevisionThenFollows,
                            WaitReturnsTheWriteThatLands,
                            DeletePrefixIsOneRevisionWithAnEventPerKey,
                            CompactionKeepsTheStateAtItsRevisionAndFailsOlderReads,
                            AQuietWatchSurvivesCompactionOfOtherKeys,
                            RetainedRevisionsAreCompactedAutomatically);

}  // namespace stack::orch::contract
