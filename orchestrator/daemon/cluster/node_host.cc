#include "orchestrator/daemon/cluster/node_host.h"

#include "orchestrator/daemon/cluster/single_node_adoption.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/store/net_state_store.h"

namespace stack::orch {

stack::Result<std::unique_ptr<NodeHost>> open_node_host(const EngineOptions& options, ClusterNode& cluster) {
  auto host = std::make_unique<NodeHost>();
  // The host's own state.db: as a single node its network state was there,
  // and the containers it keeps running through `node init` hold those
  // leases. (Its stacks moved into etcd; the copies left here are unused.)
  auto local = open_sqlite_store(options.root + "/state.db");
  if (!local) return tl::unexpected(local.error().wrap("node store"));
  host->node_store = std::move(*local);
  auto nm = net::NetworkManager::open(store_net_state(*host->node_store, options.root + "/net"));
  if (!nm) return tl::unexpected(nm.error().wrap("open network manager"));
  host->networks = std::move(*nm);
  auto node = LocalNode::open(options, *host->networks);
  if (!node) return tl::unexpected(node.error().wrap("open local node"));
  host->node = std::move(*node);
  auto adopted = adopt_single_node_replicas(*cluster.store, cluster.config.node_id, *host->node, *host->networks,
                                            options.root + "/volumes");
  if (!adopted) return tl::unexpected(adopted.error());
  auto runner = AssignmentRunner::start(*cluster.store, cluster.config.node_id, *host->node, *host->networks,
                                        options.root + "/volumes");
  if (!runner) return tl::unexpected(runner.error().wrap("assignments"));
  host->runner = std::move(*runner);
  return host;
}

stack::Result<void> release_node_host(NodeHost& host) {
  host.runner.reset();  // nothing new is created or reported from here on
  std::string failed;
  for (const auto& id : host.node->list_ids())
    if (auto rm = host.node->remove({id}); !rm) failed += "; container " + id + ": " + rm.error().message();
  for (const auto& n : host.networks->networks())
    if (auto rm = host.networks->remove_network(n.name); !rm) failed += "; network " + n.name + ": " + rm.error().message();
  if (auto rm = host.node_store->commit({{StoreOp::DeletePrefix, "stacks/", "", 0}, {StoreOp::DeletePrefix, "replicas/", "", 0}});
      !rm)
    failed += "; state: " + rm.error().message();
  if (!failed.empty()) return stack::fail("node leave: " + failed.substr(2));
  return {};
}

stack::Result<std::unique_ptr<Engine>> open_leader_engine(const EngineOptions& options, ClusterNode& cluster,
                                                          NodeHost& host) {
  auto directory = ClusterNodes::open(*cluster.store, cluster.config.node_id, host.node.get(),
                                     PeerCredentials::under(options.root));
  if (!directory) return tl::unexpected(directory.error().wrap("cluster nodes"));
  host.directory = *directory;
  return Engine::open_leader(options, *cluster.store,
                             ClusterEngineParts{host.networks.get(), host.node.get(), *directory,
                                                cluster.config.node_id});
}

}  // namespace stack::orch
