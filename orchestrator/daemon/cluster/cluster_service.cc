#include "orchestrator/daemon/cluster/cluster_service.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/cluster/join_token.h"
#include "orchestrator/daemon/cluster/cluster_admit.h"
#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/cluster/cluster_join.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"

namespace stack::orch {

using nlohmann::json;

namespace {

int status_for_join(const stack::Error& e) {
  switch (e.code) {
    case EINVAL: return 400;
    case EEXIST: return 409;
    default: return 500;
  }
}

}  // namespace

stack::Result<void> ClusterService::require_cluster() const {
  if (!config_) return stack::fail("this node is not in a cluster: `stack node init` makes one", ENOTCONN);
  return {};
}

stack::Result<void> ClusterService::require_single_node() const {
  if (config_ || restart_pending_)
    return stack::fail("this node is already in cluster " + (config_ ? config_->cluster_id : std::string("(starting)")) +
                           " as node " + (config_ ? config_->node_id : std::string("?")),
                       EEXIST);
  return {};
}

stack::Result<ClusterJoinInfo> ClusterService::init(const ClusterInitRequest& request) {
  std::lock_guard lock(mu_);
  STACK_TRY(require_single_node());
  auto info = init_cluster(ClusterInitPlan{options_.root, options_.etcd_binary, request}, store_);
  if (info) restart_pending_ = true;
  return info;
}

stack::Result<ClusterJoinResult> ClusterService::join(const ClusterJoinRequest& request) {
  std::lock_guard lock(mu_);
  STACK_TRY(require_single_node());
  ClusterJoinPlan plan;
  plan.root = options_.root;
  plan.token = request.token;
  plan.manager = request.manager.find(':') == std::string::npos ? request.manager + ":2377" : request.manager;
  plan.advertise_addr = request.advertise_addr;
  if (request.api_port > 0) plan.api_port = request.api_port;
  if (request.etcd_client_port > 0) plan.etcd_client_port = request.etcd_client_port;
  if (request.etcd_peer_port > 0) plan.etcd_peer_port = request.etcd_peer_port;
  auto joined = join_cluster(plan);
  if (!joined) return tl::unexpected(joined.error());
  restart_pending_ = true;
  return ClusterJoinResult{joined->cluster_id, joined->node_id, joined->role};
}

std::pair<int, std::string> ClusterService::serve_join(const std::string& method, const std::string& target,
                                                       const std::string& body) {
  auto error = [](int status, const std::string& message) {
    return std::pair<int, std::string>(status, json{{"error", message}}.dump());
  };
  if (!config_ || config_->role != cluster::Role::Manager) return error(503, "not a manager");
  if (method == "GET" && target == "/v1/join/ca") {
    auto ca = store_.get(cluster_keys::kCa);
    if (!ca || !*ca) return error(500, "the cluster store has no CA");
    auto j = json::parse(**ca, nullptr, false);
    return {200, json{{"ca", j.is_object() ? j.value("cert", "") : ""}}.dump()};
  }
  if (method == "POST" && target == "/v1/join") {
    auto request = join_request_from_json(json::parse(body, nullptr, false));
    if (!request) return error(400, request.error().context);
    auto reply = admit_node(store_, *config_, cluster_etcd_options(options_.root, *config_), *request);
    if (!reply) return error(reply.error().code == EACCES ? 403 : status_for_join(reply.error()),
                             reply.error().context);
    return {200, to_json(*reply).dump()};
  }
  return error(404, "no such endpoint: " + method + " " + target);
}

void ClusterService::after_reply() {
  bool restart = false;
  {
    std::lock_guard lock(mu_);
    restart = restart_pending_;
  }
  if (restart && options_.restart) options_.restart();
}

stack::Result<std::vector<NodeView>> ClusterService::nodes() {
  STACK_TRY(require_cluster());
  auto records = store_.list(cluster_keys::kNodes);
  if (!records) return tl::unexpected(records.error());
  auto alive = store_.list(cluster_keys::kAlive);
  if (!alive) return tl::unexpected(alive.error());
  auto leader = store_.get(cluster_keys::kLeader);
  if (!leader) return tl::unexpected(leader.error());
  std::vector<NodeView> out;
  for (const auto& [key, value] : *records) {
    auto n = node_from_json(json::parse(value, nullptr, false));
    if (!n) return stack::fail(key + ": " + n.error().message());
    bool up = std::any_of(alive->begin(), alive->end(),
                          [&](const auto& kv) { return kv.first == cluster_keys::alive(n->id); });
    n->status = up ? "ready" : "down";
    n->leader = *leader && **leader == n->id;
    n->self = n->id == config_->node_id;
    out.push_back(std::move(*n));
  }
  std::sort(out.begin(), out.end(), [](const NodeView& a, const NodeView& b) {
    bool am = a.role == "manager", bm = b.role == "manager";
    if (am != bm) return am;
    return std::tie(a.hostname, a.id) < std::tie(b.hostname, b.id);
  });
  return out;
}

stack::Result<NodeView> ClusterService::update_node(const std::string& ref, const NodeUpdateRequest& request) {
  STACK_TRY(require_cluster());
  STACK_TRY(require_manager("node update"));
  auto resolved = resolve_node(ref, "node update");
  if (!resolved) return tl::unexpected(resolved.error());
  const NodeView* found = &*resolved;
  const std::string key = cluster_keys::node(found->id);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = store_.range(key);
    if (!current) return tl::unexpected(current.error());
    if (current->kvs.empty()) return stack::fail("node update: node " + found->id + " was removed", ENOENT);
    auto record = node_from_json(json::parse(current->kvs[0].value, nullptr, false));
    if (!record) return stack::fail(key + ": " + record.error().message());
    if (!request.availability.empty()) record->availability = request.availability;
    for (const auto& [k, v] : request.label_add) record->labels[k] = v;
    for (const auto& k : request.label_rm) record->labels.erase(k);
    Txn t;
    t.compares = {Compare::of(Compare::ModRevision, key, Compare::Equal, current->kvs[0].mod_revision)};
    t.success = {StoreOp{StoreOp::Put, key, to_json(*record).dump(), 0}};
    auto done = store_.txn(t);
    if (!done) return tl::unexpected(done.error().wrap("node update"));
    if (!done->succeeded) continue;  // the node rewrote its record meanwhile: again
    NodeView shown = *record;
    shown.status = found->status;
    shown.leader = found->leader;
    shown.self = found->self;
    return shown;
  }
  return stack::fail("node update: the record of " + found->id + " kept changing", EAGAIN);
}

stack::Result<ClusterJoinInfo> ClusterService::join_info() {
  STACK_TRY(require_cluster());
  auto secrets_text = store_.get(cluster_keys::kSecrets);
  auto ca_text = store_.get(cluster_keys::kCa);
  if (!secrets_text) return tl::unexpected(secrets_text.error());
  if (!ca_text) return tl::unexpected(ca_text.error());
  if (!*secrets_text || !*ca_text) return stack::fail("the cluster store has no join secrets or CA");
  auto secrets = json::parse(**secrets_text, nullptr, false);
  auto ca = json::parse(**ca_text, nullptr, false);
  if (!secrets.is_object() || !ca.is_object()) return stack::fail("the cluster store's join secrets or CA do not parse");
  auto digest = cluster::cert_digest(ca.value("cert", ""));
  if (!digest) return tl::unexpected(digest.error());
  ClusterJoinInfo info;
  info.cluster_id = config_->cluster_id;
  info.node_id = config_->node_id;
  info.manager_address = cluster::join_address(*config_);
  info.worker_token = cluster::format_token({*digest, secrets.value("worker", "")});
  info.manager_token = cluster::format_token({*digest, secrets.value("manager", "")});
  return info;
}

}  // namespace stack::orch
