// What the API's cluster routes (server/cluster_routes.h) ask of stackd:
// `node init` on a single node, and on a cluster node the list of nodes and
// the join tokens. One per stackd; main() builds it with what it runs on.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/api/cluster_types.h"
#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/cluster/peer_server.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

struct ClusterServiceOptions {
  std::string root;
  std::string etcd_binary = "/usr/bin/etcd";
  // Called once the reply to an init, a join or a leave was sent: stackd
  // restarts (onto etcd, or as a single node again).
  std::function<void()> restart;
  // `node leave`: removes every container and network this node's
  // assignments made, and the node-local copies of stacks (main() binds it
  // to the NodeHost).
  std::function<stack::Result<void>()> release_host;
  // `node leave` on a manager: gives up the leader key for good (main()
  // binds it to the NodeAgent).
  std::function<void()> resign_leadership;
};

class ClusterService {
 public:
  // `config` is this node's cluster (nullopt: a single node on `store`).
  ClusterService(ClusterServiceOptions options, StateStore& store, std::optional<cluster::ClusterConfig> config)
      : options_(std::move(options)), store_(store), config_(std::move(config)) {}

  // A single node only (EEXIST on a cluster node).
  stack::Result<ClusterJoinInfo> init(const ClusterInitRequest& request);
  stack::Result<ClusterJoinResult> join(const ClusterJoinRequest& request);
  // A manager's join routes on its cluster endpoint (peer_server.h): GET /v1/join/ca and POST
  // /v1/join; (status, JSON body).
  std::pair<int, std::string> serve_join(const std::string& method, const std::string& target,
                                         const std::string& body);
  // A cluster node only (ENOTCONN on a single node): every node, sorted by
  // role (managers first) then hostname.
  stack::Result<std::vector<NodeView>> nodes();
  // `node update`: `ref` is a node id, a unique id prefix or a unique
  // hostname. Written with compare-and-swap on the record; the node as `ls`
  // shows it after.
  stack::Result<NodeView> update_node(const std::string& ref, const NodeUpdateRequest& request);
  // `node inspect` (node_admin.cc): the node as `ls` shows it, with its
  // task count (what is assigned to it).
  stack::Result<NodeView> inspect_node(const std::string& ref);
  // `node rm` (node_admin.cc, on a manager): forgets a node. Refused for
  // this node itself, and for a node that is not down unless `force`. Its
  // record, heartbeat, assignments, reports, signals and probes go, and its
  // etcd user (its certificate opens nothing any more); a manager's etcd
  // member is removed too. The leader replaces its replicas elsewhere.
  stack::Result<NodeView> remove_node(const std::string& ref, bool force);
  // `node leave` (node_admin.cc, on the node itself): a worker stops
  // everything it runs for the cluster, takes its heartbeat and reports
  // away (the leader sees it down at once and replaces its replicas),
  // forgets its certificates and restarts as a single node; `node ls`
  // shows it down until `node rm`. A manager first hands the lead to
  // another manager (when it has it), and last removes its etcd member and
  // user; refused, with nothing changed, for the last manager and when the
  // members left could not form etcd's quorum (leave_checks).
  stack::Result<NodeView> leave();
  // `node promote` / `node demote` (role_change.cc, on a manager): the node
  // gets a certificate for its new role (signed here for the key it holds),
  // its etcd user the matching rights, and as a manager an etcd member
  // (demoted: its member is removed); it then restarts in that role. The
  // last manager, and the node answering, are not demoted.
  stack::Result<NodeView> change_role(const std::string& ref, cluster::Role to);
  // The node's side of it, on its cluster endpoint (managers only):
  //   GET  /v1/node/identity/csr   {"csr","etcd_client_port","etcd_peer_port"}
  //   POST /v1/node/identity/role  {"role","cert","etcd_initial_cluster","etcd_endpoints"}
  // The second checks the certificate (this node's id and key, the role
  // asked, the cluster's CA), writes it and the new cluster.json, answers,
  // then restarts stackd.
  static bool is_identity_route(const std::string& target);
  PeerReply serve_identity(const PeerRequest& request);
  stack::Result<ClusterJoinInfo> join_info();
  // Runs what a reply asked for after it went out (the restart after init).
  void after_reply();

 private:
  stack::Result<void> require_cluster() const;
  stack::Result<void> require_single_node() const;
  stack::Result<void> require_manager(const std::string& verb) const;
  // A node id, a unique id prefix or a unique hostname -> the node.
  stack::Result<NodeView> resolve_node(const std::string& ref, const std::string& verb);
  // node_admin.cc: a manager's leave, before and after what a worker does.
  stack::Result<void> manager_leave_checks();
  stack::Result<void> hand_over_the_lead();
  stack::Result<void> remove_own_member();

  ClusterServiceOptions options_;
  StateStore& store_;
  std::optional<cluster::ClusterConfig> config_;
  std::mutex mu_;  // one init or join at a time
  bool restart_pending_ = false;
};

}  // namespace stack::orch
