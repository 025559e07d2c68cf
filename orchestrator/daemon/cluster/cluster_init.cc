#include "orchestrator/daemon/cluster/cluster_init.h"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "base/io.h"
#include "orchestrator/api/cluster_json.h"
#include "orchestrator/cluster/join_token.h"
#include "orchestrator/daemon/cluster/advertise_addr.h"
#include "orchestrator/daemon/cluster/cluster_admit.h"
#include "orchestrator/daemon/cluster/cluster_boot.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/etcd_member.h"
#include "orchestrator/daemon/cluster/partial_cluster.h"
#include "orchestrator/daemon/cluster/self_record.h"
#include "orchestrator/daemon/store/etcd_auth.h"
#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// etcd refuses a txn of more than 128 operations (--max-txn-ops).
constexpr size_t kCopyBatch = 100;

int or_default(int port, int fallback) { return port > 0 ? port : fallback; }

// A random id of `n` lowercase hex characters.
stack::Result<std::string> random_id(size_t n) {
  auto s = cluster::make_secret();
  if (!s) return tl::unexpected(s.error());
  return s->substr(0, n);
}

// Everything of the single node's store, in batches (revisions start anew
// in etcd; the values are what matters).
stack::Result<size_t> copy_state(StateStore& from, StateStore& to) {
  auto all = from.range("", RangeOptions{true, 0});
  if (!all) return tl::unexpected(all.error().wrap("read the single-node state"));
  std::vector<StoreOp> batch;
  for (const auto& kv : all->kvs) {
    batch.push_back({StoreOp::Put, kv.key, kv.value});
    if (batch.size() == kCopyBatch) {
      STACK_TRY_CTX(to.commit(batch), "copy the state into etcd");
      batch.clear();
    }
  }
  STACK_TRY_CTX(to.commit(batch), "copy the state into etcd");
  return all->kvs.size();
}

}  // namespace

EtcdOptions cluster_etcd_options(const std::string& root, const cluster::ClusterConfig& config) {
  auto paths = cluster::ClusterPaths::under(root);
  EtcdOptions o;
  o.endpoints = config.etcd_endpoints;
  o.ca_file = paths.ca_cert;
  o.cert_file = paths.node_cert;
  o.key_file = paths.node_key;
  o.tls_server_name = cluster_keys::kEtcdServerName;
  o.revision_probe_key = cluster_keys::kLeader;  // every node may read it
  // Compaction is etcd's root's: managers keep history short for everyone.
  if (config.role != cluster::Role::Manager) o.retain_revisions = 0;
  return o;
}

stack::Result<ClusterJoinInfo> init_cluster(const ClusterInitPlan& plan, StateStore& local) {
  const auto paths = cluster::ClusterPaths::under(plan.root);
  if (fs::exists(paths.config))
    return stack::fail("this node is already in a cluster (" + paths.config + ")", EEXIST);
  auto advertise = choose_advertise_addr(plan.request.advertise_addr);
  if (!advertise) return tl::unexpected(advertise.error());
  PartialCluster partial(paths);
  STACK_TRY(partial.start());

  cluster::ClusterConfig config;
  auto cluster_id = random_id(20);
  auto node_id = random_id(20);
  if (!cluster_id || !node_id) return tl::unexpected((cluster_id ? node_id : cluster_id).error());
  config.cluster_id = *cluster_id;
  config.node_id = *node_id;
  config.role = cluster::Role::Manager;
  config.advertise_addr = *advertise;
  config.api_port = or_default(plan.request.api_port, 2377);
  config.etcd_client_port = or_default(plan.request.etcd_client_port, 2379);
  config.etcd_peer_port = or_default(plan.request.etcd_peer_port, 2380);
  config.etcd_endpoints = {cluster::https_url("127.0.0.1", config.etcd_client_port)};
  config.etcd_initial_cluster = config.node_id + "=" + cluster::https_url(*advertise, config.etcd_peer_port);
  config.etcd_initial_state = "new";

  // The PKI: the CA, then this node's key and certificate from a CSR, as a
  // joining node's will be.
  auto ca = cluster::make_ca(config.cluster_id);
  if (!ca) return tl::unexpected(ca.error().wrap("cluster CA"));
  auto key = cluster::make_key();
  if (!key) return tl::unexpected(key.error());
  auto csr = cluster::make_csr(key->key_pem, config.node_id);
  if (!csr) return tl::unexpected(csr.error());
  auto self = describe_node(config);
  auto cert = cluster::sign_csr(*ca, *csr, node_cert_spec(cluster::Role::Manager, *advertise));
  if (!cert) return tl::unexpected(cert.error().wrap("sign this node's certificate"));
  STACK_TRY(cluster::write_cluster_file(paths.ca_cert, ca->cert_pem, 0644));
  STACK_TRY(cluster::write_cluster_file(paths.ca_key, ca->key_pem, 0600));
  STACK_TRY(cluster::write_cluster_file(paths.node_cert, *cert, 0644));
  STACK_TRY(cluster::write_cluster_file(paths.node_key, key->key_pem, 0600));

  auto started = EtcdMember::start(member_options(plan.root, config, plan.etcd_binary));
  if (!started) return tl::unexpected(started.error());
  partial.member = std::move(*started);
  // From here etcd knows its clients by their certificates' CN: this node
  // gets the root role; nodes that join get theirs when admitted.
  STACK_TRY_CTX(etcd_enable_auth(cluster_etcd_options(plan.root, config), {config.node_id}),
                "turn on etcd's authentication");
  auto etcd = open_etcd_store(cluster_etcd_options(plan.root, config));
  if (!etcd) return tl::unexpected(etcd.error());
  auto copied = copy_state(local, **etcd);
  if (!copied) return tl::unexpected(copied.error());

  auto worker = cluster::make_secret();
  auto manager = cluster::make_secret();
  if (!worker || !manager) return tl::unexpected((worker ? manager : worker).error());
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  STACK_TRY_CTX((*etcd)->commit({
                    {StoreOp::Put, cluster_keys::kInfo, json{{"cluster_id", config.cluster_id}, {"created_ms", now_ms}}.dump()},
                    {StoreOp::Put, cluster_keys::kCa, json{{"cert", ca->cert_pem}, {"key", ca->key_pem}}.dump()},
                    {StoreOp::Put, cluster_keys::kSecrets, json{{"worker", *worker}, {"manager", *manager}}.dump()},
                    {StoreOp::Put, cluster_keys::node(config.node_id), to_json(self).dump()},
                }),
                "record the cluster in etcd");
  etcd->reset();
  partial.member.reset();  // the restarted stackd starts it again, supervised
  STACK_TRY(cluster::save_cluster_config(plan.root, config));
  partial.commit();
  spdlog::info("cluster {}: this node ({}) is its first manager, advertising {}; {} keys moved to etcd",
               config.cluster_id, config.node_id, *advertise, *copied);

  auto digest = cluster::cert_digest(ca->cert_pem);
  if (!digest) return tl::unexpected(digest.error());
  ClusterJoinInfo info;
  info.cluster_id = config.cluster_id;
  info.node_id = config.node_id;
  info.manager_address = cluster::join_address(config);
  info.worker_token = cluster::format_token({*digest, *worker});
  info.manager_token = cluster::format_token({*digest, *manager});
  return info;
}

}  // namespace stack::orch
