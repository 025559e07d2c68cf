// The backend-independent half of a write transaction with etcd's semantics:
// validating a Txn, evaluating its compares and applying the branch that runs
// (revisions, versions, tombstones, lease checks). A backend (SQLite, the
// tests' memory store) supplies a TxnView over its own rows inside one of its
// transactions and commits or rolls back around apply_txn().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch::mvcc {

// The smallest string greater than every string starting with `prefix`
// (bytes compared unsigned): "a/b" -> "a/c". nullopt when there is none
// (empty prefix, or only 0xff bytes): the range is then unbounded.
std::optional<std::string> prefix_end(std::string prefix);
// `key` is `start` itself, or starts with it when `prefix`.
bool key_matches(const std::string& key, const std::string& start, bool prefix);

// What a backend offers inside one of its write transactions.
class TxnView {
 public:
  virtual ~TxnView() = default;
  // The live keys (this transaction's earlier writes included) equal to, or
  // when `prefix` starting with, `key`; sorted by key.
  virtual stack::Result<std::vector<KeyValue>> read(const std::string& key, bool prefix) = 0;
  // Records a put (`kv` complete) or, when `tombstone`, a delete (kv.key and
  // kv.mod_revision set) in the live keys and in history, after the writes
  // made before it in this transaction.
  virtual stack::Result<void> write(const KeyValue& kv, bool tombstone) = 0;
  virtual bool lease_exists(LeaseId id) = 0;
};

// Rejects what etcd rejects before looking at any key: an empty key (but an
// empty prefix is every key), and in one branch a key put twice or put and
// deleted (kErrDuplicateKey).
stack::Result<void> validate(const Txn& txn);
// etcd's compare: a value compare on an absent key is false; the other
// targets read an absent key as 0.
bool compare_holds(const Compare& c, const std::optional<KeyValue>& kv);
// Evaluates `txn` against `view` (whose store is at `revision`) and applies
// the branch that runs. The result's revision is revision + 1 when something
// was written, else `revision`. On error the caller rolls back.
stack::Result<TxnResult> apply_txn(TxnView& view, Revision revision, const Txn& txn);

}  // namespace stack::orch::mvcc
