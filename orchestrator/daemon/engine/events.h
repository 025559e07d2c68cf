// The engine's event bus: every event gets the next sequence number and a
// timestamp, is kept in a ring of the last 1000 (and in the state store as
// events/<seq>, trimmed alike, so the numbering and the recent history
// survive a daemon restart), and goes to every subscriber.
//
// Ordering: publish() and subscribe() serialise on one mutex, so a
// subscriber gets the replayed history then the live events with no gap and
// no duplicate. Sinks are called with that mutex held, from the publishing
// thread: they must be quick (the API server queues) and must not publish.
//
// The store's copy is written by a thread of the bus's own, in
// transactions of up to 128 operations: a publisher (a supervisor placing
// thousands of replicas) does not wait for a store write per event. The
// destructor writes what is still queued; a killed daemon loses the last
// few, which is all "best effort" history costs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class EventBus {
 public:
  static constexpr size_t kKeep = 1000;
  // `store` may be null (no persistence). Loads the persisted tail.
  explicit EventBus(StateStore* store);
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Fills seq and time_ms (when 0); returns the seq.
  uint64_t publish(Event event);
  Engine::Subscription subscribe(uint64_t since_seq, std::function<void(const Event&)> sink);
  std::vector<Event> recent(uint64_t since_seq) const;
  uint64_t last_seq() const;

 private:
  struct Sub {
    std::function<void(const Event&)> sink;
  };
  void write_loop();
  // Writes `ops` (puts and the trim's deletes, in publish order) in
  // transactions; a key put and deleted in one go is neither.
  void write(std::vector<StoreOp> ops);

  StateStore* store_;
  std::mutex write_mu_;  // guards queued_ and stopping_
  std::condition_variable write_cv_;
  std::vector<StoreOp> queued_;
  bool stopping_ = false;
  std::thread writer_;  // write_loop(), when there is a store
  mutable std::mutex mu_;
  uint64_t seq_ = 0;
  std::deque<Event> ring_;
  std::list<std::shared_ptr<Sub>> subs_;
};

std::string event_to_json(const Event& e);
stack::Result<Event> event_from_json(const std::string& text);
int64_t now_ms();

}  // namespace stack::orch
