// The engine's event bus: every event gets the next sequence number and a
// timestamp, is kept in a ring of the last 1000 (and in the state store as
// events/<seq>, trimmed alike, so the numbering and the recent history
// survive a daemon restart), and goes to every subscriber.
//
// Ordering: publish() and subscribe() serialise on one mutex, so a
// subscriber gets the replayed history then the live events with no gap and
// no duplicate. Sinks are called with that mutex held, from the publishing
// thread: they must be quick (the API server queues) and must not publish.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class EventBus {
 public:
  static constexpr size_t kKeep = 1000;
  // `store` may be null (no persistence). Loads the persisted tail.
  explicit EventBus(StateStore* store);

  // Fills seq and time_ms (when 0); returns the seq.
  uint64_t publish(Event event);
  Engine::Subscription subscribe(uint64_t since_seq, std::function<void(const Event&)> sink);
  std::vector<Event> recent(uint64_t since_seq) const;
  uint64_t last_seq() const;

 private:
  struct Sub {
    std::function<void(const Event&)> sink;
  };
  StateStore* store_;
  mutable std::mutex mu_;
  uint64_t seq_ = 0;
  std::deque<Event> ring_;
  std::list<std::shared_ptr<Sub>> subs_;
};

std::string event_to_json(const Event& e);
stack::Result<Event> event_from_json(const std::string& text);
int64_t now_ms();

}  // namespace stack::orch
