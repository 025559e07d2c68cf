// An in-memory StateStore for tests (the daemon's is SQLite,
// orchestrator/daemon/sqlite_store.cc): same contract, a std::map behind a
// mutex. Pure logic, so it is a fake only of persistence, not of the kernel.
#pragma once

#include <map>
#include <mutex>

#include "orchestrator/daemon/state_store.h"

namespace stack::test {

class MemoryStore final : public orch::StateStore {
 public:
  rt::Result<std::optional<std::string>> get(const std::string& key) override;
  rt::Result<void> put(const std::string& key, const std::string& value) override;
  rt::Result<void> remove(const std::string& key) override;
  rt::Result<std::vector<std::pair<std::string, std::string>>> list(const std::string& prefix) override;
  rt::Result<void> commit(const std::vector<orch::StoreOp>& ops) override;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> data_;
};

}  // namespace stack::test
