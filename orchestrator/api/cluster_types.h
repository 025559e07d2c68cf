// The cluster's part of the API (docs/api.md, "Cluster"): what `stack node
// init`, `node ls` and `node join-token` exchange with stackd. Plain structs;
// cluster_json.h gives them their JSON form.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stack::orch {

// One line of `stack node ls`. Also the node's record in the store
// (nodes/<id>), where the fields the record does not hold (status, leader,
// self, tasks) are filled in when it is read.
struct NodeView {
  std::string id;
  std::string hostname;
  std::string address;       // the advertise address
  int api_port = 2377;       // its cluster endpoint (peer_server.h) on that address
  std::string role;          // manager | worker
  bool leader = false;
  std::string status;        // ready | down (its heartbeat lease)
  std::string availability = "active";  // active | pause | drain
  int cpus = 0;
  int64_t memory_bytes = 0;
  int gpus = 0;
  int tasks = 0;
  std::map<std::string, std::string> labels;
  std::string os, arch;
  bool self = false;  // the node whose stackd answered
};

struct ClusterInitRequest {
  std::string advertise_addr;  // "" = this host's one non-loopback address
  int api_port = 0;            // 0 = the default (2377, 2379, 2380)
  int etcd_client_port = 0;
  int etcd_peer_port = 0;
};

// What `node init` and `node join-token` print.
struct ClusterJoinInfo {
  std::string cluster_id;
  std::string node_id;
  std::string manager_address;  // addr:port where nodes join
  std::string worker_token;
  std::string manager_token;
};

// `stack node update`: what changes ("" availability: unchanged).
struct NodeUpdateRequest {
  std::string availability;                    // active | pause | drain
  std::map<std::string, std::string> label_add;
  std::vector<std::string> label_rm;
};

struct ClusterJoinRequest {
  std::string token;
  std::string manager;         // host:port of a manager's join endpoint
  std::string advertise_addr;  // "" = as for init
  int api_port = 0;            // 0 = the defaults; a joining manager's own
  int etcd_client_port = 0;
  int etcd_peer_port = 0;
};

struct ClusterJoinResult {
  std::string cluster_id;
  std::string node_id;
  std::string role;  // worker | manager
};

}  // namespace stack::orch
