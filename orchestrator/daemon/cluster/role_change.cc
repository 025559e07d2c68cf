// `node promote` and `node demote`: ClusterService's role change, the
// manager's side (change_role) and the node's (serve_identity), over the
// node's cluster endpoint (peer_server.h). The node's key never leaves it:
// it sends a CSR, the manager signs a certificate for the new role.
//
//   manager                                         node
//   GET /v1/node/identity/csr  ───────────────────>  CSR from node.key
//   sign (CA from the store); etcd user re-made with the role's rights;
//   promote: member add (initial cluster)  /  demote: member remove
//   POST /v1/node/identity/role {cert, ...} ──────>  checks, writes node.pem
//   record's role (CAS)                              and cluster.json, restarts
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/daemon/cluster/cluster_admit.h"
#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/cluster_service.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/store/etcd_auth.h"
#include "orchestrator/daemon/store/etcd_members.h"
#include "base/io.h"

namespace stack::orch {

using nlohmann::json;

namespace {

constexpr const char* kCsrRoute = "/v1/node/identity/csr";
constexpr const char* kRoleRoute = "/v1/node/identity/role";

PeerReply error_reply(int status, const std::string& message) { return {status, json{{"error", message}}.dump(), {}}; }

}  // namespace

bool ClusterService::is_identity_route(const std::string& target) { return target.rfind("/v1/node/identity/", 0) == 0; }

stack::Result<NodeView> ClusterService::change_role(const std::string& ref, cluster::Role to) {
  const std::string verb = to == cluster::Role::Manager ? "node promote" : "node demote";
  STACK_TRY(require_manager(verb));
  auto node = resolve_node(ref, verb);
  if (!node) return node;
  const std::string role = cluster::role_name(to);
  if (node->role == role) return stack::fail(verb + ": " + node->id + " is already a " + role, EINVAL);
  if (node->id == config_->node_id)
    return stack::fail(verb + ": " + node->id + " is this node: run it on another manager", EINVAL);
  if (node->status != "ready")
    return stack::fail(verb + ": " + node->id + " is down: it must take its new certificate itself", EBUSY);
  if (to == cluster::Role::Worker) {
    auto all = nodes();
    if (!all) return tl::unexpected(all.error());
    int managers = 0;
    for (const auto& n : *all) managers += n.role == "manager";
    if (managers <= 1) return stack::fail(verb + ": " + node->id + " is the last manager", EINVAL);
  }
  const auto credentials = PeerCredentials::under(options_.root);
  auto csr = peer_get(credentials, node->address, node->api_port, kCsrRoute);
  if (!csr) return tl::unexpected(csr.error().wrap(verb + ": ask " + node->id + " for a CSR"));
  auto ca_text = store_.get(cluster_keys::kCa);
  if (!ca_text || !*ca_text) return stack::fail(verb + ": the cluster store has no CA");
  auto ca_json = json::parse(**ca_text, nullptr, false);
  cluster::CertAndKey ca{ca_json.value("cert", ""), ca_json.value("key", "")};
  auto cert = cluster::sign_csr(ca, csr->value("csr", ""), node_cert_spec(to, node->address));
  if (!cert) return tl::unexpected(cert.error().wrap(verb + ": sign"));
  auto identity = cluster::verify_node_cert(ca.cert_pem, *cert);
  if (!identity || identity->node_id != node->id)
    return stack::fail(verb + ": the CSR of " + node->id + " is for another node", EPROTO);

  // etcd: the user made again with the new role's rights; the membership.
  EtcdOptions etcd = cluster_etcd_options(options_.root, *config_);
  auto make_user = [&](cluster::Role r) -> stack::Result<void> {
    STACK_TRY(etcd_remove_user(etcd, node->id));
    return r == cluster::Role::Manager ? etcd_add_root_user(etcd, node->id)
                                       : etcd_add_limited_user(etcd, node->id, worker_permissions(node->id));
  };
  const cluster::Role from = to == cluster::Role::Manager ? cluster::Role::Worker : cluster::Role::Manager;
  JoinReply view;
  view.node_id = node->id;
  if (to == cluster::Role::Manager) {
    STACK_TRY_CTX(make_user(to), verb + ": etcd user");
    auto added = etcd_view(etcd, view, cluster::https_url(node->address, csr->value("etcd_peer_port", 2380)));
    if (!added) {
      (void)make_user(from);
      return tl::unexpected(added.error().wrap(verb + ": etcd member"));
    }
  } else {
    auto admin = EtcdAdmin::open(etcd);
    if (!admin) return tl::unexpected(admin.error().wrap(verb + ": etcd members"));
    STACK_TRY_CTX(admin->remove_member_named(node->id), verb + ": remove its etcd member");
    STACK_TRY_CTX(make_user(to), verb + ": etcd user");
    STACK_TRY_CTX(etcd_view(etcd, view, ""), verb + ": etcd members");
  }
  json body{{"role", role},
            {"cert", *cert},
            {"etcd_initial_cluster", view.etcd_initial_cluster},
            {"etcd_endpoints", view.etcd_endpoints}};
  auto told = peer_call(credentials, "POST", node->address, node->api_port, kRoleRoute, body.dump());
  if (!told) {
    spdlog::error("{}: {} did not take its new role: {}", verb, node->id, told.error().message());
    return tl::unexpected(told.error().wrap(verb + ": " + node->id + " (its etcd rights and membership changed; run "
                                                    "the verb again, or `node rm --force` it)"));
  }
  // `node ls` says so at once; the node rewrites its record when it starts.
  const std::string key = cluster_keys::node(node->id);
  if (auto current = store_.range(key); current && !current->kvs.empty()) {
    if (auto record = node_from_json(json::parse(current->kvs[0].value, nullptr, false))) {
      record->role = role;
      Txn t;
      t.compares = {Compare::of(Compare::ModRevision, key, Compare::Equal, current->kvs[0].mod_revision)};
      t.success = {StoreOp{StoreOp::Put, key, to_json(*record).dump(), 0}};
      (void)store_.txn(t);
    }
  }
  spdlog::info("cluster: node {} is now a {}", node->id, role);
  node->role = role;
  return node;
}

PeerReply ClusterService::serve_identity(const PeerRequest& request) {
  if (!request.peer || request.peer->role != cluster::Role::Manager)
    return error_reply(403, "only a manager of this cluster may change a node's role");
  if (!config_) return error_reply(503, "not in a cluster");
  const auto paths = cluster::ClusterPaths::under(options_.root);
  if (request.method == "GET" && request.target == kCsrRoute) {
    auto key = io::read_file(paths.node_key);
    if (!key) return error_reply(500, key.error().message());
    auto csr = cluster::make_csr(*key, config_->node_id);
    if (!csr) return error_reply(500, csr.error().message());
    return {200,
            json{{"csr", *csr}, {"etcd_client_port", config_->etcd_client_port}, {"etcd_peer_port", config_->etcd_peer_port}}
                .dump(),
            {}};
  }
  if (request.method != "POST" || request.target != kRoleRoute)
    return error_reply(404, "no such endpoint: " + request.method + " " + request.target);
  std::lock_guard lock(mu_);
  auto body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return error_reply(400, "role change: the body is not JSON");
  auto to = cluster::parse_role(body.value("role", ""));
  if (!to) return error_reply(400, "role change: " + to.error().message());
  const std::string cert = body.value("cert", "");
  auto ca = io::read_file(paths.ca_cert);
  auto key = io::read_file(paths.node_key);
  if (!ca || !key) return error_reply(500, "role change: cannot read this node's CA or key");
  auto identity = cluster::verify_node_cert(*ca, cert);
  if (!identity) return error_reply(400, "role change: " + identity.error().message());
  if (identity->node_id != config_->node_id || identity->role != *to || !cluster::key_matches_cert(*key, cert))
    return error_reply(400, "role change: the certificate is not this node's, or not for the role asked");
  std::vector<std::string> endpoints;
  for (const auto& e : body.value("etcd_endpoints", json::array()))
    if (e.is_string()) endpoints.push_back(e.get<std::string>());
  if (endpoints.empty()) return error_reply(400, "role change: no etcd endpoint named");
  cluster::ClusterConfig next = *config_;
  next.role = *to;
  next.etcd_endpoints.clear();
  if (*to == cluster::Role::Manager) {
    next.etcd_endpoints.push_back(cluster::https_url("127.0.0.1", next.etcd_client_port));
    next.etcd_initial_cluster = body.value("etcd_initial_cluster", "");
    next.etcd_initial_state = "existing";
  }
  for (const auto& e : endpoints) next.etcd_endpoints.push_back(e);
  auto files = cluster::lock_cluster_files(options_.root);
  if (!files) return error_reply(500, files.error().message());
  if (auto w = cluster::write_cluster_file(paths.node_cert, cert, 0644); !w) return error_reply(500, w.error().message());
  // The commit point: the next start is in the new role.
  if (auto s = cluster::save_cluster_config(options_.root, next); !s) return error_reply(500, s.error().message());
  spdlog::info("cluster: this node ({}) becomes a {}; restarting", config_->node_id, cluster::role_name(*to));
  restart_pending_ = true;
  return {200, json{{"id", config_->node_id}, {"role", cluster::role_name(*to)}}.dump(), [this] {
            if (options_.restart) options_.restart();
          }};
}

}  // namespace stack::orch
