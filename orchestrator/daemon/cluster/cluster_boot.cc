#include "orchestrator/daemon/cluster/cluster_boot.h"

#include <spdlog/spdlog.h>

#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/store/etcd_store.h"

#include <filesystem>

namespace stack::orch {

EtcdMemberOptions member_options(const std::string& root, const cluster::ClusterConfig& config,
                                 const std::string& etcd_binary) {
  const auto paths = cluster::ClusterPaths::under(root);
  EtcdMemberOptions m;
  m.binary = etcd_binary;
  m.name = config.node_id;
  m.dir = paths.etcd_dir;
  m.advertise_addr = config.advertise_addr;
  m.client_port = config.etcd_client_port;
  m.peer_port = config.etcd_peer_port;
  m.initial_cluster = config.etcd_initial_cluster;
  m.initial_state = config.etcd_initial_state;
  m.ca_file = paths.ca_cert;
  m.cert_file = paths.node_cert;
  m.key_file = paths.node_key;
  return m;
}

stack::Result<std::unique_ptr<ClusterNode>> boot_cluster_node(const std::string& root,
                                                              const cluster::ClusterConfig& config,
                                                              const std::string& etcd_binary) {
  auto node = std::make_unique<ClusterNode>();
  node->config = config;
  if (config.role == cluster::Role::Manager) {
    auto member = EtcdMember::start(member_options(root, config, etcd_binary));
    if (!member) return tl::unexpected(member.error());
    node->member = std::move(*member);
  } else {
    // A demoted manager's member data (its member was removed from etcd).
    std::error_code ec;
    std::filesystem::remove_all(cluster::ClusterPaths::under(root).etcd_dir, ec);
  }
  auto store = open_etcd_store(cluster_etcd_options(root, config));
  if (!store) return tl::unexpected(store.error().wrap("cluster store"));
  node->store = std::move(*store);
  auto agent = NodeAgent::start(*node->store, config);
  if (!agent) return tl::unexpected(agent.error());
  node->agent = std::move(*agent);
  spdlog::info("cluster {}: node {} ({}) on etcd {}", config.cluster_id, config.node_id,
               cluster::role_name(config.role), config.etcd_endpoints.front());
  return node;
}

}  // namespace stack::orch
