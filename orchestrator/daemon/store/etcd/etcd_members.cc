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

// etcd refuses a reconfiguration until its members have been connected for
// a while (--strict-reconfig-check, "unhealthy cluster": 5 s after a member
// joined or restarted). A manager that joins or leaves right after another
// waits that out rather than failing.
constexpr auto kReconfigPatience = std::chrono::seconds(15);
constexpr auto kReconfigPause = std::chrono::milliseconds(500);
constexpr auto premature = [](const auto& r) {
  return !r && r.error().context.find("unhealthy cluster") != std::string::npos;
};

}  // namespace

stack::Result<EtcdAdmin> EtcdAdmin::open(const EtcdOptions& options) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  return EtcdAdmin(options, std::move(*conn));
}

stack::Result<std::vector<EtcdMemberInfo>> EtcdAdmin::members() const {
  auto resp = conn_->unary<pb::MemberListResponse>(conn_->cluster(), &pb::Cluster::Stub::MemberList,
                                                   pb::MemberListRequest{}, "member list");
  if (!resp) return tl::unexpected(resp.error());
  return to_infos(resp->members());
}

stack::Result<std::vector<EtcdMemberInfo>> EtcdAdmin::add_member(const std::string& peer_url) const {
  pb::MemberAddRequest req;
  req.add_peerurls(peer_url);
  auto resp = etcd::retry_until(
      std::chrono::steady_clock::now() + kReconfigPatience, kReconfigPause,
      [&] {
        return conn_->unary<pb::MemberAddResponse>(conn_->cluster(), &pb::Cluster::Stub::MemberAdd, req,
                                                   "member add " + peer_url);
      },
      premature);
  if (!resp) return tl::unexpected(resp.error());
  return to_infos(resp->members());
}

stack::Result<void> EtcdAdmin::remove_member(uint64_t id) const {
  // Removing the member that leads raft costs an election, and requests in
  // flight meanwhile fail with "request timed out, possibly due to previous
  // leader failure", which does not say whether they were applied. So its
  // leadership goes to another member first (best effort: the removal goes
  // ahead either way). MoveLeader is the leader's to answer.
  auto st = status();
  if (st && st->leader == id)
    if (auto listed = members()) {
      EtcdOptions to_leader = options_;
      to_leader.endpoints.clear();
      uint64_t target = 0;
      for (const auto& m : *listed) {
        if (m.id == id) to_leader.endpoints = m.client_urls;
        else if (!m.name.empty() && target == 0) target = m.id;
      }
      if (target != 0 && !to_leader.endpoints.empty())
        if (auto leader = EtcdAdmin::open(to_leader)) (void)leader->move_leader(target);
    }
  pb::MemberRemoveRequest req;
  req.set_id(id);
  auto removed = etcd::retry_until(
      std::chrono::steady_clock::now() + kReconfigPatience, kReconfigPause,
      [&] {
        return conn_->unary<pb::MemberRemoveResponse>(conn_->cluster(), &pb::Cluster::Stub::MemberRemove, req,
                                                      "member remove");
      },
      premature);
  if (!removed) return tl::unexpected(removed.error());
  return {};
}

stack::Result<std::vector<EtcdMemberInfo>> EtcdAdmin::remove_member_named(const std::string& name) const {
  auto listed = members();
  if (!listed) return tl::unexpected(listed.error());
  std::vector<EtcdMemberInfo> left;
  for (auto& m : *listed) {
    if (m.name != name) left.push_back(std::move(m));
    else STACK_TRY(remove_member(m.id));
  }
  return left;
}

stack::Result<EtcdRaftStatus> EtcdAdmin::status() const {
  auto resp = conn_->unary<pb::StatusResponse>(conn_->maintenance(), &pb::Maintenance::Stub::Status,
                                               pb::StatusRequest{}, "status");
  if (!resp) return tl::unexpected(resp.error());
  return EtcdRaftStatus{resp->header().member_id(), resp->leader(), resp->raftindex()};
}

stack::Result<void> EtcdAdmin::move_leader(uint64_t target) const {
  pb::MoveLeaderRequest req;
  req.set_targetid(target);
  auto resp = conn_->unary<pb::MoveLeaderResponse>(conn_->maintenance(), &pb::Maintenance::Stub::MoveLeader, req,
                                                   "move the raft leadership");
  if (!resp) return tl::unexpected(resp.error());
  return {};
}

stack::Result<std::vector<int64_t>> EtcdAdmin::lease_ttls(const std::vector<LeaseId>& ids) const {
  std::vector<int64_t> out;
  for (LeaseId id : ids) {
    pb::LeaseTimeToLiveRequest req;
    req.set_id(id);
    auto resp = conn_->unary<pb::LeaseTimeToLiveResponse>(conn_->lease(), &pb::Lease::Stub::LeaseTimeToLive, req,
                                                          "lease time to live");
    if (!resp) return tl::unexpected(resp.error());
    out.push_back(resp->ttl());
  }
  return out;
}

stack::Result<std::vector<EtcdMemberInfo>> etcd_member_list(const EtcdOptions& options) {
  auto admin = EtcdAdmin::open(options);
  if (!admin) return tl::unexpected(admin.error());
  return admin->members();
}

stack::Result<EtcdRaftStatus> etcd_status(const EtcdOptions& options) {
  auto admin = EtcdAdmin::open(options);
  if (!admin) return tl::unexpected(admin.error());
  return admin->status();
}

}  // namespace stack::orch
