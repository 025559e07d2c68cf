// Membership in DNS and the port pool (membership.h).
#include "scheduler/membership.h"

namespace stack::sched {

Membership membership(ReplicaState state, Health health) {
  Membership m;
  if (state != ReplicaState::Running) return m;
  m.in_dns = health != Health::Unhealthy;
  m.in_pool = health == Health::None || health == Health::Healthy;
  return m;
}

}  // namespace stack::sched
