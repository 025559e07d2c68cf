// cpu_rt_runtime needs that much real-time budget in the replica's parent
// cgroup, which has none unless stackd's --cpu-rt-runtime (or the admin,
// for a cgroup_parent of their own) granted it. Checked before the create,
// so the user reads why instead of the kernel's EINVAL.
#pragma once

#include "base/error.h"
#include "orchestrator/daemon/node/replica_spec.h"

namespace stack::orch {

stack::Result<void> check_rt_budget(const ReplicaSpec& s);

}  // namespace stack::orch
