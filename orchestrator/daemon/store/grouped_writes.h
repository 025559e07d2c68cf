// Writes from many threads at once, shared out into transactions: a caller
// queues its operation and the first caller that finds no transaction in
// flight commits everything queued (up to 128 operations, etcd's default
// limit per transaction), again and again until the queue is empty, while
// the others wait for theirs. One caller alone pays one transaction, as a
// plain write; a leader placing thousands of replicas on other nodes pays
// one transaction per 128 assignments instead of one each.
//
// Every operation of one transaction succeeds or fails together: a failure
// is each of its callers' error. Keys must be distinct among the
// operations in flight (etcd refuses a key twice in one transaction).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class GroupedWrites {
 public:
  explicit GroupedWrites(StateStore& store) : store_(store) {}
  // Returns once the transaction holding it was committed (or failed).
  stack::Result<void> write(StoreOp op);

 private:
  struct Pending {
    StoreOp op;
    bool done = false;
    stack::Result<void> result;
    // Its caller waits here: a commit wakes only its own callers (hundreds
    // wait at once when a leader places thousands of replicas).
    std::condition_variable cv;
  };
  StateStore& store_;
  std::mutex mu_;  // guards what follows
  std::deque<Pending*> queue_;  // each on its caller's stack until done
  bool writing_ = false;
};

}  // namespace stack::orch
