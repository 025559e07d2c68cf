// A manager admits a joining node (POST /v1/join): the token's secret picks
// the role (worker or manager) or refuses; the CSR's own signature and node
// id are checked and only its CN is taken; the node id must be new; the CA
// (from the store, so any manager can admit) signs a certificate for the
// node's advertise address. A manager's etcd member is added to the etcd
// cluster, and the reply says how to start it. The node's record is
// reserved at once, so `node ls` shows it (down until its first heartbeat).
#pragma once

#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/cluster/join_wire.h"
#include "orchestrator/daemon/store/etcd_auth.h"
#include "orchestrator/daemon/store/etcd_store.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

// What a node's certificate says: its advertise address, and on a manager
// also loopback (its local etcd member) and the managers' shared etcd name
// (cluster_keys::kEtcdServerName); 365 days.
cluster::NodeCertSpec node_cert_spec(cluster::Role role, const std::string& advertise_addr);

// The etcd permissions of a worker's user (its role of the same name).
std::vector<EtcdPermission> worker_permissions(const std::string& node_id);

// Fills reply.etcd_endpoints with the managers' members as a node reaches
// them; with `new_peer_url`, first adds a member there (waiting out etcd's
// strict reconfiguration check) and fills reply.etcd_initial_cluster for it
// (named reply.node_id).
stack::Result<void> etcd_view(const EtcdOptions& etcd, JoinReply& reply, const std::string& new_peer_url);

// `self` is the admitting manager; `etcd` how it reaches etcd (for the
// membership change). A refused secret is EACCES; a node id in use EEXIST;
// a bad request EINVAL.
stack::Result<JoinReply> admit_node(StateStore& store, const cluster::ClusterConfig& self, const EtcdOptions& etcd,
                                    const JoinRequest& request);

}  // namespace stack::orch
