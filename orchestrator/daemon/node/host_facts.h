// What this host offers, as placement sees it: hostname, CPUs (the affinity
// mask stackd runs under), memory and NVIDIA GPUs. LocalNode::describe() and
// a cluster node's record (daemon/cluster/) both read it here.
#pragma once

#include <string>

#include "scheduler/placement.h"

namespace stack::orch {

sched::NodeInfo describe_host(const std::string& id);

}  // namespace stack::orch
