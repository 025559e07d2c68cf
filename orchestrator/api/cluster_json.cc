#include "orchestrator/api/cluster_json.h"

#include "orchestrator/api/api_json.h"

namespace stack::orch {

using nlohmann::json;

json to_json(const NodeView& n) {
  return {{"id", n.id},         {"hostname", n.hostname}, {"address", n.address}, {"api_port", n.api_port},
          {"role", n.role},     {"leader", n.leader},     {"status", n.status},
          {"availability", n.availability}, {"cpus", n.cpus}, {"memory_bytes", n.memory_bytes},
          {"gpus", n.gpus},     {"tasks", n.tasks},       {"labels", n.labels},
          {"os", n.os},         {"arch", n.arch},         {"self", n.self}};
}

json to_json(const ClusterInitRequest& r) {
  return {{"advertise_addr", r.advertise_addr}, {"api_port", r.api_port},
          {"etcd_client_port", r.etcd_client_port}, {"etcd_peer_port", r.etcd_peer_port}};
}

json to_json(const ClusterJoinInfo& i) {
  return {{"cluster_id", i.cluster_id}, {"node_id", i.node_id}, {"manager_address", i.manager_address},
          {"worker_token", i.worker_token}, {"manager_token", i.manager_token}};
}

json to_json(const ClusterJoinRequest& r) {
  return {{"token", r.token},       {"manager", r.manager},
          {"advertise_addr", r.advertise_addr}, {"api_port", r.api_port},
          {"etcd_client_port", r.etcd_client_port}, {"etcd_peer_port", r.etcd_peer_port}};
}

json to_json(const ClusterJoinResult& r) {
  return {{"cluster_id", r.cluster_id}, {"node_id", r.node_id}, {"role", r.role}};
}

stack::Result<NodeView> node_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"id", "hostname", "address", "api_port", "role", "leader", "status", "availability", "cpus",
                             "memory_bytes", "gpus", "tasks", "labels", "os", "arch", "self"},
                         "node"));
  NodeView n;
  STACK_TRY(read_field(j, "id", n.id));
  STACK_TRY(read_field(j, "hostname", n.hostname));
  STACK_TRY(read_field(j, "address", n.address));
  if (j.contains("api_port")) STACK_TRY(read_field(j, "api_port", n.api_port));  // absent in records before it
  STACK_TRY(read_field(j, "role", n.role));
  STACK_TRY(read_field(j, "leader", n.leader));
  STACK_TRY(read_field(j, "status", n.status));
  STACK_TRY(read_field(j, "availability", n.availability));
  STACK_TRY(read_field(j, "cpus", n.cpus));
  STACK_TRY(read_field(j, "memory_bytes", n.memory_bytes));
  STACK_TRY(read_field(j, "gpus", n.gpus));
  STACK_TRY(read_field(j, "tasks", n.tasks));
  STACK_TRY(read_field(j, "labels", n.labels));
  STACK_TRY(read_field(j, "os", n.os));
  STACK_TRY(read_field(j, "arch", n.arch));
  STACK_TRY(read_field(j, "self", n.self));
  return n;
}

stack::Result<std::vector<NodeView>> nodes_from_json(const json& j) {
  if (!j.is_array()) return stack::fail("nodes: expected a JSON array", EINVAL);
  std::vector<NodeView> out;
  for (const auto& n : j) {
    auto v = node_from_json(n);
    if (!v) return tl::unexpected(v.error());
    out.push_back(std::move(*v));
  }
  return out;
}

namespace {

// The fields a node's own endpoints share in init and join requests.
template <class Request>
stack::Result<void> read_ports(const json& j, Request& r, const std::string& where) {
  STACK_TRY(read_field(j, "advertise_addr", r.advertise_addr));
  STACK_TRY(read_field(j, "api_port", r.api_port));
  STACK_TRY(read_field(j, "etcd_client_port", r.etcd_client_port));
  STACK_TRY(read_field(j, "etcd_peer_port", r.etcd_peer_port));
  for (int port : {r.api_port, r.etcd_client_port, r.etcd_peer_port})
    if (port < 0 || port > 65535) return stack::fail(where + ": port " + std::to_string(port) + " out of range", EINVAL);
  return {};
}

}  // namespace

stack::Result<ClusterInitRequest> cluster_init_request_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"advertise_addr", "api_port", "etcd_client_port", "etcd_peer_port"}, "cluster init"));
  ClusterInitRequest r;
  STACK_TRY(read_ports(j, r, "cluster init"));
  return r;
}

stack::Result<ClusterJoinRequest> cluster_join_request_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"token", "manager", "advertise_addr", "api_port", "etcd_client_port", "etcd_peer_port"},
                         "cluster join"));
  ClusterJoinRequest r;
  STACK_TRY(read_field(j, "token", r.token));
  STACK_TRY(read_field(j, "manager", r.manager));
  STACK_TRY(read_ports(j, r, "cluster join"));
  if (r.token.empty()) return stack::fail("cluster join: field \"token\": required", EINVAL);
  if (r.manager.empty()) return stack::fail("cluster join: field \"manager\": required", EINVAL);
  return r;
}

json to_json(const NodeUpdateRequest& r) {
  return {{"availability", r.availability}, {"label_add", r.label_add}, {"label_rm", r.label_rm}};
}

stack::Result<NodeUpdateRequest> node_update_request_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"availability", "label_add", "label_rm"}, "node update"));
  NodeUpdateRequest r;
  STACK_TRY_CTX(read_field(j, "availability", r.availability), "node update");
  STACK_TRY_CTX(read_field(j, "label_add", r.label_add), "node update");
  STACK_TRY_CTX(read_field(j, "label_rm", r.label_rm), "node update");
  if (!r.availability.empty() && r.availability != "active" && r.availability != "pause" && r.availability != "drain")
    return stack::fail("node update: field \"availability\": \"" + r.availability + "\" is not active, pause or drain",
                       EINVAL);
  for (const auto& [k, _] : r.label_add)
    if (k.empty() || k.find('=') != std::string::npos)
      return stack::fail("node update: field \"label_add\": bad label key \"" + k + "\"", EINVAL);
  return r;
}

stack::Result<ClusterJoinResult> join_result_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"cluster_id", "node_id", "role"}, "cluster join result"));
  ClusterJoinResult r;
  STACK_TRY(read_field(j, "cluster_id", r.cluster_id));
  STACK_TRY(read_field(j, "node_id", r.node_id));
  STACK_TRY(read_field(j, "role", r.role));
  return r;
}

stack::Result<ClusterJoinInfo> join_info_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"cluster_id", "node_id", "manager_address", "worker_token", "manager_token"},
                         "cluster join info"));
  ClusterJoinInfo i;
  STACK_TRY(read_field(j, "cluster_id", i.cluster_id));
  STACK_TRY(read_field(j, "node_id", i.node_id));
  STACK_TRY(read_field(j, "manager_address", i.manager_address));
  STACK_TRY(read_field(j, "worker_token", i.worker_token));
  STACK_TRY(read_field(j, "manager_token", i.manager_token));
  return i;
}

}  // namespace stack::orch
