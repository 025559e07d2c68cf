// `deploy` -> Deploy: mode, replicas, resources (limits: cpus, memory, pids;
// reservations: cpus, memory, devices), restart_policy, update_config,
// labels, placement.constraints.
#pragma once

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

rt::Result<Deploy> parse_deploy(const Node& n, const std::string& path);

}  // namespace stack::compose
