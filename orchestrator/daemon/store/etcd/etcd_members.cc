#include "orchestrator/daemon/store/etcd_members.h"

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
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  pb::MemberRemoveRequest req;
  req.set_id(id);
  auto resp = (*conn)->unary<pb::MemberRemoveResponse>((*conn)->cluster(), &pb::Cluster::Stub::MemberRemove, req,
                                                       "member remove");
  if (!resp) return tl::unexpected(resp.error());
  return {};
}

}  // namespace stack::orch
