#include "orchestrator/daemon/store/etcd_members.h"

#include <chrono>
#include <thread>

#include "orchestrator/daemon/store/etcd/etcd_conn.h"

namespace stack::orch {
namespace {

namespace pb = etcdserverpb;

template <class Members>
std::vector<EtcdMemberInfo> to_infos(const Members& members) {
  std::vector<EtcdMemberInfo> out;
  for (const auto& m : members) {
    EtcdMemberInfo i;
    i.id = m.id();
    i.name = m.name();
    i.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
    i.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
    out.push_back(std::move(i));
  }
  return out;
}

// Removing the member that leads raft costs an election, and requests in
// flight meanwhile fail with "request timed out, possibly due to previous
// leader failure", which does not say whether they were applied. So its
// leadership goes to another member first (best effort: the removal goes
// ahead either way). MoveLeader is the leader's to answer.
void move_leadership_off(const EtcdOptions& options, uint64_t id) {
  auto status = etcd_status(options);
  if (!status || status->leader != id) return;
  auto members = etcd_member_list(options);
  if (!members) return;
  EtcdOptions to_leader = options;
  to_leader.endpoints.clear();
  uint64_t target = 0;
  for (const auto& m : *members) {
    if (m.id == id) to_leader.endpoints = m.client_urls;
    else if (!m.name.empty() && target == 0) target = m.id;
  }
  if (target != 0 && !to_leader.endpoints.empty()) (void)etcd_move_leader(to_leader, target);
}

}  // namespace

stack::Result<std::vector<EtcdMemberInfo>> etcd_member_list(const EtcdOptions& options) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  auto resp = (*conn)->unary<pb::MemberListResponse>((*conn)->cluster(), &pb::Cluster::Stub::MemberList,
                                                     pb::MemberListRequest{}, "member list");
  if (!resp) return tl::unexpected(resp.error());
  return to_infos(resp->members());
}

stack::Result<std::vector<EtcdMemberInfo>> etcd_member_add(const EtcdOptions& options, const std::string& peer_url) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  pb::MemberAddRequest req;
  req.add_peerurls(peer_url);
  auto resp = (*conn)->unary<pb::MemberAddResponse>((*conn)->cluster(), &pb::Cluster::Stub::MemberAdd, req,
                                                    "member add " + peer_url);
  if (!resp) return tl::unexpected(resp.error());
  return to_infos(resp->members());
}

stack::Result<void> etcd_member_remove(const EtcdOptions& options, uint64_t id) {
  move_leadership_off(options, id);
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  pb::MemberRemoveRequest req;
  req.set_id(id);
  // etcd refuses a reconfiguration until the members left have been
  // connected for a while (--strict-reconfig-check, "unhealthy cluster"):
  // a member that just joined or restarted. That is waited out.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    auto resp = (*conn)->unary<pb::MemberRemoveResponse>((*conn)->cluster(), &pb::Cluster::Stub::MemberRemove, req,
                                                         "member remove");
    if (resp) return {};
    if (resp.error().context.find("unhealthy cluster") == std::string::npos ||
        std::chrono::steady_clock::now() >= deadline)
      return tl::unexpected(resp.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

stack::Result<EtcdRaftStatus> etcd_status(const EtcdOptions& options) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  auto resp = (*conn)->unary<pb::StatusResponse>((*conn)->maintenance(), &pb::Maintenance::Stub::Status,
                                                 pb::StatusRequest{}, "status");
  if (!resp) return tl::unexpected(resp.error());
  return EtcdRaftStatus{resp->header().member_id(), resp->leader(), resp->raftindex()};
}

stack::Result<void> etcd_move_leader(const EtcdOptions& options, uint64_t target) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  pb::MoveLeaderRequest req;
  req.set_targetid(target);
  auto resp = (*conn)->unary<pb::MoveLeaderResponse>((*conn)->maintenance(), &pb::Maintenance::Stub::MoveLeader,
                                                     req, "move the raft leadership");
  if (!resp) return tl::unexpected(resp.error());
  return {};
}

stack::Result<std::vector<int64_t>> etcd_lease_ttls(const EtcdOptions& options, const std::vector<LeaseId>& ids) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  std::vector<int64_t> out;
  for (LeaseId id : ids) {
    pb::LeaseTimeToLiveRequest req;
    req.set_id(id);
    auto resp = (*conn)->unary<pb::LeaseTimeToLiveResponse>((*conn)->lease(), &pb::Lease::Stub::LeaseTimeToLive,
                                                            req, "lease time to live");
    if (!resp) return tl::unexpected(resp.error());
    out.push_back(resp->ttl());
  }
  return out;
}

}  // namespace stack::orch
