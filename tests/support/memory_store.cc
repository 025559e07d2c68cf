#include "tests/support/memory_store.h"

#include <algorithm>

#include "orchestrator/daemon/store/store_txn.h"

namespace stack::test {

using orch::KeyValue;
using orch::LeaseId;
using orch::Revision;

namespace {

std::vector<KeyValue> matching(const std::map<std::string, KeyValue>& rows, const std::string& key, bool prefix) {
  std::vector<KeyValue> out;
  for (auto it = rows.lower_bound(key); it != rows.end() && orch::mvcc::key_matches(it->first, key, prefix); ++it) {
    out.push_back(it->second);
    if (!prefix) break;
  }
  return out;
}

stack::Error lease_not_found(LeaseId id) { return stack::Error{0, std::string(orch::kErrLeaseNotFound) + ": " + std::to_string(id)}; }

}  // namespace

// Writes straight into the store's maps and remembers how to undo them, so a
// txn that fails half-way leaves nothing (as SQLite's ROLLBACK does).
class MemoryStore::View final : public orch::mvcc::TxnView {
 public:
  explicit View(MemoryStore& s) : s_(s), history_size_(s.history_.size()) {}
  ~View() override {
    if (committed_) return;
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      if (it->second) s_.live_[it->first] = *it->second;
      else s_.live_.erase(it->first);
    }
    s_.history_.resize(history_size_);
  }
  void commit() { committed_ = true; }

  stack::Result<std::vector<KeyValue>> read(const std::string& key, bool prefix) override {
    return matching(s_.live_, key, prefix);
  }
  stack::Result<void> write(const KeyValue& kv, bool tombstone) override {
    auto it = s_.live_.find(kv.key);
    undo_.emplace_back(kv.key, it == s_.live_.end() ? std::nullopt : std::optional<KeyValue>(it->second));
    if (tombstone) s_.live_.erase(kv.key);
    else s_.live_[kv.key] = kv;
    s_.history_.push_back(Row{kv, tombstone});
    return {};
  }
  bool lease_exists(LeaseId id) override { return s_.leases_.contains(id); }

 private:
  MemoryStore& s_;
  size_t history_size_;
  std::vector<std::pair<std::string, std::optional<KeyValue>>> undo_;
  bool committed_ = false;
};

MemoryStore::MemoryStore(orch::StoreOptions options)
    : clock_(options.clock ? std::move(options.clock) : orch::StoreClock(std::chrono::steady_clock::now)),
      retain_(options.retain_revisions) {}

stack::Result<orch::RangeResult> MemoryStore::range(const std::string& key, orch::RangeOptions options) {
  std::lock_guard lk(mu_);
  orch::RangeResult out;
  out.revision = revision_;
  Revision at = options.revision;
  if (at == 0 || at == revision_) {
    out.kvs = matching(live_, key, options.prefix);
    return out;
  }
  if (at > revision_) return stack::fail(std::string(orch::kErrFutureRevision) + " (revision " + std::to_string(at) + ")");
  if (at < compacted_) return tl::unexpected(compacted_error(at));
  std::map<std::string, Row> newest;  // each key's newest row at or before `at`
  for (const auto& row : history_) {
    if (row.kv.mod_revision > at) break;
    if (orch::mvcc::key_matches(row.kv.key, key, options.prefix)) newest[row.kv.key] = row;
  }
  for (auto& [k, row] : newest)
    if (!row.tombstone) out.kvs.push_back(row.kv);
  return out;
}

stack::Result<orch::TxnResult> MemoryStore::txn(const orch::Txn& txn) {
  std::lock_guard lk(mu_);
  return write_txn(txn);
}

stack::Result<orch::TxnResult> MemoryStore::write_txn(const orch::Txn& txn) {
  View view(*this);
  auto r = orch::mvcc::apply_txn(view, revision_, txn);
  if (!r) return r;
  view.commit();
  if (r->revision != revision_) signal_->advanced(revision_ = r->revision);
  // The same amortised policy as SQLite's: compact `retain_` back once twice that has piled up.
  if (retain_ > 0 && revision_ - compacted_ >= 2 * retain_) compact_rows(revision_ - retain_);
  return r;
}

stack::Result<LeaseId> MemoryStore::lease_grant(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) return stack::fail("lease TTL must be positive, not " + std::to_string(ttl_seconds));
  std::lock_guard lk(mu_);
  LeaseId id = next_lease_++;
  leases_.start(id, ttl_seconds, clock_());
  return id;
}

stack::Result<void> MemoryStore::lease_keep_alive(LeaseId id) {
  std::lock_guard lk(mu_);
  if (!leases_.renew(id, clock_())) return tl::unexpected(lease_not_found(id));
  return {};
}

stack::Result<void> MemoryStore::lease_revoke(LeaseId id) {
  std::lock_guard lk(mu_);
  if (!leases_.contains(id)) return tl::unexpected(lease_not_found(id));
  orch::Txn deletes;
  for (const auto& [key, kv] : live_)
    if (kv.lease == id) deletes.success.push_back({orch::StoreOp::Delete, key, ""});
  STACK_TRY(write_txn(deletes));
  leases_.erase(id);
  return {};
}

stack::Result<std::vector<LeaseId>> MemoryStore::expire_leases() {
  std::vector<LeaseId> ids;
  {
    std::lock_guard lk(mu_);
    ids = leases_.expired(clock_());
  }
  for (LeaseId id : ids) STACK_TRY(lease_revoke(id));
  return ids;
}

stack::Result<std::unique_ptr<orch::StoreWatch>> MemoryStore::watch(const std::string& key, orch::WatchOptions options) {
  std::lock_guard lk(mu_);
  Revision from = options.start_revision == 0 ? revision_ + 1 : options.start_revision;
  if (from < compacted_) return tl::unexpected(compacted_error(from));
  return orch::mvcc::make_history_watch(
      [this, key, prefix = options.prefix](Revision start) { return read_history(key, prefix, start); }, from,
      signal_);
}

stack::Result<orch::mvcc::HistoryRead> MemoryStore::read_history(const std::string& key, bool prefix, Revision from) {
  std::lock_guard lk(mu_);
  if (from < compacted_) return tl::unexpected(compacted_error(from));
  orch::mvcc::HistoryRead out;
  out.revision = revision_;
  for (const auto& row : history_) {
    if (row.kv.mod_revision < from || !orch::mvcc::key_matches(row.kv.key, key, prefix)) continue;
    if (row.tombstone)
      out.events.push_back({orch::WatchEvent::Delete, KeyValue{row.kv.key, {}, 0, row.kv.mod_revision, 0, 0}});
    else
      out.events.push_back({orch::WatchEvent::Put, row.kv});
  }
  return out;
}

stack::Result<void> MemoryStore::compact(Revision revision) {
  std::lock_guard lk(mu_);
  if (revision > revision_)
    return stack::fail(std::string(orch::kErrFutureRevision) + " (revision " + std::to_string(revision) + ")");
  if (revision <= compacted_) return tl::unexpected(compacted_error(revision));
  compact_rows(revision);
  return {};
}

// Keeps, per key, the newest row at or before `revision` unless it is a
// tombstone, and every row after it (sqlite_store.cc does the same in SQL).
void MemoryStore::compact_rows(Revision revision) {
  std::map<std::string, Revision> newest;
  for (const auto& row : history_)
    if (row.kv.mod_revision <= revision) newest[row.kv.key] = row.kv.mod_revision;
  std::erase_if(history_, [&](const Row& row) {
    if (row.kv.mod_revision >= revision) return false;
    return row.tombstone || newest[row.kv.key] != row.kv.mod_revision;
  });
  compacted_ = revision;
}

stack::Result<Revision> MemoryStore::revision() {
  std::lock_guard lk(mu_);
  return revision_;
}

size_t MemoryStore::size() const {
  std::lock_guard lk(mu_);
  return live_.size();
}

stack::Error MemoryStore::compacted_error(Revision r) const {
  return stack::Error{0, std::string(orch::kErrCompacted) + " (revision " + std::to_string(r) + ", compacted " +
                          std::to_string(compacted_) + ")"};
}

}  // namespace stack::test
