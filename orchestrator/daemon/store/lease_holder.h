// A key held under a store lease that a thread of ours keeps alive: the mark
// that a stackd owns a store (one engine per etcd prefix), and the shape of a
// node's heartbeat and of the leader's key in a cluster. When the keep-alive
// stops (the process dies, or is cut off from etcd for longer than the TTL)
// etcd deletes the key, and someone else may take it.
//
// Owns its thread; the store must outlive the holder.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class LeaseHolder {
 public:
  using LostHandler = std::function<void(const stack::Error&)>;

  // Puts `key` = `value` under a new lease of `ttl_seconds` when the key is
  // absent, and keeps the lease alive every sixth of the TTL. Error when the
  // key is held already: its message carries the holder's value.
  // `on_lost` runs (on the keep-alive thread) once, if the lease ends
  // without release(): etcd expired it while we were cut off.
  // `stale`, when given, may declare the current holder dead although its
  // lease still runs (a crashed earlier incarnation of the caller, known by
  // its value): the key is then taken over at once, by compare-and-swap on
  // that value, rather than after the TTL.
  static stack::Result<std::unique_ptr<LeaseHolder>> acquire(
      StateStore& store, const std::string& key, const std::string& value, int64_t ttl_seconds,
      LostHandler on_lost = {}, std::function<bool(const std::string& holder)> stale = {});
  ~LeaseHolder();  // release()
  LeaseHolder(const LeaseHolder&) = delete;
  LeaseHolder& operator=(const LeaseHolder&) = delete;

  // Stops the keep-alive and revokes the lease, so the key goes at once
  // rather than when the TTL runs out. Safe twice.
  void release();
  bool held() const;
  LeaseId lease() const { return lease_; }

 private:
  LeaseHolder(StateStore& store, LeaseId lease, int64_t ttl_seconds, LostHandler on_lost);
  void keep_alive_loop();

  StateStore& store_;
  const LeaseId lease_;
  const int64_t ttl_seconds_;
  LostHandler on_lost_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool held_ = true;
  std::thread thread_;
};

}  // namespace stack::orch
