// What a cluster node runs at stackd's start, before its engine: on a
// manager its etcd member (supervised), then the store on etcd with the
// node's certificate, then its agent (record, heartbeat, leader campaign).
// Destroyed in reverse: the agent lets go of its keys first, the member
// stops last.
#pragma once

#include <memory>
#include <string>

#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/cluster/etcd_member.h"
#include "orchestrator/daemon/cluster/node_agent.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

struct ClusterNode {
  cluster::ClusterConfig config;
  std::unique_ptr<EtcdMember> member;  // managers
  std::unique_ptr<StateStore> store;
  std::unique_ptr<NodeAgent> agent;
};

// A manager's etcd member as its cluster.json describes it.
EtcdMemberOptions member_options(const std::string& root, const cluster::ClusterConfig& config,
                                 const std::string& etcd_binary = "/usr/bin/etcd");

stack::Result<std::unique_ptr<ClusterNode>> boot_cluster_node(const std::string& root,
                                                              const cluster::ClusterConfig& config,
                                                              const std::string& etcd_binary = "/usr/bin/etcd");

}  // namespace stack::orch
