#include "tests/support/memory_store.h"

namespace stack::test {

rt::Result<std::optional<std::string>> MemoryStore::get(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

rt::Result<void> MemoryStore::put(const std::string& key, const std::string& value) {
  std::lock_guard lk(mu_);
  data_[key] = value;
  return {};
}

rt::Result<void> MemoryStore::remove(const std::string& key) {
  std::lock_guard lk(mu_);
  data_.erase(key);
  return {};
}

rt::Result<std::vector<std::pair<std::string, std::string>>> MemoryStore::list(const std::string& prefix) {
  std::lock_guard lk(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.rfind(prefix, 0) == 0; ++it)
    out.push_back(*it);
  return out;
}

rt::Result<void> MemoryStore::commit(const std::vector<orch::StoreOp>& ops) {
  std::lock_guard lk(mu_);
  for (const auto& op : ops) {
    switch (op.kind) {
      case orch::StoreOp::Put: data_[op.key] = op.value; break;
      case orch::StoreOp::Delete: data_.erase(op.key); break;
      case orch::StoreOp::DeletePrefix:
        for (auto it = data_.lower_bound(op.key); it != data_.end() && it->first.rfind(op.key, 0) == 0;)
          it = data_.erase(it);
        break;
    }
  }
  return {};
}

size_t MemoryStore::size() const {
  std::lock_guard lk(mu_);
  return data_.size();
}

}  // namespace stack::test
