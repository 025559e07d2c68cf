#include "orchestrator/daemon/store/grouped_writes.h"

#include <vector>

namespace stack::orch {

stack::Result<void> GroupedWrites::write(StoreOp op) {
  Pending me{std::move(op), false, {}};
  std::unique_lock lk(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (writing_) {
      done_cv_.wait(lk);
      continue;
    }
    // This caller commits for everyone queued, its own operation included.
    writing_ = true;
    while (!queue_.empty()) {
      std::vector<Pending*> batch;
      Txn t;
      while (!queue_.empty() && batch.size() < kMaxTxnOps) {
        batch.push_back(queue_.front());
        t.success.push_back(queue_.front()->op);
        queue_.pop_front();
      }
      lk.unlock();
      auto committed = store_.txn(t);
      lk.lock();
      for (Pending* p : batch) {
        p->done = true;
        if (!committed) p->result = tl::unexpected(committed.error());
      }
      done_cv_.notify_all();
    }
    writing_ = false;
  }
  return me.result;
}

}  // namespace stack::orch
