// An exec on a replica that another node of the cluster runs, for the
// leader's engine (RemoteNode, cluster_nodes.cc). That node's endpoint runs
// it (node_routes.h, open_node_exec) and relays its stdio as exec frames
// (orchestrator/api/framing.h); the leader hands the client's socket to
// this session, which relays the frames both ways unchanged. So a terminal,
// stdin, window resizes and the exit code work as for a replica of the
// leader's own:
//
//   stack exec -it ──unix──> leader's API ──TLS, manager cert──> node's endpoint
//                            (relay_client)                       relay_frames ── runtime exec
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "orchestrator/api/types.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/node/exec_session.h"

namespace stack::orch {

// Asks node `node` (its endpoint at address:port) to exec `request` in
// container `id`; its refusal comes back as an error carrying the node's
// message.
stack::Result<std::unique_ptr<ExecSession>> open_remote_exec(const PeerCredentials& credentials,
                                                             const std::string& node, const std::string& address,
                                                             int port, const std::string& id,
                                                             const ExecRequest& request);

}  // namespace stack::orch
