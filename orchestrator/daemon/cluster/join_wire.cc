#include "orchestrator/daemon/cluster/join_wire.h"

#include "orchestrator/api/api_json.h"

namespace stack::orch {

using nlohmann::json;

json to_json(const JoinRequest& r) {
  return {{"secret", r.secret},
          {"csr", r.csr},
          {"hostname", r.hostname},
          {"advertise_addr", r.advertise_addr},
          {"etcd_client_port", r.etcd_client_port},
          {"etcd_peer_port", r.etcd_peer_port}};
}

json to_json(const JoinReply& r) {
  return {{"cluster_id", r.cluster_id}, {"node_id", r.node_id},
          {"role", r.role},             {"cert", r.cert},
          {"ca", r.ca},                 {"etcd_endpoints", r.etcd_endpoints},
          {"etcd_initial_cluster", r.etcd_initial_cluster}};
}

stack::Result<JoinRequest> join_request_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"secret", "csr", "hostname", "advertise_addr", "etcd_client_port", "etcd_peer_port"},
                         "join request"));
  JoinRequest r;
  STACK_TRY(read_field(j, "secret", r.secret));
  STACK_TRY(read_field(j, "csr", r.csr));
  STACK_TRY(read_field(j, "hostname", r.hostname));
  STACK_TRY(read_field(j, "advertise_addr", r.advertise_addr));
  STACK_TRY(read_field(j, "etcd_client_port", r.etcd_client_port));
  STACK_TRY(read_field(j, "etcd_peer_port", r.etcd_peer_port));
  return r;
}

stack::Result<JoinReply> join_reply_from_json(const json& j) {
  STACK_TRY(check_fields(j, {"cluster_id", "node_id", "role", "cert", "ca", "etcd_endpoints", "etcd_initial_cluster"},
                         "join reply"));
  JoinReply r;
  STACK_TRY(read_field(j, "cluster_id", r.cluster_id));
  STACK_TRY(read_field(j, "node_id", r.node_id));
  STACK_TRY(read_field(j, "role", r.role));
  STACK_TRY(read_field(j, "cert", r.cert));
  STACK_TRY(read_field(j, "ca", r.ca));
  STACK_TRY(read_field(j, "etcd_endpoints", r.etcd_endpoints));
  STACK_TRY(read_field(j, "etcd_initial_cluster", r.etcd_initial_cluster));
  return r;
}

}  // namespace stack::orch
