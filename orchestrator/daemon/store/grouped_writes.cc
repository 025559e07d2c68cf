#include "orchestrator/daemon/store/grouped_writes.h"

#include <vector>

namespace stack::orch {

stack::Result<void> GroupedWrites::write(StoreOp op) {
  Pending me{std::move(op), false, {}, {}};
  std::unique_lock lk(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (writing_) {
      me.cv.wait(lk);  // done, or handed the turn to commit (below)
      continue;
    }
    // This caller commits for those queued before it, its own operation
    // included, then hands the turn to the next caller still queued.
    writing_ = true;
    while (!me.done) {
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
        if (p != &me) p->cv.notify_one();
      }
    }
    writing_ = false;
    if (!queue_.empty()) queue_.front()->cv.notify_one();
  }
  return me.result;
}

}  // namespace stack::orch
