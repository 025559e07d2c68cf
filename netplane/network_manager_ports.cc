// Published ports, UDP conntrack flushing, host-route discovery and crash
// recovery (sweep) of the network manager.
#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <cstring>
#include <set>

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/route/link/bridge.h>
#include <nlohmann/json.hpp>

#include "netplane/bridge.h"
#include "netplane/ifname.h"
#include "netplane/network_manager_impl.h"
#include "netplane/veth.h"
#include "base/fd.h"

extern char** environ;

namespace stack::net {
namespace {

uint16_t last_port(const PortMapping& m) { return m.host_port_end ? m.host_port_end : m.host_port; }

// Two mappings claim a common host port: same protocol, overlapping port
// ranges, and the same host address or either bound to every address.
bool overlaps(const PortMapping& a, const std::string& host_ip, uint16_t lo, uint16_t hi,
              const std::string& proto) {
  if (a.protocol != proto) return false;
  // "" is every IPv4 address, "::" every IPv6 one; the families never meet.
  bool v6a = a.host_ip.find(':') != std::string::npos, v6b = host_ip.find(':') != std::string::npos;
  if (v6a != v6b) return false;
  auto any = [](const std::string& ip) { return ip.empty() || ip == "::"; };
  if (!any(a.host_ip) && !any(host_ip) && a.host_ip != host_ip) return false;
  return a.host_port <= hi && lo <= last_port(a);
}

std::optional<IpAddr> ipv4_of(nl_addr* a) {
  if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) return std::nullopt;
  uint32_t v;
  std::memcpy(&v, nl_addr_get_binary_addr(a), 4);
  return IpAddr::v4(ntohl(v));
}

// The conntrack(8) binary, or "" when it is not installed.
std::string conntrack_tool() {
  for (const char* p : {"/usr/sbin/conntrack", "/sbin/conntrack", "/usr/bin/conntrack"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// Runs argv with stdout to /dev/null; returns exit status and stderr text.
Result<std::pair<int, std::string>> run_tool(const std::vector<std::string>& argv) {
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return stack::fail_errno("pipe");
  stack::UniqueFd rd(errpipe[0]), wr(errpipe[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return tl::unexpected(stack::Error{rc, "run " + argv[0]});
  wr.reset();
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), err);
}

struct NftRule {
  std::string chain, comment;
  uint64_t handle = 0;
};

// Every commented rule of table inet stack in the chains we fill, and the
// elements of the bridges set.
Result<std::pair<std::vector<NftRule>, std::vector<std::string>>> list_ours(Nft& nft) {
  if (!nft.exists("table inet stack")) return std::pair<std::vector<NftRule>, std::vector<std::string>>{};
  auto out = nft.list_json("list table inet stack");
  if (!out) return tl::unexpected(out.error());
  auto doc = nlohmann::json::parse(*out, nullptr, false);
  if (doc.is_discarded() || !doc.contains("nftables")) return stack::fail("parse nftables listing", EPROTO);
  std::vector<NftRule> rules;
  std::vector<std::string> bridges;
  for (const auto& item : doc["nftables"]) {
    if (item.contains("rule")) {
      const auto& r = item["rule"];
      std::string comment = r.value("comment", "");
      if (comment.rfind(kLinkTagPrefix, 0) == 0)
        rules.push_back({r.value("chain", ""), comment, r.value("handle", uint64_t{0})});
    } else if (item.contains("set") && item["set"].value("name", "") == "bridges" &&
               item["set"].contains("elem")) {
      for (const auto& e : item["set"]["elem"])
        if (e.is_string()) bridges.push_back(e.get<std::string>());
    }
  }
  return std::make_pair(rules, bridges);
}

}  // namespace

int NetworkManager::Impl::find_mapping(const PortMapping& m) const {
  for (size_t i = 0; i < mappings.size(); ++i)
    if (mapping_tag(mappings[i]) == mapping_tag(m)) return static_cast<int>(i);
  return -1;
}

Result<std::vector<Subnet>> host_subnets(NetlinkSocket& sock) {
  std::vector<Subnet> out;
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(sock.get(), AF_INET, 0, &raw); err < 0)
    return tl::unexpected(sock.error(err, "list IPv4 routes in " + sock.where()));
  CachePtr routes(raw);
  for (nl_object* o = nl_cache_get_first(routes.get()); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    // The local table holds the host's own addresses (covered below); a
    // default route would overlap everything.
    if (rtnl_route_get_table(r) == RT_TABLE_LOCAL) continue;
    nl_addr* dst = rtnl_route_get_dst(r);
    auto ip = ipv4_of(dst);
    if (!ip || nl_addr_get_prefixlen(dst) == 0) continue;
    out.push_back(Subnet::of(*ip, static_cast<int>(nl_addr_get_prefixlen(dst))));
  }
  raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock.get(), &raw); err < 0)
    return tl::unexpected(sock.error(err, "list addresses in " + sock.where()));
  CachePtr addrs(raw);
  for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    auto ip = ipv4_of(rtnl_addr_get_local(a));
    if (ip) out.push_back(Subnet::of(*ip, rtnl_addr_get_prefixlen(a)));
  }
  return out;
}

Result<void> attach_to_bridge(NetlinkSocket& sock, const std::string& ifname, const std::string& bridge) {
  const std::string what = "attach " + ifname + " to bridge " + bridge;
  auto link = get_link(sock, ifname);
  if (!link) return tl::unexpected(link.error().wrap(what));
  auto br = get_link(sock, bridge);
  if (!br) return tl::unexpected(br.error().wrap(what));
  if (!*link || !*br) return stack::fail(what + ": link missing", ENODEV);
  int br_index = rtnl_link_get_ifindex(br->get());
  if (rtnl_link_get_master(link->get()) == br_index) return {};
  LinkPtr change(rtnl_link_alloc());
  if (!change) return stack::fail(what + ": allocate link", ENOMEM);
  rtnl_link_set_master(change.get(), br_index);
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock.get(), link->get(), change.get(), 0); err < 0)
    return tl::unexpected(sock.error(err, what));
  return {};
}

Result<void> enable_hairpin(NetlinkSocket& sock, const std::string& ifname) {
  const std::string what = "enable hairpin mode on bridge port " + ifname;
  auto link = get_link(sock, ifname);
  if (!link) return tl::unexpected(link.error().wrap(what));
  if (!*link) return stack::fail(what + ": no such link", ENODEV);
  // An AF_BRIDGE setlink carrying IFLA_PROTINFO with IFLA_BRPORT_MODE.
  // libnl asserts that both objects have the same family, so the "original"
  // is an AF_BRIDGE stub with just the ifindex.
  LinkPtr orig(rtnl_link_alloc()), change(rtnl_link_alloc());
  if (!orig || !change) return stack::fail(what + ": allocate link", ENOMEM);
  rtnl_link_set_ifindex(orig.get(), rtnl_link_get_ifindex(link->get()));
  rtnl_link_set_family(orig.get(), AF_BRIDGE);
  rtnl_link_set_family(change.get(), AF_BRIDGE);
  if (int err = rtnl_link_bridge_set_flags(change.get(), RTNL_BRIDGE_HAIRPIN_MODE); err < 0)
    return tl::unexpected(nl_error(err, what));
  if (int err = rtnl_link_change(sock.get(), orig.get(), change.get(), 0); err < 0)
    return tl::unexpected(sock.error(err, what));
  return {};
}

Result<void> flush_udp_conntrack(const PortMapping& m, const std::vector<Backend>& removed) {
  // libnetfilter_conntrack is not available here, so this uses conntrack(8):
  // it dumps and deletes entry by entry, which is what a filtered delete
  // over ctnetlink would have to do as well. A DNAT'd flow's entry has the
  // host port as original destination and the backend as reply source.
  std::string tool = conntrack_tool();
  if (tool.empty()) return stack::fail("flush conntrack: conntrack(8) not installed", ENOENT);
  for (const auto& b : removed) {
    for (uint32_t p = m.host_port; p <= last_port(m); ++p) {
      uint32_t bport = b.port + (p - m.host_port);
      auto r = run_tool({tool, "-D", "-p", "udp", "--orig-port-dst", std::to_string(p), "--reply-src", b.ip,
                         "--reply-port-src", std::to_string(bport)});
      if (!r) return tl::unexpected(r.error().wrap("flush conntrack"));
      // Exit 1 with "0 flow entries have been deleted" is the nothing-to-do case.
      if (r->first != 0 && r->second.find("flow entries have been deleted") == std::string::npos)
        return stack::fail("flush conntrack of " + b.ip + ":" + std::to_string(bport) + ": " + r->second);
    }
  }
  return {};
}

// A mapping without backends is a reservation: it is recorded (so no other
// stack can take the port, and port_in_use() says so) but has no DNAT rule,
// since nft cannot map to an empty set; a connection then meets the host's
// closed port and is refused, as with no replica at all. The swaps move a
// mapping between "no rule", "rule" and "other rule" in one nft transaction.
// An IPv6 mapping's reservation is the proxy's bound listener itself.
Result<void> NetworkManager::Impl::swap_rules(const PortMapping* before, const PortMapping* after) {
  const PortMapping* any = after ? after : before;
  if (any && is_ipv6_mapping(*any)) {
    if (!after) {
      if (proxy_) proxy_->remove(*before);
      return {};
    }
    if (before && proxy().set_backends(*after)) return {};
    return proxy().add(*after);
  }
  bool had = before && !before->backends.empty();
  bool has = after && !after->backends.empty();
  if (has && had) return net::update_backends(nft, *after);
  if (has) return net::publish(nft, *after);
  if (had) return net::unpublish(nft, *before);
  if (!after || before) return {};
  // A new reservation: the host sockets check publish() would have made.
  for (uint32_t p = after->host_port; p <= last_port(*after); ++p) {
    auto busy = port_conflict(after->host_ip, static_cast<uint16_t>(p), after->protocol);
    if (!busy) return tl::unexpected(busy.error());
    if (*busy)
      return stack::fail("publish " + mapping_tag(*after) + ": host port " + std::to_string(p) + "/" +
                          after->protocol + " is already in use by a host process",
                      EADDRINUSE);
  }
  return {};
}

Result<void> NetworkManager::publish(const PortMapping& m) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "publish " + mapping_tag(m);
  if (!im.ipam.find(m.network)) return stack::fail(what + ": no such network", ENOENT);
  if (im.find_mapping(m) >= 0) return stack::fail(what + ": already published", EEXIST);
  for (const auto& other : im.mappings)
    if (overlaps(other, m.host_ip, m.host_port, last_port(m), m.protocol))
      return stack::fail(what + ": host port already published as " + mapping_tag(other), EADDRINUSE);
  STACK_TRY(im.swap_rules(nullptr, &m));  // checks host sockets before creating anything
  Undo undo;
  undo.add([&] { (void)im.swap_rules(&m, nullptr); });
  im.mappings.push_back(m);
  undo.add([&] { im.mappings.pop_back(); });
  STACK_TRY_CTX(im.save(), what);
  undo.commit();
  return {};
}

Result<void> NetworkManager::update_backends(const PortMapping& m) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "update backends of " + mapping_tag(m);
  int idx = im.find_mapping(m);
  if (idx < 0) return stack::fail(what + ": not published", ENOENT);
  PortMapping old = im.mappings[idx];
  std::vector<Backend> removed;
  for (const auto& b : old.backends)
    if (std::none_of(m.backends.begin(), m.backends.end(),
                     [&](const Backend& n) { return n.ip == b.ip && n.port == b.port; }))
      removed.push_back(b);
  // The proxy drops a removed backend's UDP sessions itself.
  bool flush = m.protocol == "udp" && !removed.empty() && !is_ipv6_mapping(m);
  if (flush && conntrack_tool().empty())
    return stack::fail(what + ": conntrack(8) is needed to move UDP flows off removed backends", ENOENT);
  STACK_TRY(im.swap_rules(&old, &m));
  Undo undo;
  undo.add([&] { (void)im.swap_rules(&m, &old); });
  im.mappings[idx] = m;
  undo.add([&] { im.mappings[idx] = old; });
  STACK_TRY_CTX(im.save(), what);
  undo.commit();
  // After the rule swap, so a removed backend's flow cannot be re-created
  // by a datagram racing the flush. TCP keeps its established connections.
  if (flush) STACK_TRY_CTX(flush_udp_conntrack(m, removed), what + " (rules updated)");
  return {};
}

Result<std::map<std::string, uint64_t>> NetworkManager::published_connections() {
  std::lock_guard lk(mu_);
  auto counts = net::connection_counts(impl_->nft);
  if (!counts) return tl::unexpected(counts.error());
  std::map<std::string, uint64_t> by_ip;
  for (const auto& c : *counts) by_ip[c.ip] += c.connections;
  return by_ip;
}

Result<void> NetworkManager::unpublish(const PortMapping& m) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "unpublish " + mapping_tag(m);
  int idx = im.find_mapping(m);
  // Not recorded: still remove a rule a crash may have left.
  if (idx < 0) return is_ipv6_mapping(m) ? im.swap_rules(&m, nullptr) : net::unpublish(im.nft, m);
  PortMapping old = im.mappings[idx];
  STACK_TRY(im.swap_rules(&old, nullptr));
  im.mappings.erase(im.mappings.begin() + idx);
  if (auto r = im.save(); !r) {
    im.mappings.insert(im.mappings.begin() + idx, old);
    (void)im.swap_rules(nullptr, &old);
    return tl::unexpected(r.error().wrap(what));
  }
  return {};
}

Result<bool> NetworkManager::port_in_use(const std::string& host_ip, uint16_t port, const std::string& proto) {
  std::lock_guard lock(mu_);
  for (const auto& m : impl_->mappings)
    if (overlaps(m, host_ip, port, port, proto)) return true;
  return port_conflict(host_ip, port, proto);
}

Result<SweepReport> NetworkManager::sweep(const KeepSet& keep) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "sweep network state";
  SweepReport rep;

  // Only what belongs to networks in this manager's state (or kept) is
  // touched: another manager on the same host (a second stackd with its own
  // root, a test) tags its objects the same way, and they are not ours.
  std::set<std::string> mine(keep.networks.begin(), keep.networks.end());
  for (const auto& n : im.ipam.network_names()) mine.insert(n);
  for (const auto& [n, _] : im.meta) mine.insert(n);
  // "stack:<network>" or "stack:<network>:<ports>/<proto>" -> <network>.
  auto network_of = [](const std::string& tag) {
    std::string rest = tag.substr(std::string(kLinkTagPrefix).size());
    return rest.substr(0, rest.find(':'));
  };
  std::set<std::string> my_bridges;
  for (const auto& n : mine) my_bridges.insert(bridge_name(n));

  // Links: our bridges of kept networks and veths of kept endpoints stay.
  std::set<std::string> keep_links;
  for (const auto& n : keep.networks) keep_links.insert(bridge_name(n));
  for (const auto& [cid, net] : keep.endpoints) keep_links.insert(endpoint_ifname(cid, net));
  auto links = list_tagged_links(im.nl, kLinkTagPrefix);
  if (!links) return tl::unexpected(links.error().wrap(what));
  std::vector<std::string> veths;
  for (const auto& l : *links) {
    if (keep_links.count(l.name) || !mine.count(network_of(l.alias))) continue;
    if (l.type == "bridge") {
      STACK_TRY_CTX(delete_bridge(im.nl, l.name), what);
    } else {
      veths.push_back(l.name);
    }
    rep.removed_links.push_back(l.name);
  }
  STACK_TRY_CTX(delete_endpoints(im.nl, veths), what);

  // nft: per-network rules of kept networks, DNAT rules of kept mappings.
  std::set<std::string> keep_tags;
  for (const auto& n : keep.networks) keep_tags.insert(link_tag(n));
  for (const auto& m : keep.mappings) keep_tags.insert(mapping_tag(m));
  auto ours = list_ours(im.nft);
  if (!ours) return tl::unexpected(ours.error().wrap(what));
  std::string cmds;
  for (const auto& r : ours->first) {
    if (keep_tags.count(r.comment) || !mine.count(network_of(r.comment))) continue;
    cmds += "delete rule inet stack " + r.chain + " handle " + std::to_string(r.handle) + "\n";
    if (std::find(rep.removed_rules.begin(), rep.removed_rules.end(), r.comment) == rep.removed_rules.end())
      rep.removed_rules.push_back(r.comment);
  }
  for (const auto& b : ours->second)
    if (!keep_links.count(b) && my_bridges.count(b)) cmds += "delete element inet stack bridges { \"" + b + "\" }\n";
  if (!cmds.empty()) STACK_TRY_CTX(im.nft.run(cmds, what), what);

  // IPAM and recorded state.
  for (const auto& n : im.ipam.network_names()) {
    if (!keep.networks.count(n)) {
      for (const auto& l : im.ipam.leases(n)) rep.released_leases.push_back(n + "/" + l.id);
      STACK_TRY_CTX(im.ipam.remove_network(n), what);
      im.meta.erase(n);
      rep.removed_networks.push_back(n);
      continue;
    }
    for (const auto& l : im.ipam.leases(n)) {
      if (keep.endpoints.count({l.id, n})) continue;
      STACK_TRY_CTX(im.ipam.release(n, l.id), what);
      rep.released_leases.push_back(n + "/" + l.id);
    }
  }
  // Kept networks get their bridge and rules back (e.g. after a reboot);
  // kept mappings their DNAT rules, with the backends the caller wants now.
  for (const auto& n : keep.networks)
    if (im.ipam.find(n)) STACK_TRY_CTX(im.ensure_kernel_state(n), what);
  for (const auto& [cid, net] : keep.endpoints) {
    std::string host_if = endpoint_ifname(cid, net);
    auto l = get_link(im.nl, host_if);
    if (l && *l && im.ipam.find(net)) STACK_TRY_CTX(attach_to_bridge(im.nl, host_if, bridge_name(net)), what);
  }
  // Proxied mappings of this process that are not kept close now.
  for (const auto& m : im.mappings)
    if (is_ipv6_mapping(m) && !keep_tags.count(mapping_tag(m))) (void)im.swap_rules(&m, nullptr);
  im.mappings.clear();
  for (const auto& m : keep.mappings) {
    if (!im.ipam.find(m.network)) {
      if (is_ipv6_mapping(m)) (void)im.swap_rules(&m, nullptr);  // a listener of this process
      continue;
    }
    if (is_ipv6_mapping(m)) {  // a proxy of this process, or a new one after a restart
      // Recorded even when the port cannot be bound again now (a host
      // process took it while no daemon held it): the next backend update
      // retries, and the other mappings are still restored.
      if (auto r = im.swap_rules(&m, &m); !r) rep.unserved_mappings.push_back(mapping_tag(m) + ": " + r.error().message());
      im.mappings.push_back(m);
      continue;
    }
    // An empty mapping is a reservation: no rule (a stale one pointing at a
    // gone replica is deleted).
    auto up = m.backends.empty() ? net::unpublish(im.nft, m) : net::update_backends(im.nft, m);
    if (!up && up.error().code == ENOENT) up = net::publish(im.nft, m);
    if (!up) return tl::unexpected(up.error().wrap(what));
    im.mappings.push_back(m);
  }
  STACK_TRY_CTX(im.save(), what);
  return rep;
}

}  // namespace stack::net
