#include "orchestrator/daemon/cluster/raft_handoff.h"

#include <map>

#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/store/etcd_members.h"

namespace stack::orch {
namespace {

// How far behind raft's log a member may be and still take the lead: one
// that is catching up (a manager that just restarted) would make etcd wait
// for it, with proposals refused meanwhile, and then give up.
constexpr uint64_t kCaughtUp = 1000;

}  // namespace

stack::Result<bool> hand_off_raft_leadership(const EtcdMember& local, StateStore& store,
                                             const std::function<bool(const std::string& name)>& settled) {
  const EtcdOptions client = local.local_client(std::chrono::seconds(5));
  auto admin = EtcdAdmin::open(client);
  if (!admin) return tl::unexpected(admin.error());
  auto status = admin->status();
  if (!status) return tl::unexpected(status.error());
  if (status->member == 0 || status->member != status->leader) return false;

  // Seconds left to each node's heartbeat. etcd truncates: a node that kept
  // its lease alive within a second reads kLeaseSeconds - 1 or more (keep-
  // alives go every sixth of it); one that missed that reads less.
  auto alive = store.range(cluster_keys::kAlive, {.prefix = true});
  if (!alive) return tl::unexpected(alive.error());
  std::vector<LeaseId> leases;
  for (const auto& kv : alive->kvs) leases.push_back(kv.lease);
  auto ttls = admin->lease_ttls(leases);
  if (!ttls) return tl::unexpected(ttls.error());
  std::map<std::string, bool> fresh;  // node id -> heartbeat fresh
  for (size_t i = 0; i < alive->kvs.size(); i++) {
    if ((*ttls)[i] < cluster_keys::kLeaseSeconds - 1) return false;  // maybe dead: a raft change would renew its lease
    fresh[alive->kvs[i].key.substr(std::string(cluster_keys::kAlive).size())] = true;
  }

  auto members = admin->members();
  if (!members) return tl::unexpected(members.error());
  // `settled` sees every named member, this one too, before any is
  // skipped: the caller's first look (its baseline) must include the
  // members of a one-manager cluster, or the next to join would count as
  // settled at once.
  std::vector<bool> is_settled;
  for (const auto& m : *members) is_settled.push_back(!m.name.empty() && settled(m.name));
  for (size_t i = 0; i < members->size(); i++) {
    const auto& m = (*members)[i];
    // An unnamed member was added but has not started: it cannot lead.
    if (m.id == status->member || !is_settled[i] || !fresh.count(m.name) || m.client_urls.empty()) continue;
    EtcdOptions theirs = client;
    theirs.endpoints = {m.client_urls.front()};
    theirs.tls_server_name = cluster_keys::kEtcdServerName;
    theirs.request_timeout = std::chrono::seconds(1);
    auto their_status = etcd_status(theirs);
    if (!their_status || their_status->raft_index + kCaughtUp < status->raft_index) continue;
    STACK_TRY_CTX(admin->move_leader(m.id), "hand etcd's raft leadership to " + m.name);
    return true;
  }
  return false;
}

}  // namespace stack::orch
