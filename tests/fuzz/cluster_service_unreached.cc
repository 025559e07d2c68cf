// fuzz_api_request runs the cluster routes' parsing too (cluster_routes.cc,
// cluster_json.cc); the service behind them makes a CA, starts etcd and
// restarts stackd, none of which a fuzzer may do. Its stub refuses
// everything, as a node in no cluster does; the service's own tests are
// tests/integration/cluster_init_test.cc.
#include "orchestrator/daemon/cluster/cluster_service.h"

namespace stack::orch {

stack::Result<ClusterJoinInfo> ClusterService::init(const ClusterInitRequest&) {
  return stack::fail("not in the fuzz target", ENOTCONN);
}
stack::Result<ClusterJoinResult> ClusterService::join(const ClusterJoinRequest&) {
  return stack::fail("not in the fuzz target", ENOTCONN);
}
stack::Result<std::vector<NodeView>> ClusterService::nodes() { return stack::fail("not in the fuzz target", ENOTCONN); }
stack::Result<ClusterJoinInfo> ClusterService::join_info() { return stack::fail("not in the fuzz target", ENOTCONN); }
stack::Result<NodeView> ClusterService::update_node(const std::string&, const NodeUpdateRequest&) {
  return stack::fail("not in the fuzz target", ENOTCONN);
}
stack::Result<NodeView> ClusterService::inspect_node(const std::string&) {
  return stack::fail("not in the fuzz target", ENOTCONN);
}
stack::Result<NodeView> ClusterService::remove_node(const std::string&, bool) {
  return stack::fail("not in the fuzz target", ENOTCONN);
}
stack::Result<NodeView> ClusterService::leave() { return stack::fail("not in the fuzz target", ENOTCONN); }
stack::Result<NodeView> ClusterService::change_role(const std::string&, cluster::Role) {
  return stack::fail("not in the fuzz target", ENOTCONN);
}
void ClusterService::after_reply() {}

}  // namespace stack::orch
