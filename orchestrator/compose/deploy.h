// `deploy` -> Deploy: mode, resources (limits: cpus, memory, pids;
// reservations: cpus, memory, devices), restart_policy, update_config,
// labels, placement.constraints; `replicas` goes to the service's one count.
// Policy values are checked with task_spec.h's parsers (rollback_config too,
// which is not applied), so a bad one is an error at its file:line.
#pragma once

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<Deploy> parse_deploy(const Node& n, const std::string& path, std::optional<int>& replicas);

// What deploy.mode asks of the rest of service `s` (its node `n`, path
// `base`), as `docker stack deploy` checks it: a global mode takes no
// replica count (deploy.replicas or scale); a job never restarts `always`,
// `unless-stopped` or `any`, and restarts on-failure when the file says
// nothing (Swarm's default for jobs).
stack::Result<void> check_mode(const Node& n, const std::string& base, Service& s);

}  // namespace stack::compose
