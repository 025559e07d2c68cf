// `stack node init`: this single node becomes the first manager of a new
// cluster. It makes the cluster's CA and its own manager certificate, starts
// its etcd member (mutual TLS), copies its state from SQLite into etcd, stores
// the CA and the join secrets there, and writes <root>/cluster/cluster.json
// last: the commit point. stackd then restarts itself onto etcd (stackd_main;
// containers keep running and are adopted, as after any restart).
//
// A failure before the commit leaves nothing: the member is stopped and
// <root>/cluster and <root>/etcd are removed.
#pragma once

#include <string>

#include "orchestrator/api/cluster_types.h"
#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/store/etcd_store.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

struct ClusterInitPlan {
  std::string root;
  std::string etcd_binary = "/usr/bin/etcd";
  ClusterInitRequest request;
};

// The join tokens and where to join.
stack::Result<ClusterJoinInfo> init_cluster(const ClusterInitPlan& plan, StateStore& local);

// The options to reach this node's cluster store with its certificate.
EtcdOptions cluster_etcd_options(const std::string& root, const cluster::ClusterConfig& config);

}  // namespace stack::orch
