#include "netplane/veth.h"

#include <linux/netlink.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include <netlink/errno.h>
#include <netlink/route/link/veth.h>

#include "netplane/bridge.h"

namespace stack::net {

namespace {

// Deletes the host end on scope exit unless dismissed: the rollback for
// every failure after the pair exists.
class VethGuard {
 public:
  VethGuard(NetlinkSocket& sock, std::string name) : sock_(sock), name_(std::move(name)) {}
  ~VethGuard() {
    if (armed_) (void)delete_endpoint(sock_, name_);
  }
  void dismiss() { armed_ = false; }

 private:
  NetlinkSocket& sock_;
  std::string name_;
  bool armed_ = true;
};

}  // namespace

Result<void> create_endpoint(NetlinkSocket& sock_host, const EndpointSpec& spec) {
  const std::string ns = spec.netns_label.empty() ? "fd " + std::to_string(spec.netns_fd) : spec.netns_label;
  const std::string what = "add veth " + spec.host_ifname + " -> " + spec.container_ifname + " in netns " + ns;
  // Validate and look everything up before creating anything.
  if (auto a = parse_ipv4(spec.address); !a) return tl::unexpected(a.error().wrap(what));
  if (!spec.gateway.empty())
    if (auto g = parse_ipv4(spec.gateway); !g) return tl::unexpected(g.error().wrap(what));
  NlAddrPtr mac;
  if (!spec.mac_address.empty()) {
    nl_addr* parsed = nullptr;
    if (nl_addr_parse(spec.mac_address.c_str(), AF_LLC, &parsed) < 0 || nl_addr_get_len(parsed) != 6) {
      if (parsed) nl_addr_put(parsed);
      return stack::fail(what + ": invalid MAC address \"" + spec.mac_address + "\"", EINVAL);
    }
    mac.reset(parsed);
  }
  auto csock = NetlinkSocket::open_in_netns(spec.netns_fd, spec.netns_label);
  if (!csock) return tl::unexpected(csock.error().wrap(what));
  auto br = get_link(sock_host, spec.bridge);
  if (!br) return tl::unexpected(br.error().wrap(what));
  if (!*br) return stack::fail(what + ": bridge " + spec.bridge + " not found in " + sock_host.where(), ENODEV);

  // One RTM_NEWLINK makes the pair, names the peer, moves it into the
  // container netns, enslaves the host end and brings it up.
  LinkPtr veth(rtnl_link_veth_alloc());
  if (!veth) return stack::fail(what + ": allocate veth", ENOMEM);
  LinkPtr peer(rtnl_link_veth_get_peer(veth.get()));  // takes a reference
  const std::string tag = link_tag(spec.network);
  rtnl_link_set_name(veth.get(), spec.host_ifname.c_str());
  rtnl_link_set_master(veth.get(), rtnl_link_get_ifindex(br->get()));
  rtnl_link_set_flags(veth.get(), IFF_UP);
  rtnl_link_set_name(peer.get(), spec.container_ifname.c_str());
  rtnl_link_set_ns_fd(peer.get(), spec.netns_fd);
  if (mac) rtnl_link_set_addr(peer.get(), mac.get());
  if (spec.mtu) {
    rtnl_link_set_mtu(veth.get(), spec.mtu);
    rtnl_link_set_mtu(peer.get(), spec.mtu);
  }
  if (int err = rtnl_link_add(sock_host.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return tl::unexpected(sock_host.error(err, what));
  VethGuard guard(sock_host, spec.host_ifname);
  // The kernel ignores IFLA_IFALIAS on creation (only setlink applies it),
  // so the tag costs one more request.
  {
    auto made = get_link(sock_host, spec.host_ifname);
    if (!made) return tl::unexpected(made.error().wrap(what));
    if (!*made) return stack::fail(what + ": host end not found after create", ENODEV);
    LinkPtr change(rtnl_link_alloc());
    if (!change) return stack::fail(what + ": allocate link", ENOMEM);
    rtnl_link_set_ifalias(change.get(), tag.c_str());
    if (int err = rtnl_link_change(sock_host.get(), made->get(), change.get(), 0); err < 0)
      return tl::unexpected(sock_host.error(err, what + ": set alias " + tag));
  }

  // Inside the container netns.
  auto eth = get_link(*csock, spec.container_ifname);
  if (!eth) return tl::unexpected(eth.error().wrap(what));
  if (!*eth) return stack::fail(what + ": peer not found after create", ENODEV);
  int eth_index = rtnl_link_get_ifindex(eth->get());
  if (auto r = add_ipv4_address(*csock, eth_index, spec.container_ifname, spec.address); !r)
    return tl::unexpected(r.error().wrap(what));
  if (auto r = set_link_up(*csock, spec.container_ifname); !r) return tl::unexpected(r.error().wrap(what));
  if (auto r = set_link_up(*csock, "lo"); !r) return tl::unexpected(r.error().wrap(what));
  if (!spec.gateway.empty())
    if (auto r = add_default_route(*csock, eth_index, spec.gateway); !r)
      return tl::unexpected(r.error().wrap(what));
  guard.dismiss();
  return {};
}

Result<void> delete_endpoint(NetlinkSocket& sock_host, const std::string& host_ifname) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return stack::fail("allocate link", ENOMEM);
  rtnl_link_set_name(link.get(), host_ifname.c_str());
  int err = rtnl_link_delete(sock_host.get(), link.get());
  if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
    return tl::unexpected(sock_host.error(err, "delete veth " + host_ifname + " in " + sock_host.where()));
  return {};
}

namespace {

struct AckState {
  std::map<unsigned, std::string> pending;  // seq -> what the request was about
  std::string failures;                     // "name: error; ..."
};

int on_ack(nl_msg* msg, void* arg) {
  static_cast<AckState*>(arg)->pending.erase(nlmsg_hdr(msg)->nlmsg_seq);
  return NL_OK;
}

int on_error(sockaddr_nl*, nlmsgerr* e, void* arg) {
  auto* st = static_cast<AckState*>(arg);
  auto it = st->pending.find(e->msg.nlmsg_seq);
  if (it != st->pending.end()) {
    int code = -e->error;
    if (code != ENODEV) {  // already gone: fine
      if (!st->failures.empty()) st->failures += "; ";
      st->failures += it->second + ": " + std::strerror(code);
    }
    st->pending.erase(it);
  }
  return NL_SKIP;  // keep reading the remaining acks
}

// Sends every request before reading any ack (one round trip's latency in
// all), then collects one ack or error per request. ENODEV counts as done.
// nl_send_auto stamps each request with the next sequence number and
// NLM_F_ACK, and reading all acks keeps libnl's expected-sequence counter in
// step for later calls on this socket.
Result<void> send_all(NetlinkSocket& sock, std::vector<std::pair<MsgPtr, std::string>>& requests,
                      const std::string& what) {
  // In windows of kWindow: every ack of a window must fit the socket's
  // receive buffer (libnl's default, 32 KiB), or the kernel drops acks and
  // the socket's sequence numbers fall out of step for good.
  constexpr size_t kWindow = 32;
  AckState st;
  CbPtr base(nl_socket_get_cb(sock.get()));  // returns a reference
  CbPtr cb(base ? nl_cb_clone(base.get()) : nullptr);
  if (!cb) return stack::fail(what + ": allocate callbacks", ENOMEM);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &st);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &st);
  for (size_t first = 0; first < requests.size(); first += kWindow) {
    for (size_t i = first; i < std::min(first + kWindow, requests.size()); ++i) {
      auto& [msg, label] = requests[i];
      if (int err = nl_send_auto(sock.get(), msg.get()); err < 0)
        return tl::unexpected(nl_error(err, what + ": send request for " + label));
      st.pending.emplace(nlmsg_hdr(msg.get())->nlmsg_seq, label);
    }
    while (!st.pending.empty()) {
      if (int err = nl_recvmsgs(sock.get(), cb.get()); err < 0)
        return tl::unexpected(nl_error(err, what + ": read acks"));
    }
  }
  if (!st.failures.empty()) return stack::fail(what + ": " + st.failures, 0);
  return {};
}

// An RTM_SETLINK/RTM_DELLINK with a bare ifinfomsg; the link is picked by the
// attributes the caller adds (IFLA_IFNAME, or IFLA_GROUP for a group delete).
Result<MsgPtr> link_request(int type) {
  MsgPtr msg(nlmsg_alloc_simple(type, 0));
  if (!msg) return stack::fail("allocate netlink message", ENOMEM);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) return stack::fail("build netlink message", ENOMEM);
  return msg;
}

// A link group for one batch: random (a crash between the two phases may
// leave links in a group, and a later batch must not pick it again), with
// the high bits set to keep clear of the small numbers /etc/iproute2/group
// and admins use.
uint32_t batch_group() {
  static std::mutex mu;
  static std::mt19937 gen{std::random_device{}()};
  std::lock_guard lock(mu);
  return 0x40000000u | (gen() & 0x3fffffffu);
}

// Builds one RTM_SETLINK per name moving it into `group`.
Result<std::vector<std::pair<MsgPtr, std::string>>> regroup_requests(const std::vector<std::string>& names,
                                                                     uint32_t group) {
  std::vector<std::pair<MsgPtr, std::string>> out;
  for (const auto& name : names) {
    auto msg = link_request(RTM_SETLINK);
    if (!msg) return tl::unexpected(msg.error());
    if (nla_put_string(msg->get(), IFLA_IFNAME, name.c_str()) < 0 || nla_put_u32(msg->get(), IFLA_GROUP, group) < 0)
      return stack::fail("build request for " + name, ENOMEM);
    out.emplace_back(std::move(*msg), name);
  }
  return out;
}

}  // namespace

// Deleting a veth costs one RCU grace period in the kernel (~16 ms here), and
// RTM_DELLINKs are processed one by one, each waiting for its own. A group
// delete (RTM_DELLINK with IFLA_GROUP) unregisters every link of the group in
// one unregister_netdevice_many(): one grace period for the whole batch. So
// the links are first moved into a fresh group (cheap setlinks, pipelined),
// then deleted with one request; each veth's peer goes with it.
Result<void> delete_endpoints(NetlinkSocket& sock_host, const std::vector<std::string>& host_ifnames) {
  const std::string what = "delete " + std::to_string(host_ifnames.size()) + " veths in " + sock_host.where();
  if (host_ifnames.empty()) return {};
  if (host_ifnames.size() == 1) return delete_endpoint(sock_host, host_ifnames.front());
  const uint32_t group = batch_group();
  auto regroup = regroup_requests(host_ifnames, group);
  if (!regroup) return tl::unexpected(regroup.error().wrap(what));
  // A failed regroup leaves that link in its old group; the group delete
  // below still removes the others, and the error names the one left.
  auto moved = send_all(sock_host, *regroup, what + ": move into link group " + std::to_string(group));
  std::vector<std::pair<MsgPtr, std::string>> del;
  auto msg = link_request(RTM_DELLINK);
  if (!msg) return tl::unexpected(msg.error().wrap(what));
  if (nla_put_u32(msg->get(), IFLA_GROUP, group) < 0) return stack::fail(what + ": build group delete", ENOMEM);
  del.emplace_back(std::move(*msg), "link group " + std::to_string(group));
  if (auto r = send_all(sock_host, del, what); !r) {
    // Nothing was deleted: put the links back into the default group.
    if (auto back = regroup_requests(host_ifnames, 0)) (void)send_all(sock_host, *back, what);
    return r;
  }
  return moved;
}

}  // namespace stack::net
