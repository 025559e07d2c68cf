// Which slots a service should have, and on which node: the one answer that
// reconcile(), the daemon's waits and `ps` share.
//
// Replicated services and replicated jobs: slots 1..replicas, placed by
// place_actions(). Global services and global jobs: one slot per eligible
// node, pinned to it. Eligible: the node is ready, not drained, and meets
// the service's constraints; a node without a task yet must also be active
// (a paused node keeps what it runs and takes nothing new). A node keeps
// the slot of the task it has (so a restart or an update keeps the name);
// a node without one gets the lowest slot number no task holds. Without a
// node list (one host, reconcile() without nodes) a global service has one
// slot. A global job's task that completed on a node that is now down keeps
// that node's slot: the job ran there and is not run again when it returns.
#pragma once

#include <string>
#include <vector>

#include "scheduler/deps.h"
#include "scheduler/model.h"
#include "scheduler/placement.h"

namespace stack::sched {

struct SlotTarget {
  int slot = 1;
  std::string node;  // a global service's node; "" = placement chooses
};

// `current`: the service's current task per slot. `nodes`: nullptr or empty
// without a node list. In slot order.
std::vector<SlotTarget> target_slots(const ServiceSpec& service, const SlotMap& current,
                                     const std::vector<NodeInfo>* nodes);

}  // namespace stack::sched
