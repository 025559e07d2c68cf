// NAT and forwarding rules for bridge networks and published ports.
//
// Everything lives in ONE table of our own, `table inet stack`; no other
// table (the host's, Docker's, podman's) is ever read or changed. Layout:
//   prerouting  nat hook prerouting priority dstnat: fib daddr type local -> dnat_ports
//   output      nat hook output priority -100:       fib daddr type local -> dnat_ports
//   postrouting nat hook postrouting priority srcnat: -> snat_networks
//   forward     filter hook forward priority filter:  established/related accept,
//               ct status dnat accept (published ports reachable from anywhere),
//               -> fwd_networks
//   dnat_ports    regular chain: one DNAT rule per published host port
//   snat_networks regular chain: per-network SNAT rules
//   fwd_networks  regular chain: per-network forward rules
//   count_ports   regular chain, jumped from postrouting for DNATed
//                 connections: one counting rule per published mapping and
//                 backend ("ip daddr <backend> tcp dport <port> counter").
//                 A nat chain sees only a connection's first packet, so a
//                 rule's packet count is the number of connections the
//                 port sent to that backend (autoscaling's requests per
//                 second, stack stats).
//   set bridges ifname set of every bridge we own (for inter-bridge isolation)
// Base chains contain only fixed rules; per-network and per-port rules sit in
// the regular chains, tagged with comments "stack:<network>" and
// "stack:<network>:<hostport>/<proto>", and are found (JSON listing) and
// deleted by handle. Each change is a single nft transaction (atomic).
//
// Published traffic from the host itself to 127.0.0.1 (output chain DNAT):
// like netavark, add_network sets net.ipv4.conf.<bridge>.route_localnet=1 so
// the kernel routes a 127.0.0.1-sourced packet out of the bridge, and the
// snat_networks chain rewrites 127.0.0.0/8 sources leaving via the bridge to the
// bridge address so the container can answer. External clients keep their
// source address (no SNAT); container->published port on the same bridge
// (hairpin) is masqueraded so the reply comes back through the host.
//
// IPv4 only: mappings on IPv6 host addresses go to port_proxy.h (why: there).
// Existing conntrack entries are not flushed: a removed
// backend stops receiving NEW connections at once; established ones live on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netplane/nft.h"
#include "base/error.h"

namespace stack::net {

struct Backend {
  std::string ip;     // container address, e.g. "10.89.0.2"
  uint16_t port = 0;  // container port (first of the range for ranges)
};

struct PortMapping {
  std::string network;
  std::string host_ip;         // "" = every local IPv4 address; else e.g. "127.0.0.1" or "::1"
  uint16_t host_port = 0;
  uint16_t host_port_end = 0;  // 0 or == host_port: single port; else inclusive range
  std::string protocol = "tcp";  // "tcp" | "udp"
  std::vector<Backend> backends;  // load-balanced round robin (numgen inc)
};

// The tag of a mapping's rules: "stack:<network>:[<host ip>:]<hostport>[-<end>]/<proto>",
// an IPv6 host ip in brackets ("stack:web:[::1]:8080/tcp").
std::string mapping_tag(const PortMapping& m);
// host_ip is an IPv6 address: such a mapping is forwarded by port_proxy.h,
// not DNATed here (publish/update_backends/unpublish refuse it).
bool is_ipv6_mapping(const PortMapping& m);
// What every mapping needs whatever its host address family: a host port
// range, tcp or udp, IPv4 backends whose ports stay within 1-65535 over the
// range. EINVAL naming the field otherwise.
stack::Result<void> check_ports_and_backends(const PortMapping& m);

// Creates table inet stack with its chains and fixed rules; idempotent and
// leaves per-network / per-port rules untouched.
stack::Result<void> ensure_base(Nft& nft);
// Deletes table inet stack (and everything in it); no error when absent.
stack::Result<void> remove_base(Nft& nft);

// Masquerade (unless internal) and forward rules for one bridge network.
// Sets route_localnet on `bridge` (writes /proc/sys of the caller's netns).
stack::Result<void> add_network(Nft& nft, const std::string& name, const std::string& bridge,
                             const std::string& subnet, bool internal);
// Removes the network's rules and set element; its published mappings must be
// unpublished by the caller first (they are keyed by mapping, not network).
stack::Result<void> remove_network(Nft& nft, const std::string& name, const std::string& bridge);

// Connections a published mapping sent to one backend since it joined the
// pool (count_ports above). Kept across update_backends() for a backend that
// stays; gone with unpublish() or with the backend.
struct BackendCount {
  std::string mapping;  // its mapping_tag()
  std::string ip;
  uint16_t port = 0;    // the backend's port (one entry per port of a range)
  uint64_t connections = 0;
};
// Every counting rule's count; only `mapping`'s (a mapping_tag) unless "".
stack::Result<std::vector<BackendCount>> connection_counts(Nft& nft, const std::string& mapping = "");

// Fails with EADDRINUSE when a host process holds one of the ports, and
// EEXIST when the mapping is already published; creates nothing then.
stack::Result<void> publish(Nft& nft, const PortMapping& m);
// Atomically replaces the backends of a published mapping.
stack::Result<void> update_backends(Nft& nft, const PortMapping& m);
stack::Result<void> unpublish(Nft& nft, const PortMapping& m);

// True when a host socket already holds host_ip:port/proto (we try to bind
// it without SO_REUSEADDR and close again).
stack::Result<bool> port_conflict(const std::string& host_ip, uint16_t port, const std::string& proto);

}  // namespace stack::net
