// JSON of the cluster types (cluster_types.h), strict on the way in as the
// rest of the API: an unknown field or a wrong type is an error naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "base/error.h"
#include "orchestrator/api/cluster_types.h"

namespace stack::orch {

nlohmann::json to_json(const NodeView& n);
nlohmann::json to_json(const ClusterInitRequest& r);
nlohmann::json to_json(const ClusterJoinInfo& i);
nlohmann::json to_json(const ClusterJoinRequest& r);
nlohmann::json to_json(const ClusterJoinResult& r);
nlohmann::json to_json(const NodeUpdateRequest& r);
// Checks the values too: availability, label keys.
stack::Result<NodeUpdateRequest> node_update_request_from_json(const nlohmann::json& j);

stack::Result<NodeView> node_from_json(const nlohmann::json& j);
stack::Result<std::vector<NodeView>> nodes_from_json(const nlohmann::json& j);
stack::Result<ClusterInitRequest> cluster_init_request_from_json(const nlohmann::json& j);
stack::Result<ClusterJoinInfo> join_info_from_json(const nlohmann::json& j);
stack::Result<ClusterJoinRequest> cluster_join_request_from_json(const nlohmann::json& j);
stack::Result<ClusterJoinResult> join_result_from_json(const nlohmann::json& j);

}  // namespace stack::orch
