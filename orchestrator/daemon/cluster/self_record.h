// The record a node keeps of itself in the store (nodes/<id>): what it is
// (id, hostname, address, role, platform) and what it offers (CPUs, memory,
// GPUs: host_facts.h), refreshed at every start; availability and labels
// are the operators' (`node update`) and survive the refresh.
#pragma once

#include <optional>

#include "orchestrator/api/cluster_types.h"
#include "orchestrator/cluster/cluster_config.h"

namespace stack::orch {

// This host now, as node `config.node_id`; `earlier` (its previous record)
// gives availability and labels.
NodeView describe_node(const cluster::ClusterConfig& config, const std::optional<NodeView>& earlier = {});

}  // namespace stack::orch
