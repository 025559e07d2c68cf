#include "orchestrator/daemon/store/store_txn.h"

#include <set>

namespace stack::orch::mvcc {

std::optional<std::string> prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

bool key_matches(const std::string& key, const std::string& start, bool prefix) {
  return prefix ? key.compare(0, start.size(), start) == 0 : key == start;
}

namespace {

bool is_prefix_op(StoreOp::Kind k) { return k == StoreOp::DeletePrefix || k == StoreOp::GetPrefix; }

stack::Result<void> validate_branch(const std::vector<StoreOp>& ops) {
  std::set<std::string> puts;
  for (const auto& op : ops) {
    if (op.key.empty() && !is_prefix_op(op.kind)) return stack::fail(kErrEmptyKey);
    if (op.kind == StoreOp::Put && !puts.insert(op.key).second) return stack::fail(std::string(kErrDuplicateKey) + ": " + op.key);
  }
  for (const auto& op : ops) {
    if (op.kind != StoreOp::Delete && op.kind != StoreOp::DeletePrefix) continue;
    for (const auto& key : puts)
      if (key_matches(key, op.key, op.kind == StoreOp::DeletePrefix))
        return stack::fail(std::string(kErrDuplicateKey) + ": " + key);
  }
  return {};
}

int sign(int64_t v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

}  // namespace

stack::Result<void> validate(const Txn& txn) {
  for (const auto& c : txn.compares)
    if (c.key.empty()) return stack::fail(kErrEmptyKey);
  STACK_TRY(validate_branch(txn.success));
  return validate_branch(txn.failure);
}

bool compare_holds(const Compare& c, const std::optional<KeyValue>& found) {
  if (!found && c.target == Compare::Value) return false;
  const KeyValue kv = found.value_or(KeyValue{});
  int cmp = 0;
  switch (c.target) {
    case Compare::Value: cmp = sign(kv.value.compare(c.value)); break;  // char_traits<char>: unsigned bytes
    case Compare::Version: cmp = sign(kv.version - c.number); break;
    case Compare::CreateRevision: cmp = sign(kv.create_revision - c.number); break;
    case Compare::ModRevision: cmp = sign(kv.mod_revision - c.number); break;
  }
  switch (c.op) {
    case Compare::Equal: return cmp == 0;
    case Compare::NotEqual: return cmp != 0;
    case Compare::Less: return cmp < 0;
    case Compare::Greater: return cmp > 0;
  }
  return false;
}

stack::Result<TxnResult> apply_txn(TxnView& view, Revision revision, const Txn& txn) {
  STACK_TRY(validate(txn));
  TxnResult out;
  out.succeeded = true;
  for (const auto& c : txn.compares) {
    auto kvs = view.read(c.key, false);
    if (!kvs) return tl::unexpected(kvs.error());
    std::optional<KeyValue> kv;
    if (!kvs->empty()) kv = kvs->front();
    if (!compare_holds(c, kv)) {
      out.succeeded = false;
      break;
    }
  }
  const auto& ops = out.succeeded ? txn.success : txn.failure;
  // Leases first: a missing one must fail the txn before anything is written.
  for (const auto& op : ops)
    if (op.kind == StoreOp::Put && op.lease != 0 && !view.lease_exists(op.lease))
      return stack::fail(std::string(kErrLeaseNotFound) + ": " + std::to_string(op.lease));
  const Revision next = revision + 1;
  bool wrote = false;
  for (const auto& op : ops) {
    OpResult r;
    switch (op.kind) {
      case StoreOp::Get:
      case StoreOp::GetPrefix: {
        auto kvs = view.read(op.key, op.kind == StoreOp::GetPrefix);
        if (!kvs) return tl::unexpected(kvs.error());
        r.kvs = std::move(*kvs);
        break;
      }
      case StoreOp::Put: {
        auto cur = view.read(op.key, false);
        if (!cur) return tl::unexpected(cur.error());
        KeyValue kv{op.key, op.value, next, next, 1, op.lease};
        if (!cur->empty()) {
          kv.create_revision = cur->front().create_revision;
          kv.version = cur->front().version + 1;
        }
        STACK_TRY(view.write(kv, false));
        wrote = true;
        break;
      }
      case StoreOp::Delete:
      case StoreOp::DeletePrefix: {
        auto kvs = view.read(op.key, op.kind == StoreOp::DeletePrefix);
        if (!kvs) return tl::unexpected(kvs.error());
        for (const auto& kv : *kvs) STACK_TRY(view.write(KeyValue{kv.key, {}, 0, next, 0, 0}, true));
        r.deleted = static_cast<int64_t>(kvs->size());
        wrote = wrote || !kvs->empty();
        break;
      }
    }
    out.results.push_back(std::move(r));
  }
  out.revision = wrote ? next : revision;
  return out;
}

}  // namespace stack::orch::mvcc
