// Placement: which node runs a replica. Nomad's shape: feasibility filters
// (resources left, GPUs, constraints), then ranking (bin-pack by default,
// spread of a service's replicas across nodes as a tie-break). Pure: nodes
// are described, never asked. One node today ("local"), many later.
#pragma once

#include <string>
#include <vector>

#include "scheduler/model.h"

namespace stack::sched {

struct NodeInfo {
  std::string id;
  std::string hostname;
  double cpus = 0;          // capacity
  uint64_t memory = 0;      // bytes
  int64_t gpus = 0;         // devices
  std::map<std::string, std::string> labels;
  bool ready = true;
  // Reserved by replicas already placed there.
  double cpus_used = 0;
  uint64_t memory_used = 0;
  int64_t gpus_used = 0;
  std::map<std::string, int> replicas_of_service;  // service -> count (for spread)
};

struct PlacementResult {
  std::string node;          // "" when infeasible
  std::string explanation;   // why infeasible: "no node has a free gpu (1 needed; local: 0)"
};

PlacementResult place(const ServiceSpec& service, const std::vector<NodeInfo>& nodes);

}  // namespace stack::sched
