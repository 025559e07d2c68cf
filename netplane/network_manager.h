// The netplane's one entry point for stackd: networks (IPAM + bridge + nft
// rules), container endpoints (veth into a netns + /etc files), published
// ports and crash recovery, with the bookkeeping that ties them together.
// Built on ipam.h, bridge.h, veth.h, nat.h, netns.h; knows nothing of stacks
// or containers beyond ids and netns paths.
//
// Ownership: the manager owns its netlink socket, its Nft handle and its
// state (net_state_storage.h): IPAM, and internal/mtu per network with the
// published mappings, both saved whole after every change, in stackd's state
// store or in the files <state_dir>/ipam.json and <state_dir>/networks.json.
// All kernel work happens in the network
// namespace of the thread that called open() (the "host"). Every
// kernel object it makes is tagged ("stack:<network>" ifalias on links,
// "stack:..." comments on nft rules) so sweep() can find leftovers.
// Thread-safety: every public method takes one internal mutex.
//
// Failure: each method either completes or undoes what it did (no leaked
// link, rule, lease or netns), and says which step failed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "netplane/ipam.h"
#include "netplane/nat.h"
#include "base/error.h"

namespace stack::net {

class NetStateStorage;
using stack::Result;

struct NetworkConfig {
  std::string name;       // unique on the host, e.g. "juice-shop_default"
  std::string subnet;     // "" = from the address pools; else "10.90.0.0/24"
  std::string gateway;    // "" = first host
  bool internal = false;  // no egress (no masquerade, forward to outside dropped)
  unsigned mtu = 1500;
};

struct NetworkInfo {
  std::string name;
  std::string bridge;   // "stk-" + short hash (netplane picks; stable for a name)
  std::string subnet;   // "10.89.0.0/24"
  std::string gateway;  // "10.89.0.1"
  int prefix = 24;
  bool internal = false;
  unsigned mtu = 1500;
};

struct EndpointRequest {
  std::string container_id;
  std::string network;
  std::string netns_path;            // e.g. /run/stack/netns/<id> (netns.h)
  std::string ifname = "eth0";       // eth1... for further networks
  std::string ipv4_address;          // static address, "" = next free
  bool default_route = true;         // only the first network's endpoint gets one
  uint64_t egress_bytes_per_sec = 0; // 0 = unlimited (tc tbf on the container side)
  std::string mac_address;           // the container end's, "" = the kernel's random one
};

struct EndpointInfo {
  std::string container_id;
  std::string network;
  std::string host_ifname;
  std::string ifname;
  std::string address;  // "10.89.0.5"
  int prefix = 24;
  std::string gateway;
  std::string mac;
};

// What a restarted daemon still wants; everything else tagged as ours goes.
struct KeepSet {
  std::set<std::string> networks;                 // network names
  std::set<std::pair<std::string, std::string>> endpoints;  // (container_id, network)
  std::vector<PortMapping> mappings;              // published ports still wanted
};

struct SweepReport {
  std::vector<std::string> removed_links;
  std::vector<std::string> removed_rules;   // nft comments
  std::vector<std::string> released_leases; // "network/container"
  std::vector<std::string> removed_networks;
  std::vector<std::string> unserved_mappings;  // kept IPv6 mappings whose port could not be bound: "tag: error"
};

class NetworkManager {
 public:
  // Loads <state_dir>/ipam.json (created on first use) and makes sure the nft
  // base table exists.
  static Result<std::unique_ptr<NetworkManager>> open(const std::string& state_dir,
                                                      std::vector<AddressPool> pools = default_address_pools());
  // The same with the state kept in `storage` (stackd: its state store).
  static Result<std::unique_ptr<NetworkManager>> open(std::unique_ptr<NetStateStorage> storage,
                                                      std::vector<AddressPool> pools = default_address_pools());
  ~NetworkManager();

  // Idempotent for the same name: returns the existing network (bridge made
  // again if missing, e.g. after a reboot).
  Result<NetworkInfo> create_network(const NetworkConfig& config);
  // Removes bridge, rules, the network's published mappings and the IPAM
  // record. Endpoints must be gone (EBUSY names them otherwise). Absent
  // network: not an error.
  Result<void> remove_network(const std::string& name);
  std::optional<NetworkInfo> find_network(const std::string& name) const;
  std::vector<NetworkInfo> networks() const;

  // Leases an address and creates the veth pair into the netns (host end a
  // hairpin-mode bridge port, so a container reaches its own published
  // port). Connecting an endpoint that exists returns it unchanged
  // (restart-safe; its host end is re-attached to the bridge if that was
  // re-made). egress_bytes_per_sec > 2^31-1 is EINVAL (tc.h).
  Result<EndpointInfo> connect(const EndpointRequest& request);
  // Deletes the veths (one link-group delete: one kernel batch) and releases the leases.
  // Absent endpoints are not an error.
  Result<void> disconnect(const std::vector<std::pair<std::string, std::string>>& endpoints);
  std::optional<std::string> endpoint_address(const std::string& container_id,
                                              const std::string& network) const;

  // Published ports (nat.h semantics). publish() checks every port first
  // (EADDRINUSE / EEXIST, nothing created); update_backends() swaps the
  // replica set atomically and flushes conntrack entries of removed backends
  // only for UDP (TCP connections keep running; new ones avoid them).
  // The flush uses conntrack(8) (libnetfilter_conntrack is not available
  // here); without the tool, a UDP update that removes backends fails with
  // ENOENT before changing anything. A mapping may have no backends (no
  // healthy replica yet): the port is then reserved (recorded, refused to
  // other mappings) but has no DNAT rule until backends arrive.
  Result<void> publish(const PortMapping& mapping);
  Result<void> update_backends(const PortMapping& mapping);
  Result<void> unpublish(const PortMapping& mapping);
  // Connections the published ports sent to each backend address (every
  // mapping and port summed) while it was in their pools: nat.h's
  // count_ports. IPv6 host mappings (port_proxy.h) are not counted.
  Result<std::map<std::string, uint64_t>> published_connections();
  // True when host_ip:port/proto is held by a host socket or by one of our
  // mappings (so the caller can fail before creating anything).
  Result<bool> port_in_use(const std::string& host_ip, uint16_t port, const std::string& proto);

  // Crash recovery at daemon start: removes every tagged link, nft rule,
  // network and lease not in `keep`, and re-creates missing bridges/rules of
  // networks that are kept (and re-attaches kept endpoints to them). Tags
  // are host-wide: one daemon per network namespace. Call it before the
  // first publish() after a restart: it reinstates keep.mappings as ours.
  Result<SweepReport> sweep(const KeepSet& keep);

 private:
  NetworkManager() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mu_;
};

}  // namespace stack::net
