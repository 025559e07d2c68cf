// `node inspect` and `node rm`: ClusterService's verbs on one node of the
// cluster (cluster_service.h), and the lookup of a node by what the user
// typed, which every per-node verb shares.
#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/cluster_service.h"
#include "orchestrator/daemon/store/etcd_auth.h"
#include "orchestrator/daemon/store/etcd_members.h"

namespace stack::orch {

stack::Result<void> ClusterService::require_manager(const std::string& verb) const {
  STACK_TRY(require_cluster());
  if (config_->role != cluster::Role::Manager)
    return stack::fail(verb + ": this node is a worker; run it on a manager", EPERM);
  return {};
}

stack::Result<NodeView> ClusterService::resolve_node(const std::string& ref, const std::string& verb) {
  auto all = nodes();
  if (!all) return tl::unexpected(all.error());
  const NodeView* found = nullptr;
  int matches = 0;
  for (const auto& n : *all)
    if (n.id == ref) {
      found = &n;
      matches = 1;
      break;
    } else if (n.id.rfind(ref, 0) == 0 || n.hostname == ref) {
      found = &n;
      matches++;
    }
  if (ref.empty() || matches == 0) return stack::fail(verb + ": no such node: " + ref, ENOENT);
  if (matches > 1)
    return stack::fail(verb + ": \"" + ref + "\" names " + std::to_string(matches) + " nodes: give the id", EINVAL);
  return *found;
}

stack::Result<NodeView> ClusterService::inspect_node(const std::string& ref) {
  STACK_TRY(require_cluster());
  auto node = resolve_node(ref, "node inspect");
  if (!node) return node;
  auto assigned = store_.list(cluster_keys::assign(node->id));
  if (!assigned) return tl::unexpected(assigned.error());
  node->tasks = static_cast<int>(assigned->size());
  return node;
}

stack::Result<NodeView> ClusterService::remove_node(const std::string& ref, bool force) {
  STACK_TRY(require_manager("node rm"));
  auto node = resolve_node(ref, "node rm");
  if (!node) return node;
  if (node->id == config_->node_id)
    return stack::fail("node rm: " + node->id + " is this node: run `stack node rm` on another manager", EINVAL);
  if (node->status == "ready" && !force)
    return stack::fail("node rm: " + node->id + " (" + node->hostname +
                           ") is not down and can't be removed: stop its stackd first, or use --force "
                           "(its containers keep running there, cut off)",
                       EBUSY);
  EtcdOptions etcd = cluster_etcd_options(options_.root, *config_);
  if (node->role == "manager") {
    // Its etcd member first: a cluster that cannot lose it (quorum) refuses,
    // and nothing else has changed yet.
    auto admin = EtcdAdmin::open(etcd);
    if (!admin) return tl::unexpected(admin.error().wrap("node rm: etcd members"));
    STACK_TRY_CTX(admin->remove_member_named(node->id), "node rm: remove its etcd member");
  }
  Txn t;
  t.success = {StoreOp{StoreOp::Delete, cluster_keys::node(node->id), "", 0},
               StoreOp{StoreOp::Delete, cluster_keys::alive(node->id), "", 0}};
  for (const std::string& prefix : {cluster_keys::assign(node->id), cluster_keys::tasks(node->id),
                                    cluster_keys::signals(node->id), cluster_keys::probes(node->id)})
    t.success.push_back(StoreOp{StoreOp::DeletePrefix, prefix, "", 0});
  auto done = store_.txn(t);
  if (!done) return tl::unexpected(done.error().wrap("node rm"));
  if (auto gone = etcd_remove_user(etcd, node->id); !gone)
    spdlog::warn("node rm: {} (its certificate still opens etcd)", gone.error().message());
  spdlog::info("cluster: node {} ({}) removed{}", node->id, node->hostname, force ? " (forced)" : "");
  return node;
}

}  // namespace stack::orch
