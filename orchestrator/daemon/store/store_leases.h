// Lease deadlines, kept in memory by the backends that expire leases
// themselves. Deadlines are monotonic-clock time, so they are not persisted:
// a reopened store restarts every lease's TTL from the time of opening, as
// etcd does when a new leader takes over the leases.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch::mvcc {

class LeaseTimers {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  void start(LeaseId id, int64_t ttl_seconds, TimePoint now);
  // Restarts the TTL; false when unknown or already expired at `now`.
  bool renew(LeaseId id, TimePoint now);
  // Granted and not revoked yet (expired ones count until revoked).
  bool contains(LeaseId id) const { return leases_.count(id) != 0; }
  void erase(LeaseId id) { leases_.erase(id); }
  // Leases whose TTL ran out at `now`, by id.
  std::vector<LeaseId> expired(TimePoint now) const;

 private:
  struct Lease {
    int64_t ttl_seconds = 0;
    TimePoint deadline;
  };
  std::map<LeaseId, Lease> leases_;
};

}  // namespace stack::orch::mvcc
