// Follows every key under a prefix of the store, the informer pattern: the
// keys listed at start are applied synchronously (in start()), then every
// put (with its value) and delete (nullptr) after, in order, on the
// follower's own thread. A watch that is lost (etcd unreachable, history
// compacted) is replaced by a new listing, which applies what changed
// meanwhile, deletions included, so the caller's cache converges.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class PrefixFollower {
 public:
  // `rest`: the key past the prefix.
  using Apply = std::function<void(const std::string& rest, const std::string* value)>;
  // `relisted` (optional) runs on the follower's thread after each listing
  // that replaced a lost watch: the store was unreachable, or history lost.
  static stack::Result<std::unique_ptr<PrefixFollower>> start(StateStore& store, std::string prefix, Apply apply,
                                                              std::function<void()> relisted = nullptr);
  ~PrefixFollower();  // stops and joins the thread (within ~0.5 s)
  PrefixFollower(const PrefixFollower&) = delete;
  PrefixFollower& operator=(const PrefixFollower&) = delete;

 private:
  PrefixFollower(StateStore& store, std::string prefix, Apply apply, std::function<void()> relisted)
      : store_(store), prefix_(std::move(prefix)), apply_(std::move(apply)), relisted_(std::move(relisted)) {}
  // Lists, applies the differences against known_; the revision to watch from.
  stack::Result<Revision> list();
  void run(Revision from);

  StateStore& store_;
  const std::string prefix_;
  const Apply apply_;
  const std::function<void()> relisted_;
  std::set<std::string> known_;  // keys applied and not deleted (the thread's after start)
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace stack::orch
