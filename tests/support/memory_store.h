// An in-memory StateStore for tests (the daemon's is SQLite,
// orchestrator/daemon/store/sqlite_store.cc): the same contract
// (tests/unit/state_store_contract_test.cc), in maps behind a mutex. Pure
// logic, so it is a fake only of persistence, not of the kernel. It shares
// the txn logic and the watch cursor with SQLite (store_txn.h,
// store_watch.h) and keeps its own rows, history and compaction.
#pragma once

#include <map>
#include <mutex>

#include "orchestrator/daemon/store/state_store.h"
#include "orchestrator/daemon/store/store_leases.h"
#include "orchestrator/daemon/store/store_watch.h"

namespace stack::test {

class MemoryStore : public orch::StateStore {
 public:
  explicit MemoryStore(orch::StoreOptions options = {});

  stack::Result<orch::RangeResult> range(const std::string& key, orch::RangeOptions options = {}) override;
  stack::Result<orch::TxnResult> txn(const orch::Txn& txn) override;
  stack::Result<orch::LeaseId> lease_grant(int64_t ttl_seconds) override;
  stack::Result<void> lease_keep_alive(orch::LeaseId id) override;
  stack::Result<void> lease_revoke(orch::LeaseId id) override;
  stack::Result<std::vector<orch::LeaseId>> expire_leases() override;
  stack::Result<std::unique_ptr<orch::StoreWatch>> watch(const std::string& key,
                                                      orch::WatchOptions options = {}) override;
  stack::Result<void> compact(orch::Revision revision) override;
  stack::Result<orch::Revision> revision() override;

  size_t size() const;  // live keys

 private:
  struct Row {
    orch::KeyValue kv;
    bool tombstone = false;
  };
  class View;

  stack::Result<orch::TxnResult> write_txn(const orch::Txn& txn);
  stack::Result<orch::mvcc::HistoryRead> read_history(const std::string& key, bool prefix, orch::Revision from);
  void compact_rows(orch::Revision revision);
  stack::Error compacted_error(orch::Revision r) const;

  orch::StoreClock clock_;
  orch::Revision retain_;
  mutable std::mutex mu_;
  std::map<std::string, orch::KeyValue> live_;
  std::vector<Row> history_;  // by revision, then op order
  orch::Revision revision_ = 1;
  orch::Revision compacted_ = 0;
  orch::LeaseId next_lease_ = 1;
  orch::mvcc::LeaseTimers leases_;
  std::shared_ptr<orch::mvcc::RevisionSignal> signal_ = std::make_shared<orch::mvcc::RevisionSignal>();
};

}  // namespace stack::test
