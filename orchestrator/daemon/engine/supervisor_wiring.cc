// Supervisor::rewire(): DNS and the published ports' backends follow the
// replica set. Who is in which is the scheduler's rule (scheduler/
// membership.h); this only carries it to the network plane.
#include "orchestrator/daemon/engine/supervisor.h"
#include "scheduler/membership.h"

namespace stack::orch {

void Supervisor::rewire() {
  std::vector<WiredReplica> wired;
  for (const auto& [task, r] : replicas_) {
    WiredReplica w;
    w.service = r.status.service;
    w.slot = r.status.slot;
    w.name = r.name;
    w.container_id = r.status.container_id;
    w.node = r.status.node;
    w.addresses = r.addresses;
    sched::Membership m = sched::membership(r.status);
    w.in_dns = m.in_dns;
    w.in_pool = m.in_pool;
    wired.push_back(std::move(w));
  }
  ctx_.wire(desired_.project, wired);
}

}  // namespace stack::orch
