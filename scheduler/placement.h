// Placement: which node runs a replica. Nomad's shape: feasibility filters
// (resources left, GPUs, constraints), then ranking (bin-pack by default,
// spread of a service's replicas across nodes as a tie-break). Pure: nodes
// are described, never asked. One node today ("local"), many later.
#pragma once

#include <map>
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
  std::string role;         // manager | worker ("" on one host)
  std::string os, arch;     // OCI platform names: linux, amd64
  bool ready = true;        // its heartbeat runs; a known node not ready has its tasks lost
  bool active = true;       // availability active; pause/drain take no new replicas
  bool drain = false;       // availability drain: its replicas move to other nodes
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

// Whether `node` meets every placement constraint of `service` (false for
// a constraint that does not parse: place() names it). Capacity and
// availability are not looked at.
bool meets_constraints(const ServiceSpec& service, const NodeInfo& node);

// Puts every Create and Restart action of `decision` on a node (Action::node),
// in the decision's order. Each node's load is what its replicas reserve
// (observed Running or Stopping there, by their service's requirements)
// plus what this function placed on it before; `nodes` carry capacity, the
// loads are computed here. (A Created container holds nothing: it is
// started by a Restart, placed like any other.) A Restart stays on its replica's
// node while that node can take it (its named volumes are there); otherwise,
// and for a Create, place() chooses. An action that names its node already
// (a global service's, slots.h) goes there or nowhere. An action no node can take is dropped
// and its service gets one `blocked` line, "web blocked: no node satisfies:
// local: 0 of 1 gpu free": the slot stays as it is, and the next reconcile
// tries again (a replica that exits frees its reservation).
void place_actions(Decision& decision, const StackSpec& desired, const ObservedStack& observed,
                   std::vector<NodeInfo> nodes);

}  // namespace stack::sched
