// `stack node join --token TOKEN MANAGER:PORT`: this single node joins a
// cluster. Before anything is sent it fetches the manager's CA and checks
// its digest against the token (a wrong cluster, or someone in between, is
// refused here); then it makes its key (which never leaves it) and a CSR
// for a new node id, sends the CSR with the token's secret over TLS that
// must verify against that CA and the manager's address, and gets back its
// certificate, its role and where etcd is. cluster.json is written last, the
// commit point; stackd then restarts onto the cluster's etcd (a manager
// starts its etcd member there, joining the existing members).
//
// A failure before the commit leaves nothing of the join on this node.
#pragma once

#include <string>

#include "base/error.h"

namespace stack::orch {

struct ClusterJoinPlan {
  std::string root;
  std::string token;
  std::string manager;         // host:port of a manager's join endpoint
  std::string advertise_addr;  // "" = chosen as for init
  int etcd_client_port = 2379;  // for a manager's member
  int etcd_peer_port = 2380;
  int api_port = 2377;
};

struct ClusterJoined {
  std::string cluster_id, node_id, role;
};

stack::Result<ClusterJoined> join_cluster(const ClusterJoinPlan& plan);

}  // namespace stack::orch
