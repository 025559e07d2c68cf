// What a manager may ask a node about the replicas the node runs, on the
// node's cluster endpoint (peer_server.h). Only a caller whose certificate
// the cluster's CA signed for a manager is answered (403 otherwise): a
// worker's certificate reads nothing of another node.
//   GET /v1/node/containers/<id>/top    the replica's `top` (JSON)
//   GET /v1/node/containers/<id>/stats  its `stats` (JSON)
//   GET /v1/node/containers/<id>/logs   {"files": [...]}: its json-file log
//                                       files, oldest first
//   GET /v1/node/containers/<id>/logs?file=F&offset=N
//       {"lines": [...], "offset": M}: read_complete_lines() of F, one of
//       those files (no other path is read), about 1 MiB at most
//   POST /v1/node/containers/<id>/exec with Upgrade: stack-stream
//       an exec (ExecRequest as JSON): 101, then exec frames both ways
//       (open_node_exec; the peer server relays them; remote_exec.h)
// The leader's RemoteNode (cluster_nodes.cc) is the client.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "orchestrator/daemon/cluster/peer_server.h"
#include "orchestrator/daemon/node/local_node.h"

namespace stack::orch {

bool is_node_route(const std::string& target);
// The exec route's target for container `id`.
std::string node_exec_target(const std::string& id);
// The exec route: the caller and container checked, the exec started.
stack::Result<std::unique_ptr<ExecSession>> open_node_exec(LocalNode& node, const PeerRequest& request);
// -> (status, JSON body)
std::pair<int, std::string> serve_node_route(LocalNode& node, const PeerRequest& request);

}  // namespace stack::orch
