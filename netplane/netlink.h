// An owned NETLINK_ROUTE socket (libnl-3), optionally bound to another network
// namespace, plus RAII owners for the libnl objects the netplane builds
// (links, addresses, routes, caches, messages) and the libnl -> errno mapping.
//
// A netlink socket talks to the network namespace it was created in for its
// whole life, so "operate inside container netns X" is simply "use a socket
// opened in X": open_in_netns() creates the socket on a short-lived helper
// thread that setns()'d into X, and the calling thread never changes netns.
#pragma once

#include <memory>
#include <string>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "base/error.h"

namespace stack::net {

using stack::Error;
using stack::Result;

namespace nlptr {
struct SockFree { void operator()(nl_sock* p) const { nl_socket_free(p); } };
struct LinkPut { void operator()(rtnl_link* p) const { rtnl_link_put(p); } };
struct AddrPut { void operator()(rtnl_addr* p) const { rtnl_addr_put(p); } };
struct RoutePut { void operator()(rtnl_route* p) const { rtnl_route_put(p); } };
struct NlAddrPut { void operator()(nl_addr* p) const { nl_addr_put(p); } };
struct CacheFree { void operator()(nl_cache* p) const { nl_cache_free(p); } };
struct MsgFree { void operator()(nl_msg* p) const { nlmsg_free(p); } };
struct CbPut { void operator()(nl_cb* p) const { nl_cb_put(p); } };
}  // namespace nlptr

using LinkPtr = std::unique_ptr<rtnl_link, nlptr::LinkPut>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, nlptr::AddrPut>;
using RoutePtr = std::unique_ptr<rtnl_route, nlptr::RoutePut>;
using NlAddrPtr = std::unique_ptr<nl_addr, nlptr::NlAddrPut>;
using CachePtr = std::unique_ptr<nl_cache, nlptr::CacheFree>;
using MsgPtr = std::unique_ptr<nl_msg, nlptr::MsgFree>;
using CbPtr = std::unique_ptr<nl_cb, nlptr::CbPut>;

// libnl returns its own negative NLE_* codes; map them to the errno the
// kernel most likely sent (0 when there is none) so Error::code stays errno.
int nl_errno(int nlerr);
// Error{errno, context}, or {0, context + ": " + nl_geterror()} when the libnl
// code has no errno equivalent.
Error nl_error(int nlerr, const std::string& context);

// Owns one connected NETLINK_ROUTE socket. Move-only. `where()` names the
// namespace for error messages ("netns fd 7" / "current netns").
class NetlinkSocket {
 public:
  // A socket in the calling thread's current network namespace.
  static Result<NetlinkSocket> open();
  // A socket in the network namespace `netns_fd` refers to (an fd of
  // /proc/PID/ns/net or /run/netns/NAME; the caller keeps owning it).
  // `label` names the namespace in error messages ("netns fd N" when empty).
  static Result<NetlinkSocket> open_in_netns(int netns_fd, const std::string& label = "");

  nl_sock* get() const { return sock_.get(); }
  const std::string& where() const { return where_; }
  // Like nl_error(), but recovers the kernel's errno when libnl folded it
  // into NLE_FAILURE (e.g. ENETUNREACH), using the error-ack callback this
  // class installs on the socket.
  Error error(int nlerr, const std::string& context) const;

 private:
  NetlinkSocket(std::unique_ptr<nl_sock, nlptr::SockFree> s, std::string where);
  std::unique_ptr<nl_sock, nlptr::SockFree> sock_;
  std::string where_;
  std::unique_ptr<int> last_kernel_errno_;  // heap: its address is given to libnl
};

// Free-function spelling of NetlinkSocket::open_in_netns.
Result<NetlinkSocket> open_in_netns(int netns_fd, const std::string& label = "");

// The link named `name` as the kernel reports it now, or nullptr when there
// is none (an error only for other failures).
Result<LinkPtr> get_link(NetlinkSocket& sock, const std::string& name);
// Parses "a.b.c.d/len" or "a.b.c.d" (AF_INET only).
Result<NlAddrPtr> parse_ipv4(const std::string& text);
// Sets IFF_UP on the link named `name`.
Result<void> set_link_up(NetlinkSocket& sock, const std::string& name);
// Adds `cidr` ("10.0.0.1/24") to the link with index `ifindex`; an address
// that is already there is not an error (idempotent).
Result<void> add_ipv4_address(NetlinkSocket& sock, int ifindex, const std::string& ifname,
                              const std::string& cidr);
// Adds the IPv4 default route via `gateway` out of link `ifindex`.
Result<void> add_default_route(NetlinkSocket& sock, int ifindex, const std::string& gateway);

}  // namespace stack::net
