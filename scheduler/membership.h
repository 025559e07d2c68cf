// Which replicas serve traffic: membership in service discovery (DNS) and in
// a published port's pool of backends, decided from the replica's state and
// health alone. Pure; the daemon applies the result to DNS and nft on every
// change of a replica (start, exit, stop, health transition).
//
// - DNS: a running replica that is not Unhealthy. A Starting replica is
//   named already (Docker puts a container in DNS as soon as it runs, and a
//   client retrying a name must find it the moment it is ready).
// - Port pool: a running replica that is Healthy, or has no health check.
//   Published traffic waits for the first passing probe (the readiness phase,
//   health.h, makes that quick), and leaves at once when it turns Unhealthy.
// A replica that is Stopping, Exited, Created or Pending is in neither: its
// stop signal is out, new connections must not reach it.
#pragma once

#include "scheduler/model.h"

namespace stack::sched {

struct Membership {
  bool in_dns = false;
  bool in_pool = false;

  bool operator==(const Membership&) const = default;
};

Membership membership(ReplicaState state, Health health);
inline Membership membership(const ReplicaStatus& r) { return membership(r.state, r.health.health); }

}  // namespace stack::sched
