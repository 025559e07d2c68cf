// The nodes a Supervisor places replicas on and reaches them through.
//
// One host: StaticNodes, a fixed set read once ({"local": the LocalNode}).
// A cluster: the leader's ClusterNodes (daemon/cluster/cluster_nodes.h),
// which follows node records and heartbeats in the cluster store, so the set
// and each node's readiness change under a running supervisor: placement sees
// them at every reconcile, and a node that is known but not ready has its
// tasks treated as lost (scheduler/reconcile.h).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/daemon/node/local_node.h"
#include "scheduler/placement.h"

namespace stack::orch {

class NodeDirectory {
 public:
  virtual ~NodeDirectory() = default;
  // Every known node with its capacity and readiness (loads are computed by
  // placement from the replicas).
  virtual std::vector<sched::NodeInfo> nodes() = 0;
  // The node's hands; nullptr when the node is unknown (never was, or was
  // removed). The node outlives every supervisor that uses it.
  virtual LocalNode* find(const std::string& id) = 0;
  // `fn` is called (from the directory's thread) whenever the set or a
  // node's readiness changes; nullptr unsets it. A fixed set never calls it.
  virtual void on_change(std::function<void()> fn) { (void)fn; }
};

// Node id -> node, fixed. Capacity is read once: a host's hardware does not
// change under a running daemon.
class StaticNodes final : public NodeDirectory {
 public:
  explicit StaticNodes(std::map<std::string, LocalNode*> nodes) : nodes_(std::move(nodes)) {
    for (const auto& [id, node] : nodes_) {
      sched::NodeInfo info = node->describe();
      info.id = id;
      infos_.push_back(std::move(info));
    }
  }
  std::vector<sched::NodeInfo> nodes() override { return infos_; }
  LocalNode* find(const std::string& id) override {
    auto it = nodes_.find(id);
    return it == nodes_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, LocalNode*> nodes_;
  std::vector<sched::NodeInfo> infos_;
};

}  // namespace stack::orch
