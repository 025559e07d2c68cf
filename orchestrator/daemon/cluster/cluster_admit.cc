#include "orchestrator/daemon/cluster/cluster_admit.h"

#include <arpa/inet.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/cluster/join_token.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/store/etcd_auth.h"
#include "orchestrator/daemon/store/etcd_members.h"

namespace stack::orch {
namespace {

using nlohmann::json;

stack::Result<json> read_json(StateStore& store, const std::string& key) {
  auto text = store.get(key);
  if (!text) return tl::unexpected(text.error());
  if (!*text) return stack::fail("the cluster store has no " + key);
  auto j = json::parse(**text, nullptr, false);
  if (!j.is_object()) return stack::fail(key + " in the cluster store does not parse");
  return j;
}

bool is_ip(const std::string& text) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, text.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, text.c_str(), &a6) == 1;
}

}  // namespace

// The managers' etcd members as the joiner reaches them, and (for a manager)
// the --initial-cluster its member starts with: the existing members plus
// itself, named as etcd names them.
stack::Result<void> etcd_view(const EtcdOptions& etcd, JoinReply& reply, const std::string& new_peer_url) {
  auto admin = EtcdAdmin::open(etcd);
  if (!admin) return tl::unexpected(admin.error());
  auto members = new_peer_url.empty() ? admin->members() : admin->add_member(new_peer_url);
  if (!members) return tl::unexpected(members.error());
  for (const auto& m : *members) {
    for (const auto& url : m.client_urls)
      if (url.find("127.0.0.1") == std::string::npos) reply.etcd_endpoints.push_back(url);
    if (new_peer_url.empty()) continue;
    for (const auto& url : m.peer_urls) {
      std::string name = m.name.empty() && url == new_peer_url ? reply.node_id : m.name;
      reply.etcd_initial_cluster += (reply.etcd_initial_cluster.empty() ? "" : ",") + name + "=" + url;
    }
  }
  return {};
}

// A worker reads the stacks, replicas, nodes and events and who leads, and
// writes only its own record and heartbeat. Not the cluster's CA key nor
// the join secrets: a worker's certificate cannot make a manager.
std::vector<EtcdPermission> worker_permissions(const std::string& id) {
  using P = EtcdPermission;
  return {{P::Read, "stacks/", true},
          {P::Read, "replicas/", true},
          {P::Read, "events/", true},
          {P::Read, cluster_keys::kNodes, true},
          {P::Read, cluster_keys::kAlive, true},
          {P::Read, cluster_keys::kLeader, false},
          {P::ReadWrite, cluster_keys::node(id), false},
          {P::ReadWrite, cluster_keys::alive(id), false},
          // Its own assignments to run, its reports of them, and the signal
          // and probe requests it deletes once carried out.
          {P::Read, cluster_keys::assign(id), true},
          {P::Read, cluster_keys::kSources, true},  // what the assignments are cut from
          {P::ReadWrite, cluster_keys::signals(id), true},
          {P::ReadWrite, cluster_keys::probes(id), true},
          {P::ReadWrite, cluster_keys::tasks(id), true}};
}



cluster::NodeCertSpec node_cert_spec(cluster::Role role, const std::string& advertise_addr) {
  cluster::NodeCertSpec spec;
  spec.role = role;
  spec.ip_addresses = {advertise_addr};
  if (role == cluster::Role::Manager) {
    if (advertise_addr != "127.0.0.1") spec.ip_addresses.push_back("127.0.0.1");
    spec.dns_names = {"localhost", cluster_keys::kEtcdServerName};
  }
  spec.days = 365;
  return spec;
}

stack::Result<JoinReply> admit_node(StateStore& store, const cluster::ClusterConfig& self, const EtcdOptions& etcd,
                                    const JoinRequest& request) {
  auto secrets = read_json(store, cluster_keys::kSecrets);
  if (!secrets) return tl::unexpected(secrets.error());
  auto role = cluster::role_for_secret(secrets->value("worker", ""), secrets->value("manager", ""), request.secret);
  if (!role) return stack::fail(role.error().context, EACCES);
  if (!is_ip(request.advertise_addr))
    return stack::fail("join: advertise address \"" + request.advertise_addr + "\" is not an IP address", EINVAL);
  auto ca_json = read_json(store, cluster_keys::kCa);
  if (!ca_json) return tl::unexpected(ca_json.error());
  cluster::CertAndKey ca{ca_json->value("cert", ""), ca_json->value("key", "")};
  auto cert = cluster::sign_csr(ca, request.csr, node_cert_spec(*role, request.advertise_addr));
  if (!cert) return stack::fail("join: " + cert.error().message(), EINVAL);
  auto identity = cluster::verify_node_cert(ca.cert_pem, *cert);
  if (!identity) return tl::unexpected(identity.error());

  // etcd's user for the node (its certificate's CN), before anything else
  // of it exists: a failure here leaves nothing.
  auto user = *role == cluster::Role::Manager ? etcd_add_root_user(etcd, identity->node_id)
                                              : etcd_add_limited_user(etcd, identity->node_id,
                                                                      worker_permissions(identity->node_id));
  if (!user) {
    (void)etcd_remove_user(etcd, identity->node_id);
    if (user.error().context.find("already exists") != std::string::npos)
      return stack::fail("join: node id " + identity->node_id + " is taken", EEXIST);
    return tl::unexpected(user.error().wrap("join: etcd user"));
  }

  // Reserve the node id: a second join with the same id loses here.
  NodeView record;
  record.id = identity->node_id;
  record.hostname = request.hostname;
  record.address = request.advertise_addr;
  record.role = cluster::role_name(*role);
  const auto key = cluster_keys::node(record.id);
  auto reserved = store.txn(Txn{{Compare::absent(key)}, {{StoreOp::Put, key, to_json(record).dump()}}, {}});
  if (!reserved || !reserved->succeeded) {
    (void)etcd_remove_user(etcd, identity->node_id);
    if (!reserved) return tl::unexpected(reserved.error());
    return stack::fail("join: node id " + record.id + " is taken", EEXIST);
  }

  JoinReply reply;
  reply.cluster_id = self.cluster_id;
  reply.node_id = identity->node_id;
  reply.role = cluster::role_name(*role);
  reply.cert = *cert;
  reply.ca = ca.cert_pem;
  auto view = etcd_view(etcd, reply,
                        *role == cluster::Role::Manager
                            ? cluster::https_url(request.advertise_addr, request.etcd_peer_port)
                            : std::string());
  if (!view) {
    (void)store.remove(key);  // not admitted after all
    (void)etcd_remove_user(etcd, identity->node_id);
    return tl::unexpected(view.error().wrap("join: etcd membership"));
  }
  spdlog::info("cluster: admitted {} {} ({} at {})", reply.role, reply.node_id, request.hostname,
               request.advertise_addr);
  return reply;
}

}  // namespace stack::orch
