#include "netplane/netlink.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>
#include <utility>

#include <netlink/errno.h>
#include <netlink/route/nexthop.h>

namespace stack::net {

int nl_errno(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_SUCCESS: return 0;
    case NLE_INTR: return EINTR;
    case NLE_BAD_SOCK: return EBADF;
    case NLE_AGAIN: return EAGAIN;
    case NLE_NOMEM: return ENOMEM;
    case NLE_EXIST: return EEXIST;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_MSGSIZE: return EMSGSIZE;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_BUSY: return EBUSY;
    case NLE_NOACCESS: return EACCES;
    case NLE_PERM: return EPERM;
    case NLE_NODEV: return ENODEV;
    default: return 0;
  }
}

Error nl_error(int nlerr, const std::string& context) {
  int e = nl_errno(nlerr);
  if (e != 0) return Error{e, context};
  return Error{0, context + ": " + nl_geterror(nlerr)};
}

namespace {

Result<std::unique_ptr<nl_sock, nlptr::SockFree>> connect_here() {
  std::unique_ptr<nl_sock, nlptr::SockFree> s(nl_socket_alloc());
  if (!s) return stack::fail("allocate netlink socket", ENOMEM);
  if (int err = nl_connect(s.get(), NETLINK_ROUTE); err < 0)
    return tl::unexpected(nl_error(err, "connect NETLINK_ROUTE socket"));
  return s;
}

// The socket's default error handling, plus remembering the kernel errno.
int remember_errno(sockaddr_nl*, nlmsgerr* e, void* arg) {
  *static_cast<int*>(arg) = -e->error;
  return NL_STOP;  // nl_recvmsgs then returns -nl_syserr2nlerr(errno), as by default
}

}  // namespace

NetlinkSocket::NetlinkSocket(std::unique_ptr<nl_sock, nlptr::SockFree> s, std::string where)
    : sock_(std::move(s)), where_(std::move(where)), last_kernel_errno_(std::make_unique<int>(0)) {
  CbPtr cb(nl_socket_get_cb(sock_.get()));  // a reference to the socket's own callbacks
  if (cb) nl_cb_err(cb.get(), NL_CB_CUSTOM, remember_errno, last_kernel_errno_.get());
}

Error NetlinkSocket::error(int nlerr, const std::string& context) const {
  int kernel = std::exchange(*last_kernel_errno_, 0);
  int mapped = nl_errno(nlerr);
  if (mapped == 0 && kernel != 0 && nl_syserr2nlerr(kernel) == (nlerr < 0 ? -nlerr : nlerr))
    return Error{kernel, context};
  return nl_error(nlerr, context);
}

Result<NetlinkSocket> NetlinkSocket::open() {
  auto s = connect_here();
  if (!s) return tl::unexpected(s.error());
  return NetlinkSocket(std::move(*s), "current netns");
}

Result<NetlinkSocket> NetlinkSocket::open_in_netns(int netns_fd, const std::string& label) {
  std::string where = label.empty() ? "netns fd " + std::to_string(netns_fd) : "netns " + label;
  // setns(CLONE_NEWNET) only affects the calling thread; doing it on a
  // throwaway thread means the caller's thread never leaves its namespace,
  // even if something below fails. The socket keeps the netns it was made in.
  Result<std::unique_ptr<nl_sock, nlptr::SockFree>> out = stack::fail("netns helper thread did not run");
  std::thread helper([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      out = stack::fail_errno("setns into " + where);
      return;
    }
    out = connect_here();
  });
  helper.join();
  if (!out) return tl::unexpected(out.error().wrap("open netlink socket in " + where));
  return NetlinkSocket(std::move(*out), where);
}

Result<NetlinkSocket> open_in_netns(int netns_fd, const std::string& label) {
  return NetlinkSocket::open_in_netns(netns_fd, label);
}

Result<LinkPtr> get_link(NetlinkSocket& sock, const std::string& name) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sock.get(), 0, name.c_str(), &raw);
  LinkPtr link(raw);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return LinkPtr{};
  if (err < 0) return tl::unexpected(sock.error(err, "get link " + name + " in " + sock.where()));
  return link;
}

Result<NlAddrPtr> parse_ipv4(const std::string& text) {
  nl_addr* raw = nullptr;
  int err = nl_addr_parse(text.c_str(), AF_INET, &raw);
  NlAddrPtr a(raw);
  if (err < 0) return tl::unexpected(nl_error(err, "parse IPv4 address \"" + text + "\""));
  return a;
}

Result<void> set_link_up(NetlinkSocket& sock, const std::string& name) {
  auto cur = get_link(sock, name);
  if (!cur) return tl::unexpected(cur.error());
  if (!*cur) return stack::fail("set " + name + " up in " + sock.where(), ENODEV);
  LinkPtr change(rtnl_link_alloc());
  if (!change) return stack::fail("allocate link", ENOMEM);
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock.get(), cur->get(), change.get(), 0); err < 0)
    return tl::unexpected(sock.error(err, "set " + name + " up in " + sock.where()));
  return {};
}

Result<void> add_ipv4_address(NetlinkSocket& sock, int ifindex, const std::string& ifname,
                              const std::string& cidr) {
  auto local = parse_ipv4(cidr);
  if (!local) return tl::unexpected(local.error());
  RtAddrPtr addr(rtnl_addr_alloc());
  if (!addr) return stack::fail("allocate address", ENOMEM);
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), AF_INET);
  if (int err = rtnl_addr_set_local(addr.get(), local->get()); err < 0)
    return tl::unexpected(nl_error(err, "set local address " + cidr));
  // The kernel answers EEXIST when this exact address is already on the
  // link: that is the idempotent "already there" case.
  int err = rtnl_addr_add(sock.get(), addr.get(), NLM_F_EXCL);
  if (err < 0 && err != -NLE_EXIST)
    return tl::unexpected(sock.error(err, "add address " + cidr + " to " + ifname + " in " + sock.where()));
  return {};
}

Result<void> add_default_route(NetlinkSocket& sock, int ifindex, const std::string& gateway) {
  auto gw = parse_ipv4(gateway);
  if (!gw) return tl::unexpected(gw.error());
  auto dst = parse_ipv4("0.0.0.0/0");
  if (!dst) return tl::unexpected(dst.error());
  RoutePtr route(rtnl_route_alloc());
  if (!route) return stack::fail("allocate route", ENOMEM);
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
  rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  if (int err = rtnl_route_set_dst(route.get(), dst->get()); err < 0)
    return tl::unexpected(nl_error(err, "set route destination"));
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) return stack::fail("allocate nexthop", ENOMEM);
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, gw->get());
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh from here on
  if (int err = rtnl_route_add(sock.get(), route.get(), NLM_F_EXCL); err < 0)
    return tl::unexpected(sock.error(err, "add default route via " + gateway + " in " + sock.where()));
  return {};
}

}  // namespace stack::net
