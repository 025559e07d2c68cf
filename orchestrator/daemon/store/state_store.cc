// The conveniences of StateStore, over range() and txn(), so that every
// backend gets them with the same meaning.
#include "orchestrator/daemon/store/state_store.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "base/parallel.h"

namespace stack::orch {

bool is_store_error(const stack::Error& e, const char* which) {
  return e.context.find(which) != std::string::npos;
}

stack::Result<std::optional<std::string>> StateStore::get(const std::string& key) {
  auto r = range(key);
  if (!r) return tl::unexpected(r.error());
  if (r->kvs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(r->kvs.front().value));
}

stack::Result<void> StateStore::put(const std::string& key, const std::string& value) {
  return commit({{StoreOp::Put, key, value}});
}

stack::Result<void> StateStore::remove(const std::string& key) {
  return commit({{StoreOp::Delete, key, ""}});
}

stack::Result<std::vector<std::pair<std::string, std::string>>> StateStore::list(const std::string& prefix) {
  auto r = range(prefix, RangeOptions{true, 0});
  if (!r) return tl::unexpected(r.error());
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(r->kvs.size());
  for (auto& kv : r->kvs) out.emplace_back(std::move(kv.key), std::move(kv.value));
  return out;
}

stack::Result<void> StateStore::commit_chunked(const std::vector<StoreOp>& ops) {
  const size_t chunks = (ops.size() + kMaxTxnOps - 1) / kMaxTxnOps;
  auto chunk = [&](size_t i) {
    const size_t at = i * kMaxTxnOps;
    return commit({ops.begin() + at, ops.begin() + std::min(ops.size(), at + kMaxTxnOps)});
  };
  bool independent = chunks > 1 && parallel_commits() > 1;
  if (independent) {
    std::unordered_set<std::string_view> keys;
    for (const StoreOp& op : ops)
      if (op.kind == StoreOp::DeletePrefix || op.kind == StoreOp::GetPrefix || !keys.insert(op.key).second) {
        independent = false;
        break;
      }
  }
  if (!independent) {
    for (size_t i = 0; i < chunks; i++) STACK_TRY(chunk(i));
    return {};
  }
  std::mutex mu;
  std::optional<stack::Error> first;  // guarded by mu
  parallel_for(chunks, parallel_commits(), [&](size_t i) {
    auto r = chunk(i);
    if (r) return true;
    std::lock_guard lk(mu);
    if (!first) first = r.error();
    return false;  // no more after a failure
  });
  if (first) return tl::unexpected(*first);
  return {};
}

stack::Result<void> StateStore::commit(const std::vector<StoreOp>& ops) {
  if (ops.empty()) return {};
  auto r = txn(Txn{{}, ops, {}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

}  // namespace stack::orch
