// A single node that became a cluster (`stack node init`) keeps its running
// stacks: its replicas' records name node "local", and nothing assigned
// them. Before this node's AssignmentRunner first compares its containers
// with its assignments (it would remove every unassigned one), this writes
// for each such replica the assignment it would have had (assign/<self>/<id>,
// the plan from the stack's project and the networks this host has), the
// node's report of it (tasks/<self>/<id>, from its shim), and the record
// with this node's id. Runs on every start; a cluster whose records all
// name nodes finds nothing to do.
#pragma once

#include <string>

#include "netplane/network_manager.h"
#include "orchestrator/daemon/node/local_node.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

// How many replicas it adopted.
stack::Result<int> adopt_single_node_replicas(StateStore& cluster, const std::string& self, LocalNode& node,
                                              net::NetworkManager& networks, const std::string& volume_root);

}  // namespace stack::orch
