// The daemon's state store, with etcd's data model so that a cluster backend
// (etcd itself) can implement the same interface and pass the same contract
// tests (tests/unit/state_store_contract_test.cc):
//
// - a global revision, starting at 1 in an empty store, that goes up by one
//   per transaction that changes something (reads and no-op deletes do not);
// - per key: create_revision, mod_revision, version (1 at creation, +1 per
//   put; a delete resets the key: re-creating it starts at version 1);
// - txn(compares, success, failure): atomic; compares on value, version,
//   create_revision or mod_revision (=, !=, <, >); a value compare on an
//   absent key is false, the other targets compare an absent key as 0;
// - leases with a TTL (seconds) and keep-alive; keys put with a lease are
//   deleted, in one revision, when it is revoked or expires;
// - watches on a key or a prefix from a revision, replaying retained history;
//   compact(rev) drops history before rev, after which reading or watching
//   from an older revision is the error kErrCompacted.
//
// Deviations from etcd, on purpose: lease expiry runs when expire_leases() is
// called (a daemon timer; tests call it with a fake clock), and a watch is a
// cursor that is polled (or waited on) rather than a stream.
//
// The single-node default is SQLite (WAL, synchronous=NORMAL) in
// <root>/state.db (sqlite_store.cc); tests also use tests/support/memory_store.
//
// Keys are '/'-separated paths; values are JSON text. Layout used by stackd:
//   stacks/<stack>                  {"project": <compose to_json>, "goal": "up|stopped|down", ...}
//   replicas/<stack>/<service>/<n>  scheduler ReplicaStatus + container facts (JSON)
//   sources/<stack>/<hash>          in a cluster: the project and networks its
//                                   assignments name (cluster/assignment.h)
//   events/<seq>                    recent events (trimmed to the last 1000)
//   net/ipam, net/networks          the network manager's state (net_state_store.h)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace stack::orch {

using Revision = int64_t;
using LeaseId = int64_t;  // 0: no lease

// etcd's messages, so that callers can tell these errors apart from I/O
// failures whatever the backend (is_store_error below).
inline constexpr const char* kErrCompacted = "mvcc: required revision has been compacted";
inline constexpr const char* kErrFutureRevision = "mvcc: required revision is a future revision";
inline constexpr const char* kErrLeaseNotFound = "lease not found";
inline constexpr const char* kErrDuplicateKey = "duplicate key given in txn request";
inline constexpr const char* kErrEmptyKey = "key is not provided";
bool is_store_error(const stack::Error& e, const char* which);

// etcd's default limit of operations in one transaction (--max-txn-ops).
inline constexpr size_t kMaxTxnOps = 128;

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision mod_revision = 0;
  int64_t version = 0;
  LeaseId lease = 0;
  bool operator==(const KeyValue&) const = default;
};

struct StoreOp {
  // Get/Delete act on one key; GetPrefix/DeletePrefix on every key starting
  // with `key` ("" = all).
  enum Kind { Put, Delete, DeletePrefix, Get, GetPrefix } kind = Put;
  std::string key;
  std::string value;  // Put only
  LeaseId lease = 0;  // Put only: the key is deleted with this lease
};

struct Compare {
  enum Target { Value, Version, CreateRevision, ModRevision } target = Value;
  enum Op { Equal, NotEqual, Less, Greater } op = Equal;
  std::string key;
  std::string value;    // target Value (compared as bytes)
  int64_t number = 0;   // the other targets

  static Compare value_is(std::string key, Op op, std::string value) {
    return {Value, op, std::move(key), std::move(value), 0};
  }
  static Compare of(Target target, std::string key, Op op, int64_t number) {
    return {target, op, std::move(key), {}, number};
  }
  static Compare absent(std::string key) { return of(CreateRevision, std::move(key), Equal, 0); }
};

struct Txn {
  std::vector<Compare> compares;  // all must hold for `success` to run
  std::vector<StoreOp> success;
  std::vector<StoreOp> failure;
};

struct OpResult {
  std::vector<KeyValue> kvs;  // Get/GetPrefix: sorted by key
  int64_t deleted = 0;        // Delete/DeletePrefix: keys that existed
};

struct TxnResult {
  bool succeeded = false;    // the compares held (success ran) or not (failure ran)
  Revision revision = 0;     // the store's revision after the txn
  std::vector<OpResult> results;  // one per op of the branch that ran
};

struct RangeOptions {
  bool prefix = false;   // `key` is a prefix ("" = every key)
  Revision revision = 0; // 0: now; else the state right after that revision
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key
  Revision revision = 0;      // the store's current revision
};

struct WatchEvent {
  enum Type { Put, Delete } type = Put;
  KeyValue kv;  // Delete: key and mod_revision (the deleting revision) only
  bool operator==(const WatchEvent&) const = default;
};

// A watch: a cursor over the store's history for one key or prefix. It must
// not outlive its store.
class StoreWatch {
 public:
  virtual ~StoreWatch() = default;
  // Every event not returned yet, oldest first (a txn's events in its op
  // order), up to the store's current revision; empty when none. After the
  // store compacted history this watch had not read yet it fails with
  // kErrCompacted, for good (etcd cancels such a watch): list again, watch
  // from the list's revision + 1.
  virtual stack::Result<std::vector<WatchEvent>> poll() = 0;
  // poll(), but when there is nothing yet, waits up to `timeout` (real time,
  // not the store's clock) for a write; empty when none matched by then.
  virtual stack::Result<std::vector<WatchEvent>> wait(std::chrono::milliseconds timeout) = 0;
};

struct WatchOptions {
  bool prefix = false;
  Revision start_revision = 0;  // 0: only what comes after now
};

using StoreClock = std::function<std::chrono::steady_clock::time_point()>;

class StateStore {
 public:
  virtual ~StateStore() = default;

  // --- etcd's model ---------------------------------------------------------
  virtual stack::Result<RangeResult> range(const std::string& key, RangeOptions options = {}) = 0;
  // Errors (kErrDuplicateKey when a key is put twice or put and deleted in
  // one branch, kErrLeaseNotFound, I/O) leave the store unchanged.
  virtual stack::Result<TxnResult> txn(const Txn& txn) = 0;
  // A lease of `ttl_seconds` (> 0) from now, by the store's clock.
  virtual stack::Result<LeaseId> lease_grant(int64_t ttl_seconds) = 0;
  // Its TTL starts again from now; kErrLeaseNotFound when revoked or expired.
  virtual stack::Result<void> lease_keep_alive(LeaseId id) = 0;
  // Deletes its keys (one revision) and the lease; kErrLeaseNotFound if unknown.
  virtual stack::Result<void> lease_revoke(LeaseId id) = 0;
  // Revokes every lease whose TTL ran out by the store's clock; returns them.
  virtual stack::Result<std::vector<LeaseId>> expire_leases() = 0;
  // Watching from a revision below the compacted one is kErrCompacted.
  virtual stack::Result<std::unique_ptr<StoreWatch>> watch(const std::string& key, WatchOptions options = {}) = 0;
  // Forgets history before `revision` (the state at `revision` stays
  // readable); kErrCompacted when already compacted past it,
  // kErrFutureRevision when beyond the current revision.
  virtual stack::Result<void> compact(Revision revision) = 0;
  // The current revision (1 in an empty store).
  virtual stack::Result<Revision> revision() = 0;

  // --- conveniences over range/txn, the interface stackd grew up with ---------
  stack::Result<std::optional<std::string>> get(const std::string& key);
  stack::Result<void> put(const std::string& key, const std::string& value);
  stack::Result<void> remove(const std::string& key);  // absent: not an error
  // Every (key, value) whose key starts with `prefix`, sorted by key.
  stack::Result<std::vector<std::pair<std::string, std::string>>> list(const std::string& prefix);
  // All or nothing (a txn without compares).
  stack::Result<void> commit(const std::vector<StoreOp>& ops);
  // In transactions of up to kMaxTxnOps each: each all or nothing, not the
  // whole (for writes that need no atomicity across them: events, a batch
  // of records). When no key comes twice and no op is on a prefix,
  // up to parallel_commits() transactions are in flight at once (their
  // order does not matter then), else they go one after another. Returns
  // the first failure; with several in flight, others may have landed.
  stack::Result<void> commit_chunked(const std::vector<StoreOp>& ops);
  // How many transactions of one commit_chunked may be in flight: etcd
  // puts concurrent ones into one raft round and one fsync; a local
  // database gains nothing.
  virtual size_t parallel_commits() const { return 1; }
};

struct StoreOptions {
  StoreClock clock;  // empty: std::chrono::steady_clock::now
  // History older than this many revisions is compacted automatically (in
  // steps, amortised over writes) so that stackd's store does not grow
  // without end; 0 keeps it until compact() is called.
  Revision retain_revisions = 1000;
};

// Opens (creating, or migrating the schema of an older stackd) the SQLite
// store at `path`. Thread-safe (one connection behind a mutex).
stack::Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path, StoreOptions options = {});

}  // namespace stack::orch
