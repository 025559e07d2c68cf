#include "netplane/nat.h"

#include "base/io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "netplane/ifname.h"
#include "base/fd.h"

namespace stack::net {
namespace {

constexpr const char* kTable = "inet stack";

// Everything we splice into nft text is validated first, so a name can never
// inject a command into a transaction.
bool valid_network_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool valid_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool valid_subnet(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || !valid_ipv4(s.substr(0, slash))) return false;
  std::string len = s.substr(slash + 1);
  if (len.empty() || len.size() > 2) return false;
  for (char c : len)
    if (!isdigit(static_cast<unsigned char>(c))) return false;
  return std::stoi(len) <= 32;
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }

uint16_t port_end(const PortMapping& m) {
  return m.host_port_end == 0 ? m.host_port : m.host_port_end;
}

stack::Result<void> validate(const PortMapping& m, bool need_backends) {
  std::string what = "port mapping " + mapping_tag(m);
  if (!valid_network_name(m.network)) return stack::fail(what + ": invalid network name", EINVAL);
  if (is_ipv6_mapping(m))
    return stack::fail(what + ": IPv6 host address: not a DNAT mapping (port_proxy.h forwards it)", EINVAL);
  if (!m.host_ip.empty() && !valid_ipv4(m.host_ip))
    return stack::fail(what + ": invalid host ip '" + m.host_ip + "'", EINVAL);
  if (need_backends && m.backends.empty()) return stack::fail(what + ": no backends", EINVAL);
  return check_ports_and_backends(m);
}

// Handles of the rules in `chain` whose comment equals `tag`.
stack::Result<std::vector<uint64_t>> tagged_handles(Nft& nft, const std::string& chain,
                                                 const std::string& tag) {
  auto out = nft.list_json(std::string("list chain ") + kTable + " " + chain);
  if (!out) return tl::unexpected(out.error());
  auto doc = nlohmann::json::parse(*out, nullptr, false);
  if (doc.is_discarded() || !doc.contains("nftables"))
    return stack::fail("parse nftables listing of chain " + chain, EPROTO);
  std::vector<uint64_t> handles;
  for (const auto& item : doc["nftables"]) {
    if (!item.contains("rule")) continue;
    const auto& r = item["rule"];
    if (r.value("comment", "") == tag && r.contains("handle"))
      handles.push_back(r["handle"].get<uint64_t>());
  }
  return handles;
}

std::string delete_cmds(const std::string& chain, const std::vector<uint64_t>& handles) {
  std::string s;
  for (auto h : handles)
    s += std::string("delete rule ") + kTable + " " + chain + " handle " + std::to_string(h) + "\n";
  return s;
}

// The DNAT rules of a mapping: one per host port (a range maps port-by-port,
// host_port+i -> backend.port+i), each load-balancing over the backends.
std::string dnat_rules(const PortMapping& m) {
  std::string s;
  std::string tag = mapping_tag(m);
  std::string match = m.host_ip.empty() ? "meta nfproto ipv4" : "ip daddr " + m.host_ip;
  for (uint32_t p = m.host_port; p <= port_end(m); ++p) {
    uint32_t off = p - m.host_port;
    std::string target;
    if (m.backends.size() == 1) {
      target = m.backends[0].ip + ":" + std::to_string(m.backends[0].port + off);
    } else {
      target = "numgen inc mod " + std::to_string(m.backends.size()) + " map { ";
      for (size_t i = 0; i < m.backends.size(); ++i) {
        if (i) target += ", ";
        target += std::to_string(i) + " : " + m.backends[i].ip + " . " +
                  std::to_string(m.backends[i].port + off);
      }
      target += " }";
    }
    s += std::string("add rule ") + kTable + " dnat_ports " + match + " " + m.protocol +
         " dport " + std::to_string(p) + " dnat ip to " + target + " comment " + quote(tag) + "\n";
  }
  return s;
}

// The counting rules of a mapping (count_ports, nat.h): one per backend and
// port, started at what the backend had counted before (`before`), so a
// change of the pool keeps the counts of the replicas that stay.
std::string count_rules(const PortMapping& m, const std::vector<BackendCount>& before) {
  std::string s;
  const std::string tag = mapping_tag(m);
  for (uint32_t p = m.host_port; p <= port_end(m); ++p)
    for (const auto& b : m.backends) {
      const uint32_t port = b.port + (p - m.host_port);
      uint64_t packets = 0;
      for (const auto& c : before)
        if (c.ip == b.ip && c.port == port) packets = c.connections;
      s += std::string("add rule ") + kTable + " count_ports ip daddr " + b.ip + " " + m.protocol + " dport " +
           std::to_string(port) + " counter packets " + std::to_string(packets) + " bytes 0 comment " + quote(tag) +
           "\n";
    }
  return s;
}

// The backend a counting rule matches (its "ip daddr" and "dport") and its
// count, from the rule's JSON expressions.
std::optional<BackendCount> parse_count_rule(const nlohmann::json& rule) {
  BackendCount c;
  c.mapping = rule.value("comment", "");
  bool counted = false;
  for (const auto& e : rule.value("expr", nlohmann::json::array())) {
    if (e.contains("match")) {
      const auto& left = e["match"].value("left", nlohmann::json::object());
      const auto& right = e["match"].value("right", nlohmann::json());
      if (!left.contains("payload")) continue;
      const std::string field = left["payload"].value("field", "");
      if (field == "daddr" && right.is_string()) c.ip = right.get<std::string>();
      if (field == "dport" && right.is_number_unsigned()) c.port = right.get<uint16_t>();
    } else if (e.contains("counter") && e["counter"].is_object()) {
      c.connections = e["counter"].value("packets", uint64_t{0});
      counted = true;
    }
  }
  if (!counted || c.ip.empty() || c.port == 0) return std::nullopt;
  return c;
}

}  // namespace

stack::Result<std::vector<BackendCount>> connection_counts(Nft& nft, const std::string& mapping) {
  if (!nft.exists(std::string("chain ") + kTable + " count_ports")) return std::vector<BackendCount>{};
  auto out = nft.list_json(std::string("list chain ") + kTable + " count_ports");
  if (!out) return tl::unexpected(out.error().wrap("read connection counts"));
  auto doc = nlohmann::json::parse(*out, nullptr, false);
  if (doc.is_discarded() || !doc.contains("nftables")) return stack::fail("parse nftables listing of count_ports", EPROTO);
  std::vector<BackendCount> counts;
  for (const auto& item : doc["nftables"]) {
    if (!item.contains("rule")) continue;
    auto c = parse_count_rule(item["rule"]);
    if (c && (mapping.empty() || c->mapping == mapping)) counts.push_back(*c);
  }
  return counts;
}

stack::Result<void> check_ports_and_backends(const PortMapping& m) {
  std::string what = "port mapping " + mapping_tag(m);
  if (m.host_port == 0 || port_end(m) < m.host_port)
    return stack::fail(what + ": invalid host port range", EINVAL);
  if (m.protocol != "tcp" && m.protocol != "udp")
    return stack::fail(what + ": protocol must be tcp or udp", EINVAL);
  uint32_t span = port_end(m) - m.host_port;
  for (const auto& b : m.backends) {
    if (!valid_ipv4(b.ip)) return stack::fail(what + ": invalid backend ip '" + b.ip + "'", EINVAL);
    if (b.port == 0 || uint32_t{b.port} + span > 65535)
      return stack::fail(what + ": invalid backend port", EINVAL);
  }
  return {};
}

std::string mapping_tag(const PortMapping& m) {
  std::string ports = std::to_string(m.host_port);
  if (port_end(m) != m.host_port) ports += "-" + std::to_string(port_end(m));
  std::string ip;
  if (!m.host_ip.empty()) ip = (is_ipv6_mapping(m) ? "[" + m.host_ip + "]" : m.host_ip) + ":";
  return "stack:" + m.network + ":" + ip + ports + "/" + m.protocol;
}

bool is_ipv6_mapping(const PortMapping& m) { return m.host_ip.find(':') != std::string::npos; }

stack::Result<void> ensure_base(Nft& nft) {
  // `add` of an existing table/chain/set is a no-op; base chains are flushed
  // and refilled in the same transaction, so repeating this is harmless and
  // the regular chains (our per-network / per-port state) are kept.
  std::string t = kTable;
  std::string s =
      "add table " + t + "\n"
      "add set " + t + " bridges { type ifname; }\n"
      "add chain " + t + " dnat_ports\n"
      "add chain " + t + " snat_networks\n"
      "add chain " + t + " fwd_networks\n"
      "add chain " + t + " count_ports\n"
      "add chain " + t + " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
      "add chain " + t + " output { type nat hook output priority -100; policy accept; }\n"
      "add chain " + t + " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
      "add chain " + t + " forward { type filter hook forward priority filter; policy accept; }\n"
      "flush chain " + t + " prerouting\n"
      "flush chain " + t + " output\n"
      "flush chain " + t + " postrouting\n"
      "flush chain " + t + " forward\n"
      "add rule " + t + " prerouting fib daddr type local jump dnat_ports\n"
      "add rule " + t + " output fib daddr type local jump dnat_ports\n"
      "add rule " + t + " postrouting ct status dnat jump count_ports\n"
      "add rule " + t + " postrouting jump snat_networks\n"
      "add rule " + t + " forward ct state established,related accept\n"
      "add rule " + t + " forward ct status dnat accept\n"
      "add rule " + t + " forward jump fwd_networks\n";
  return nft.run(s, "create table inet stack");
}

stack::Result<void> remove_base(Nft& nft) {
  if (!nft.exists(std::string("table ") + kTable)) return {};
  return nft.run(std::string("delete table ") + kTable + "\n", "delete table inet stack");
}

stack::Result<void> add_network(Nft& nft, const std::string& name, const std::string& bridge,
                             const std::string& subnet, bool internal) {
  std::string what = "add network " + name + " (bridge " + bridge + ", " + subnet + ")";
  if (!valid_network_name(name)) return stack::fail(what + ": invalid network name", EINVAL);
  if (!valid_ifname(bridge)) return stack::fail(what + ": invalid bridge name", EINVAL);
  if (!valid_subnet(subnet)) return stack::fail(what + ": invalid IPv4 subnet", EINVAL);

  // Replace any earlier rules of this network in the same transaction.
  auto old_m = tagged_handles(nft, "snat_networks", "stack:" + name);
  if (!old_m) return tl::unexpected(old_m.error().wrap(what));
  auto old_i = tagged_handles(nft, "fwd_networks", "stack:" + name);
  if (!old_i) return tl::unexpected(old_i.error().wrap(what));

  std::string t = kTable, br = quote(bridge), c = " comment " + quote("stack:" + name) + "\n";
  std::string s = delete_cmds("snat_networks", *old_m) + delete_cmds("fwd_networks", *old_i);
  s += "add element " + t + " bridges { " + br + " }\n";
  // Hairpin: container -> published port -> container on the same bridge.
  s += "add rule " + t + " snat_networks ip saddr " + subnet + " oifname " + br + " ct status dnat masquerade" + c;
  // Host -> 127.0.0.1:published (route_localnet lets it leave via the bridge).
  s += "add rule " + t + " snat_networks ip saddr 127.0.0.0/8 oifname " + br + " masquerade" + c;
  if (!internal)
    s += "add rule " + t + " snat_networks ip saddr " + subnet + " oifname != " + br + " masquerade" + c;
  // Forwarding: same bridge ok; other bridges of ours never (isolation).
  s += "add rule " + t + " fwd_networks iifname " + br + " oifname " + br + " accept" + c;
  s += "add rule " + t + " fwd_networks iifname " + br + " oifname @bridges drop" + c;
  if (internal) {
    s += "add rule " + t + " fwd_networks iifname " + br + " drop" + c;  // no egress
    s += "add rule " + t + " fwd_networks oifname " + br + " drop" + c;  // no ingress
  } else {
    s += "add rule " + t + " fwd_networks iifname " + br + " accept" + c;  // egress
  }
  STACK_TRY_CTX(nft.run(s, what), what);
  STACK_TRY_CTX(io::write_file_in_place("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet", "1"), what);
  return {};
}

stack::Result<void> remove_network(Nft& nft, const std::string& name, const std::string& bridge) {
  std::string what = "remove network " + name;
  if (!valid_network_name(name) || !valid_ifname(bridge))
    return stack::fail(what + ": invalid name", EINVAL);
  auto m = tagged_handles(nft, "snat_networks", "stack:" + name);
  if (!m) return tl::unexpected(m.error().wrap(what));
  auto i = tagged_handles(nft, "fwd_networks", "stack:" + name);
  if (!i) return tl::unexpected(i.error().wrap(what));
  std::string s = delete_cmds("snat_networks", *m) + delete_cmds("fwd_networks", *i);
  s += std::string("delete element ") + kTable + " bridges { " + quote(bridge) + " }\n";
  return nft.run(s, what);
}

stack::Result<void> publish(Nft& nft, const PortMapping& m) {
  std::string what = "publish " + mapping_tag(m);
  STACK_TRY(validate(m, true));
  auto old = tagged_handles(nft, "dnat_ports", mapping_tag(m));
  if (!old) return tl::unexpected(old.error().wrap(what));
  if (!old->empty()) return stack::fail(what + ": already published", EEXIST);
  for (uint32_t p = m.host_port; p <= port_end(m); ++p) {
    auto taken = port_conflict(m.host_ip, static_cast<uint16_t>(p), m.protocol);
    if (!taken) return tl::unexpected(taken.error().wrap(what));
    if (*taken)
      return stack::fail(what + ": host port " + std::to_string(p) + "/" + m.protocol +
                          " is already in use by a host process",
                      EADDRINUSE);
  }
  auto stray = tagged_handles(nft, "count_ports", mapping_tag(m));
  if (!stray) return tl::unexpected(stray.error().wrap(what));
  return nft.run(delete_cmds("count_ports", *stray) + dnat_rules(m) + count_rules(m, {}), what);
}

stack::Result<void> update_backends(Nft& nft, const PortMapping& m) {
  std::string what = "update backends of " + mapping_tag(m);
  STACK_TRY(validate(m, true));
  auto old = tagged_handles(nft, "dnat_ports", mapping_tag(m));
  if (!old) return tl::unexpected(old.error().wrap(what));
  if (old->empty()) return stack::fail(what + ": not published", ENOENT);
  auto counting = tagged_handles(nft, "count_ports", mapping_tag(m));
  if (!counting) return tl::unexpected(counting.error().wrap(what));
  auto before = connection_counts(nft, mapping_tag(m));
  if (!before) return tl::unexpected(before.error().wrap(what));
  // Delete and add in one transaction: no window without a rule. A
  // connection counted between the read above and this is lost to the count
  // (the rules carry no identity nft could keep across a replacement).
  return nft.run(delete_cmds("dnat_ports", *old) + delete_cmds("count_ports", *counting) + dnat_rules(m) +
                     count_rules(m, *before),
                 what);
}

stack::Result<void> unpublish(Nft& nft, const PortMapping& m) {
  std::string what = "unpublish " + mapping_tag(m);
  STACK_TRY(validate(m, false));
  auto old = tagged_handles(nft, "dnat_ports", mapping_tag(m));
  if (!old) return tl::unexpected(old.error().wrap(what));
  auto counting = tagged_handles(nft, "count_ports", mapping_tag(m));
  if (!counting) return tl::unexpected(counting.error().wrap(what));
  if (old->empty() && counting->empty()) return {};
  return nft.run(delete_cmds("dnat_ports", *old) + delete_cmds("count_ports", *counting), what);
}

stack::Result<bool> port_conflict(const std::string& host_ip, uint16_t port, const std::string& proto) {
  std::string what = "check host port " + (host_ip.empty() ? std::string("*") : host_ip) + ":" +
                     std::to_string(port) + "/" + proto;
  // "" = every IPv4 address; an address with ':' is IPv6 (bound IPv6-only,
  // so "::" means every IPv6 address, as the proxy binds it).
  const bool v6 = host_ip.find(':') != std::string::npos;
  sockaddr_in sa{};
  sockaddr_in6 sa6{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa6.sin6_family = AF_INET6;
  sa6.sin6_port = htons(port);
  if (host_ip.empty()) {
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (v6 ? inet_pton(AF_INET6, host_ip.c_str(), &sa6.sin6_addr) != 1
                : inet_pton(AF_INET, host_ip.c_str(), &sa.sin_addr) != 1) {
    return stack::fail(what + ": invalid IP address", EINVAL);
  }
  int type = proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  stack::UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) return stack::fail_errno(what + ": socket");
  // TCP: SO_REUSEADDR, as every server sets it, so connections of a gone
  // listener lingering in TIME_WAIT do not count; a live listener or bound
  // socket still makes bind fail. UDP has no TIME_WAIT: a plain bind.
  int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int rc = v6 ? ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa6), sizeof sa6)
              : ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (rc == 0) return false;
  if (errno == EADDRINUSE) return true;
  return stack::fail_errno(what + ": bind");
}

}  // namespace stack::net
