// The cluster's routes (docs/api.md, "Cluster"): POST /v1/cluster/init,
// GET /v1/cluster/join-tokens and GET /v1/nodes, answered by the daemon's
// ClusterService (ServerInfo::cluster). Root's only: the authorization
// policy for other callers has no rule that allows them.
#pragma once

#include "orchestrator/daemon/server/http_routes.h"

namespace stack::orch {

bool is_cluster_route(const std::string& path);
void handle_cluster_request(const ServerInfo& info, const ApiRequest& request, ApiResponder& out);

}  // namespace stack::orch
