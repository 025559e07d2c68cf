// What a cluster node runs on its own host, whichever its role: its
// node-local state (<root>/state.db: network leases and endpoints, which
// mean nothing on another host, so never in etcd), its network manager and
// LocalNode, and the AssignmentRunner that keeps this host's containers
// equal to its assignments. On the leader the engine is opened on top
// (open_leader_engine): it places over ClusterNodes, and its own replicas
// reach this host through the same assignments.
//
// Destroyed in reverse: the runner stops following first; containers keep
// running under their shims.
#pragma once

#include <memory>

#include "netplane/network_manager.h"
#include "orchestrator/daemon/cluster/assignment_runner.h"
#include "orchestrator/daemon/cluster/cluster_boot.h"
#include "orchestrator/daemon/cluster/cluster_nodes.h"
#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/node/daemon_options.h"

namespace stack::orch {

struct NodeHost {
  std::unique_ptr<StateStore> node_store;
  std::unique_ptr<net::NetworkManager> networks;
  std::unique_ptr<LocalNode> node;
  std::unique_ptr<AssignmentRunner> runner;
  std::shared_ptr<ClusterNodes> directory;  // the leader's; the engine holds it too
};

stack::Result<std::unique_ptr<NodeHost>> open_node_host(const EngineOptions& options, ClusterNode& cluster);

// `node leave`: stops following assignments, then removes every container
// and network on this host and the node-local copies of stacks (left from
// before `node init`), so that the single node it becomes starts empty.
// Goes on past a failure and reports them all.
stack::Result<void> release_node_host(NodeHost& host);

// The leader's engine over `host` (which must outlive it).
stack::Result<std::unique_ptr<Engine>> open_leader_engine(const EngineOptions& options, ClusterNode& cluster,
                                                          NodeHost& host);

}  // namespace stack::orch
