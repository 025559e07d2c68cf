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
  auto ctx = (*conn)->context();
  pb::MemberListResponse resp;
  auto status = (*conn)->cluster().MemberList(ctx.get(), pb::MemberListRequest{}, &resp);
  if (!status.ok()) return tl::unexpected((*conn)->error("member list", status));
  return to_infos(resp.members());
}

stack::Result<std::vector<EtcdMemberInfo>> etcd_member_add(const EtcdOptions& options, const std::string& peer_url) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  auto ctx = (*conn)->context();
  pb::MemberAddRequest req;
  req.add_peerurls(peer_url);
  pb::MemberAddResponse resp;
  auto status = (*conn)->cluster().MemberAdd(ctx.get(), req, &resp);
  if (!status.ok()) return tl::unexpected((*conn)->error("member add " + peer_url, status));
  return to_infos(resp.members());
}

stack::Result<void> etcd_member_remove(const EtcdOptions& options, uint64_t id) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  auto ctx = (*conn)->context();
  pb::MemberRemoveRequest req;
  req.set_id(id);
  pb::MemberRemoveResponse resp;
  auto status = (*conn)->cluster().MemberRemove(ctx.get(), req, &resp);
  if (!status.ok()) return tl::unexpected((*conn)->error("member remove", status));
  return {};
}

}  // namespace stack::orch
