#include "netplane/tc.h"

#include <linux/pkt_sched.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <netlink/errno.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

namespace stack::net {
namespace {

struct QdiscPut {
  void operator()(rtnl_qdisc* q) const { rtnl_qdisc_put(q); }
};
using QdiscPtr = std::unique_ptr<rtnl_qdisc, QdiscPut>;

constexpr uint32_t kRootHandle = 0x00010000;  // "1:"
constexpr int kQueueLatencyUsec = 50000;

Result<int> ifindex_of(NetlinkSocket& sock, const std::string& ifname, const std::string& what) {
  auto link = get_link(sock, ifname);
  if (!link) return tl::unexpected(link.error().wrap(what));
  if (!*link) return stack::fail(what + ": no link " + ifname + " in " + sock.where(), ENODEV);
  return rtnl_link_get_ifindex(link->get());
}

// A root qdisc object for `ifindex` (the key the kernel matches on).
QdiscPtr root_qdisc(int ifindex) {
  QdiscPtr q(rtnl_qdisc_alloc());
  if (!q) return q;
  rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(q.get()), kRootHandle);
  return q;
}

}  // namespace

Result<void> set_egress_limit(NetlinkSocket& sock, const std::string& ifname, uint64_t bytes_per_sec) {
  const std::string what = "set egress limit " + std::to_string(bytes_per_sec) + " B/s on " + ifname;
  if (bytes_per_sec == 0 || bytes_per_sec > INT_MAX)
    return stack::fail(what + ": rate must be 1.." + std::to_string(INT_MAX) + " bytes per second", EINVAL);
  auto idx = ifindex_of(sock, ifname, what);
  if (!idx) return tl::unexpected(idx.error());
  QdiscPtr q = root_qdisc(*idx);
  if (!q) return stack::fail(what + ": allocate qdisc", ENOMEM);
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), "tbf"); err < 0)
    return tl::unexpected(nl_error(err, what + ": qdisc kind tbf"));
  int rate = static_cast<int>(bytes_per_sec);
  int bucket = std::max(rate / 10, 64 * 1024);
  rtnl_qdisc_tbf_set_rate(q.get(), rate, bucket, 0);
  if (int err = rtnl_qdisc_tbf_set_limit_by_latency(q.get(), kQueueLatencyUsec); err < 0)
    return tl::unexpected(nl_error(err, what + ": queue limit"));
  // NLM_F_REPLACE: an existing root qdisc (the default noqueue/pfifo, or a
  // tbf of an earlier call) is swapped atomically.
  if (int err = rtnl_qdisc_add(sock.get(), q.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
    return tl::unexpected(sock.error(err, what + " in " + sock.where()));
  return {};
}

Result<std::optional<EgressLimit>> get_egress_limit(NetlinkSocket& sock, const std::string& ifname) {
  const std::string what = "read egress limit of " + ifname;
  auto idx = ifindex_of(sock, ifname, what);
  if (!idx) return tl::unexpected(idx.error());
  nl_cache* raw = nullptr;
  if (int err = rtnl_qdisc_alloc_cache(sock.get(), &raw); err < 0)
    return tl::unexpected(sock.error(err, what + ": list qdiscs in " + sock.where()));
  CachePtr cache(raw);
  QdiscPtr q(rtnl_qdisc_get_by_parent(cache.get(), *idx, TC_H_ROOT));  // takes a reference
  if (!q) return std::optional<EgressLimit>{};
  const char* kind = rtnl_tc_get_kind(TC_CAST(q.get()));
  if (!kind || std::strcmp(kind, "tbf") != 0) return std::optional<EgressLimit>{};
  EgressLimit l;
  l.bytes_per_sec = static_cast<uint64_t>(rtnl_qdisc_tbf_get_rate(q.get()));
  l.burst_bytes = static_cast<uint32_t>(rtnl_qdisc_tbf_get_rate_bucket(q.get()));
  return std::optional<EgressLimit>{l};
}

Result<void> clear_egress_limit(NetlinkSocket& sock, const std::string& ifname) {
  const std::string what = "clear egress limit on " + ifname;
  auto cur = get_egress_limit(sock, ifname);
  if (!cur) return tl::unexpected(cur.error());
  if (!*cur) return {};
  auto idx = ifindex_of(sock, ifname, what);
  if (!idx) return tl::unexpected(idx.error());
  QdiscPtr q = root_qdisc(*idx);
  if (!q) return stack::fail(what + ": allocate qdisc", ENOMEM);
  int err = rtnl_qdisc_delete(sock.get(), q.get());
  if (err < 0 && err != -NLE_OBJ_NOTFOUND)
    return tl::unexpected(sock.error(err, what + " in " + sock.where()));
  return {};
}

}  // namespace stack::net
