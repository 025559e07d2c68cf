// The daemon's state store: a small key/value interface with prefix listing
// and atomic multi-key transactions, because that is what etcd offers and a
// cluster backend will implement the same interface. The single-node default
// is SQLite (WAL mode, synchronous=NORMAL) in <root>/state.db.
//
// Keys are '/'-separated paths; values are JSON text. Layout used by stackd:
//   stacks/<stack>                  {"project": <compose to_json>, "goal": "up|stopped|down", ...}
//   replicas/<stack>/<service>/<n>  scheduler ReplicaStatus + container facts (JSON)
//   events/<seq>                    recent events (trimmed to the last 1000)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/kernel/error.h"

namespace stack::orch {

struct StoreOp {
  enum Kind { Put, Delete, DeletePrefix } kind = Put;
  std::string key;
  std::string value;  // Put only
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual rt::Result<std::optional<std::string>> get(const std::string& key) = 0;
  virtual rt::Result<void> put(const std::string& key, const std::string& value) = 0;
  virtual rt::Result<void> remove(const std::string& key) = 0;  // absent: not an error
  // Every (key, value) whose key starts with `prefix`, sorted by key.
  virtual rt::Result<std::vector<std::pair<std::string, std::string>>> list(const std::string& prefix) = 0;
  // All or nothing.
  virtual rt::Result<void> commit(const std::vector<StoreOp>& ops) = 0;
};

// Opens (creating) the SQLite store at `path`. Thread-safe (one connection
// behind a mutex).
rt::Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path);

}  // namespace stack::orch
