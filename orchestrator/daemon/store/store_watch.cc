#include "orchestrator/daemon/store/store_watch.h"

#include <algorithm>

namespace stack::orch::mvcc {

namespace {

class HistoryWatch final : public StoreWatch {
 public:
  HistoryWatch(HistoryReader read, Revision from, std::shared_ptr<RevisionSignal> signal)
      : read_(std::move(read)), signal_(std::move(signal)), next_(from) {}

  stack::Result<std::vector<WatchEvent>> wait(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto events = poll();
      if (!events || !events->empty()) return events;
      // seen_ is the revision poll() read at: a write after it wakes us at once.
      if (!signal_->wait_above(seen_, deadline)) return std::vector<WatchEvent>{};
    }
  }

  stack::Result<std::vector<WatchEvent>> poll() override {
    if (failed_) return tl::unexpected(*failed_);
    auto r = read_(next_);
    if (!r) {
      // Compaction ends the watch for good, as etcd cancels it; an I/O error
      // may pass, and the next poll retries from the same revision.
      if (is_store_error(r.error(), kErrCompacted)) failed_ = r.error();
      return tl::unexpected(r.error());
    }
    if (!r->events.empty()) next_ = r->events.back().kv.mod_revision + 1;
    // Nothing of ours up to the store's revision: move past it, so a quiet
    // watch is not failed by a compaction of other keys' history.
    next_ = std::max(next_, r->revision + 1);
    seen_ = r->revision;
    return std::move(r->events);
  }

 private:
  HistoryReader read_;
  std::shared_ptr<RevisionSignal> signal_;
  Revision next_;
  Revision seen_ = 0;
  std::optional<stack::Error> failed_;
};

}  // namespace

void RevisionSignal::advanced(Revision revision) {
  {
    std::lock_guard lock(mu_);
    revision_ = revision;
  }
  cv_.notify_all();
}

bool RevisionSignal::wait_above(Revision seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return revision_ > seen; });
}

std::unique_ptr<StoreWatch> make_history_watch(HistoryReader read, Revision from,
                                               std::shared_ptr<RevisionSignal> signal) {
  return std::make_unique<HistoryWatch>(std::move(read), from, std::move(signal));
}

}  // namespace stack::orch::mvcc
