// What a node knows of its cluster, on disk under <root>/cluster/: the
// cluster's CA certificate, this node's key and certificate (signed by the
// CA, its role in the O field), on managers the CA's key, and cluster.json
// (this file's ClusterConfig). stackd reads it at start: present, the node
// runs in cluster mode on etcd; absent, it is a single node on SQLite.
// cluster.json is written last, so a directory without it is an init or a
// join that did not finish, and is removed (ClusterPaths::discard_partial).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "orchestrator/cluster/pki.h"

namespace stack::cluster {

struct ClusterPaths {
  std::string dir;        // <root>/cluster
  std::string config;     // cluster.json
  std::string ca_cert;    // ca.pem
  std::string ca_key;     // ca.key (managers; 0600)
  std::string node_cert;  // node.pem
  std::string node_key;   // node.key (0600)
  std::string etcd_dir;   // <root>/etcd: a manager's etcd member (data/, etcd.log)
  static ClusterPaths under(const std::string& root);
};

struct ClusterConfig {
  std::string cluster_id;
  std::string node_id;
  Role role = Role::Worker;
  std::string advertise_addr;  // an IP address of this node others reach it on
  int api_port = 2377;         // the TLS endpoint where nodes join (as Swarm's)
  int etcd_client_port = 2379;
  int etcd_peer_port = 2380;
  // How this node reaches etcd (https://IP:port, the local member first on
  // a manager).
  std::vector<std::string> etcd_endpoints;
  // A manager's etcd member at its first start: etcd's --initial-cluster and
  // --initial-cluster-state ("new" for the first manager, "existing" for one
  // that joined). etcd ignores both once its data directory exists.
  std::string etcd_initial_cluster;
  std::string etcd_initial_state = "new";
};

// nullopt when the node is in no cluster (no cluster.json).
stack::Result<std::optional<ClusterConfig>> load_cluster_config(const std::string& root);
// Writes cluster.json atomically (and durably: it is the commit point).
stack::Result<void> save_cluster_config(const std::string& root, const ClusterConfig& config);

// Held (flock on <root>/cluster.lock, outside the directory a leave
// removes) by whoever reads cluster.json to write it back or removes it:
// stackd's endpoint follower rewrites the endpoints every few seconds, and
// without the lock it could write back the role a promotion just replaced,
// or bring back a file `node leave` just removed. Blocks until held.
stack::Result<UniqueFd> lock_cluster_files(const std::string& root);

// A PEM file (or cluster.json) of <root>/cluster: atomic and durable, with
// its mode from the start (keys 0600).
stack::Result<void> write_cluster_file(const std::string& path, const std::string& content, unsigned mode);

// The URLs etcd is told for a member: https://<addr>:<port>.
std::string https_url(const std::string& addr, int port);
// Where nodes join this one: <addr>:<api_port> ([addr] for IPv6).
std::string join_address(const ClusterConfig& config);

}  // namespace stack::cluster
