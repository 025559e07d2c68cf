// Private to network_manager*.cc: the manager's state and the helpers its
// two source files share (networks/endpoints in network_manager.cc; ports,
// conntrack and crash recovery in network_manager_ports.cc).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "netplane/ipam.h"
#include "netplane/nat.h"
#include "netplane/net_state_storage.h"
#include "netplane/netlink.h"
#include "netplane/network_manager.h"
#include "netplane/nft.h"
#include "netplane/port_proxy.h"

namespace stack::net {

// What IPAM does not record about a network.
struct NetworkMeta {
  bool internal = false;
  unsigned mtu = 1500;
};

struct NetworkManager::Impl {
  Impl(NetlinkSocket s, Nft n) : nl(std::move(s)), nft(std::move(n)) {}

  // Documents "ipam" (Ipam::to_json) and "networks" (NetworkMeta + published mappings).
  std::unique_ptr<NetStateStorage> storage;
  Ipam ipam;
  NetlinkSocket nl;  // host netns (the one open() ran in)
  Nft nft;
  std::map<std::string, NetworkMeta> meta;
  std::vector<PortMapping> mappings;  // every published mapping, by mapping_tag
  std::unique_ptr<PortProxy> proxy_;  // IPv6 mappings; started with the first one

  PortProxy& proxy() {
    if (!proxy_) proxy_ = std::make_unique<PortProxy>();
    return *proxy_;
  }
  // Moves a mapping between "absent" (nullptr), "reserved" (no backends)
  // and "forwarding" in one step: nft DNAT rules for IPv4 host addresses,
  // the proxy's listeners for IPv6 ones. A new reservation checks the host's
  // sockets first.
  Result<void> swap_rules(const PortMapping* before, const PortMapping* after);

  NetworkInfo info(const std::string& name) const;
  // Saves both documents; save_ipam() only the IPAM one (all an endpoint
  // change touches: each save is a write to disk).
  Result<void> save() const;
  Result<void> save_ipam() const;
  Result<void> load();
  // Bridge + nft rules of a recorded network (idempotent).
  Result<void> ensure_kernel_state(const std::string& name);
  // Index into `mappings` of the mapping with m's tag, or -1.
  int find_mapping(const PortMapping& m) const;
};

// Undo steps run in reverse order on scope exit unless commit() was called:
// the rollback of every multi-step change.
class Undo {
 public:
  ~Undo() {
    if (committed_) return;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }
  void add(std::function<void()> f) { steps_.push_back(std::move(f)); }
  void commit() { committed_ = true; }

 private:
  std::vector<std::function<void()>> steps_;
  bool committed_ = false;
};

// "stk-" + 10 hex digits of a hash of the network name (14 bytes).
std::string bridge_name(const std::string& network);
// Networks the host already reaches (its IPv4 routes and addresses in the
// socket's netns), so a pool pick never shadows them.
Result<std::vector<Subnet>> host_subnets(NetlinkSocket& sock);
// Makes link `ifname` a port of `bridge` unless it already is.
Result<void> attach_to_bridge(NetlinkSocket& sock, const std::string& ifname, const std::string& bridge);
// Lets a bridge port send a frame back out of the port it came in on, so a
// container reaches its own published port (DNAT'd back to itself), as
// Docker does without the userland proxy.
Result<void> enable_hairpin(NetlinkSocket& sock, const std::string& ifname);
// Deletes UDP conntrack entries of flows DNAT'd from host ports of `m` to
// `removed` backends, so their next datagram is balanced anew.
Result<void> flush_udp_conntrack(const PortMapping& m, const std::vector<Backend>& removed);

}  // namespace stack::net
