#include "orchestrator/daemon/store/store_leases.h"

namespace stack::orch::mvcc {

void LeaseTimers::start(LeaseId id, int64_t ttl_seconds, TimePoint now) {
  leases_[id] = Lease{ttl_seconds, now + std::chrono::seconds(ttl_seconds)};
}

bool LeaseTimers::renew(LeaseId id, TimePoint now) {
  auto it = leases_.find(id);
  if (it == leases_.end() || it->second.deadline <= now) return false;
  it->second.deadline = now + std::chrono::seconds(it->second.ttl_seconds);
  return true;
}

std::vector<LeaseId> LeaseTimers::expired(TimePoint now) const {
  std::vector<LeaseId> out;
  for (const auto& [id, lease] : leases_)
    if (lease.deadline <= now) out.push_back(id);
  return out;
}

}  // namespace stack::orch::mvcc
