#include "orchestrator/daemon/node/rt_budget.h"

#include "orchestrator/daemon/node/daemon_options.h"
#include "runtime/kernel/cgroup_rt.h"

namespace stack::orch {

stack::Result<void> check_rt_budget(const ReplicaSpec& s) {
  const auto& t = s.tuning;
  if (!t.cpu_rt_runtime || *t.cpu_rt_runtime <= 0) return {};
  const std::string parent = t.cgroup_parent.empty() ? kReplicaCgroupParent : t.cgroup_parent;
  const std::string what = "service " + s.name + ": cpu_rt_runtime " + std::to_string(*t.cpu_rt_runtime) + " us";
  auto budget = rt::cgroup_rt_runtime(parent);
  if (!budget) return tl::unexpected(budget.error().wrap(what));
  if (*budget >= *t.cpu_rt_runtime) return {};
  return stack::fail(what + " needs that much real-time budget in its parent cgroup " + parent + ", which has " +
                         std::to_string(*budget) + " us" +
                         (t.cgroup_parent.empty() ? ": start stackd with --cpu-rt-runtime (as dockerd's flag)"
                                                  : ": set its cpu.rt_runtime_us"),
                     EPERM);
}

}  // namespace stack::orch
