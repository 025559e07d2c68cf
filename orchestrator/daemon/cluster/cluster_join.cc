#include "orchestrator/daemon/cluster/cluster_join.h"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "base/io.h"
#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/cluster/join_token.h"
#include "orchestrator/daemon/cluster/advertise_addr.h"
#include "orchestrator/daemon/cluster/join_wire.h"
#include "orchestrator/daemon/cluster/partial_cluster.h"
#include "runtime/image/http.h"

namespace stack::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The reply's JSON, or the manager's {"error"} as our error.
stack::Result<json> call(const std::string& url, const std::string& method, const std::string& body,
                         const img::http::TlsOptions& tls) {
  img::http::Client client(tls);
  img::http::Request req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.timeout_s = 30;  // a manager may wait up to 15 s for etcd to accept a new member
  req.follow_redirects = false;
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  auto res = client.send(req);
  if (!res) return tl::unexpected(res.error());
  auto j = json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    std::string msg = j.is_object() ? j.value("error", res->body) : res->body;
    return stack::fail("the manager refused: " + msg, res->status == 403 ? EACCES : EPROTO);
  }
  if (!j.is_object()) return stack::fail("the manager's reply is not JSON", EPROTO);
  return j;
}

}  // namespace

stack::Result<ClusterJoined> join_cluster(const ClusterJoinPlan& plan) {
  const auto paths = cluster::ClusterPaths::under(plan.root);
  if (fs::exists(paths.config)) return stack::fail("this node is already in a cluster (" + paths.config + ")", EEXIST);
  auto token = cluster::parse_token(plan.token);
  if (!token) return stack::fail(token.error().context, EINVAL);
  auto advertise = choose_advertise_addr(plan.advertise_addr);
  if (!advertise) return tl::unexpected(advertise.error());
  const std::string base = "https://" + plan.manager;

  // 1. The manager's CA, taken on trust only as far as the token's digest.
  img::http::TlsOptions unverified;
  unverified.verify = false;
  auto ca_reply = call(base + "/v1/join/ca", "GET", "", unverified);
  if (!ca_reply) return tl::unexpected(ca_reply.error().wrap("join " + plan.manager));
  const std::string ca = ca_reply->value("ca", "");
  auto digest = cluster::cert_digest(ca);
  if (!digest) return tl::unexpected(digest.error().wrap("join " + plan.manager + ": the manager's CA"));
  if (*digest != token->ca_digest)
    return stack::fail("join " + plan.manager +
                           ": the manager's CA does not match the token (another cluster, or someone in between); "
                           "nothing was sent",
                       EACCES);

  PartialCluster partial(paths);
  STACK_TRY(partial.start());
  STACK_TRY(cluster::write_cluster_file(paths.ca_cert, ca, 0644));

  // 2. Our key stays here; the CSR names a new node id.
  auto key = cluster::make_key();
  if (!key) return tl::unexpected(key.error());
  auto id = cluster::make_secret();
  if (!id) return tl::unexpected(id.error());
  const std::string node_id = id->substr(0, 20);
  auto csr = cluster::make_csr(key->key_pem, node_id);
  if (!csr) return tl::unexpected(csr.error());
  char host[256] = {};
  (void)::gethostname(host, sizeof host - 1);
  JoinRequest request{token->secret, *csr, host, *advertise, plan.etcd_client_port, plan.etcd_peer_port};

  // 3. The secret goes only to a server that proves it holds a certificate
  // of that CA for the address we dialled.
  img::http::TlsOptions verified;
  verified.ca_file = paths.ca_cert;
  verified.ca_only = true;
  auto reply_json = call(base + "/v1/join", "POST", to_json(request).dump(), verified);
  if (!reply_json) return tl::unexpected(reply_json.error().wrap("join " + plan.manager));
  auto reply = join_reply_from_json(*reply_json);
  if (!reply) return tl::unexpected(reply.error().wrap("join " + plan.manager));
  auto identity = cluster::verify_node_cert(ca, reply->cert);
  if (!identity) return tl::unexpected(identity.error().wrap("join: the certificate the manager sent"));
  if (identity->node_id != node_id || !cluster::key_matches_cert(key->key_pem, reply->cert))
    return stack::fail("join: the certificate the manager sent is not for this node");
  if (reply->etcd_endpoints.empty()) return stack::fail("join: the manager named no etcd endpoint");
  STACK_TRY(cluster::write_cluster_file(paths.node_cert, reply->cert, 0644));
  STACK_TRY(cluster::write_cluster_file(paths.node_key, key->key_pem, 0600));

  cluster::ClusterConfig config;
  config.cluster_id = reply->cluster_id;
  config.node_id = node_id;
  config.role = identity->role;
  config.advertise_addr = *advertise;
  config.api_port = plan.api_port;
  config.etcd_client_port = plan.etcd_client_port;
  config.etcd_peer_port = plan.etcd_peer_port;
  if (config.role == cluster::Role::Manager)
    config.etcd_endpoints.push_back(cluster::https_url("127.0.0.1", plan.etcd_client_port));
  for (const auto& e : reply->etcd_endpoints) config.etcd_endpoints.push_back(e);
  config.etcd_initial_cluster = reply->etcd_initial_cluster;
  config.etcd_initial_state = "existing";
  STACK_TRY(cluster::save_cluster_config(plan.root, config));
  partial.commit();
  spdlog::info("cluster {}: joined as {} {}", config.cluster_id, reply->role, node_id);
  return ClusterJoined{config.cluster_id, node_id, reply->role};
}

}  // namespace stack::orch
