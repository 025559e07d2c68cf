// A watch as a cursor over a backend's retained history, shared by the
// backends that keep history themselves (SQLite, the tests' memory store).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch::mvcc {

struct HistoryRead {
  std::vector<WatchEvent> events;  // matching events at revisions >= from, oldest first
  Revision revision = 0;           // the store's revision when read
};
// Reads the watched key's or prefix's events from revision `from` on;
// kErrCompacted when `from` is below the compacted revision.
using HistoryReader = std::function<stack::Result<HistoryRead>(Revision from)>;

// Wakes waiting watches: the backend calls advanced() after each commit that
// moved its revision.
class RevisionSignal {
 public:
  void advanced(Revision revision);
  // Whether the revision went above `seen` before `deadline`.
  bool wait_above(Revision seen, std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Revision revision_ = 0;
};

// `from`: the first revision to deliver (already resolved: never 0).
std::unique_ptr<StoreWatch> make_history_watch(HistoryReader read, Revision from,
                                               std::shared_ptr<RevisionSignal> signal);

}  // namespace stack::orch::mvcc
