// The leader's view of the cluster's nodes (a NodeDirectory for its
// supervisors): every node record (nodes/<id>) with its readiness (the
// heartbeat key alive/<id>), and for each node a RemoteNode, the LocalNode
// interface over the store:
//
//   create_and_start  put assign/<node>/<id>, wait for the node's report in
//                     tasks/<node>/<id> (running or failed), or the node down
//   watch             the report turning "exited"
//   signal            put signals/<node>/<id>
//   remove            delete the assignment; wait until the node deleted its
//                     report (a down node cleans up when it returns)
//   reattach          the last report
//   probe             put probes/<node>/<id>, wait for the answer in the report
//   logs, top, stats  asked of the node that runs the replica, on its
//                     cluster endpoint (node_routes.h, peer_client.h)
//   exec              run there, its stdio relayed as exec frames over the
//                     node's endpoint (remote_exec.h): -it, stdin and the exit
//                     code as for a replica here. This node's own: all here
//
// Three PrefixFollowers (nodes/, alive/, tasks/) keep the cache; a change of
// the set or of a node's readiness calls on_change (outside the lock).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "orchestrator/api/cluster_types.h"
#include "orchestrator/daemon/cluster/assignment.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/cluster/prefix_follower.h"
#include "orchestrator/daemon/engine/node_directory.h"
#include "orchestrator/daemon/store/grouped_writes.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class ClusterNodes final : public NodeDirectory {
 public:
  // Reads the nodes and reports (so that restore() sees them), then watches.
  // `self`/`self_node`: this node's id and hands: its replicas' exec, logs,
  // top and stats run here directly.
  // `credentials`: this node's, for asking the others (peer_client.h).
  static stack::Result<std::shared_ptr<ClusterNodes>> open(StateStore& store, std::string self, LocalNode* self_node,
                                                           PeerCredentials credentials);
  ~ClusterNodes() override;

  std::vector<sched::NodeInfo> nodes() override;
  LocalNode* find(const std::string& id) override;
  void on_change(std::function<void()> fn) override;

  // For RemoteNode (cluster_nodes.cc).
  bool ready(const std::string& node);
  // Waits until `done` holds for the report of `id` (nullptr: none), the
  // node is down, or `limit` passes; returns the last report seen.
  std::optional<TaskReport> wait_report(const std::string& node, const std::string& id,
                                        const std::function<bool(const TaskReport*)>& done,
                                        std::chrono::milliseconds limit);
  void watch_exit(const std::string& id, std::function<void(const ExitInfo&)> fn);
  void cancel_watches(const std::vector<std::string>& ids);
  // GET `target` of node `node`'s cluster endpoint (node_routes.h); with a
  // body, POST it.
  stack::Result<nlohmann::json> ask(const std::string& node, const std::string& target, const std::string& body = "",
                                    int timeout_s = 10);
  // An exec in container `id` on node `node` (remote_exec.h).
  stack::Result<std::unique_ptr<ExecSession>> exec_on(const std::string& node, const std::string& id,
                                                      const ExecRequest& request);
  StateStore& store() { return store_; }
  // The assignments' puts, shared out into transactions (grouped_writes.h).
  GroupedWrites& assignments() { return assignments_; }
  // Writes `plan`'s source (assignment.h) unless this leader wrote it for
  // the same PlanSource already (a new one after `down` writes again), and
  // keeps its stack's kKeptSources newest: an assignment still unmade that
  // names an older one fails on its node and is placed again.
  stack::Result<void> publish_source(const ReplicaPlan& plan);
  static constexpr size_t kKeptSources = 4;
  LocalNode* self_node() { return self_node_; }
  const std::string& self() const { return self_; }

 private:
  ClusterNodes(StateStore& store, std::string self, LocalNode* self_node, PeerCredentials credentials)
      : store_(store), self_(std::move(self)), self_node_(self_node), credentials_(std::move(credentials)) {}
  // Node `node`'s cluster endpoint: its address and port.
  stack::Result<std::pair<std::string, int>> endpoint(const std::string& node);
  // List `prefix`, apply, then watch from there; again after a lost watch.
  void apply_node(const std::string& id, const std::string* value);
  void apply_alive(const std::string& id, const std::string* value);
  void apply_task(const std::string& rest, const std::string* value);
  void changed();
  // Wakes the waiters of container `id`; "" wakes them all (a node's
  // readiness changed, or stopping). Takes mu_.
  void notify_waiters(const std::string& id);

  StateStore& store_;
  GroupedWrites assignments_{store_};
  const std::string self_;
  LocalNode* const self_node_;
  const PeerCredentials credentials_;
  std::mutex sources_mu_;  // guards published_ (held while one is written)
  std::map<std::string, std::weak_ptr<const PlanSource>> published_;
  std::mutex mu_;  // guards what follows
  // wait_report's waiters by container id (each on its own stack).
  std::multimap<std::string, std::condition_variable*> waiters_;
  bool stopping_ = false;
  struct Entry {
    NodeView view;
    bool alive = false;
    std::unique_ptr<LocalNode> node;  // a RemoteNode
  };
  std::map<std::string, Entry> nodes_;
  std::map<std::string, TaskReport> reports_;  // container id -> the node's last report
  std::map<std::string, std::function<void(const ExitInfo&)>> exit_watches_;
  std::function<void()> on_change_;
  std::vector<std::unique_ptr<PrefixFollower>> followers_;  // last: stopped first
};

}  // namespace stack::orch
