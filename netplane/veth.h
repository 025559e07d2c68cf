// Container endpoints: a veth pair whose host end is a port of a bridge and
// whose peer is created directly inside the container's network namespace
// (IFLA_NET_NS_FD on the peer, so it never appears in the host netns), then
// configured there with its address, lo/eth0 up and a default route.
#pragma once

#include <string>
#include <vector>

#include "netplane/netlink.h"

namespace stack::net {

struct EndpointSpec {
  std::string host_ifname;              // endpoint_ifname(container, network)
  int netns_fd = -1;                    // container netns; borrowed, not owned
  std::string netns_label;              // for messages, e.g. "/proc/42/ns/net"
  std::string container_ifname = "eth0";
  std::string bridge;                   // existing bridge in the host socket's netns
  std::string address;                  // container address with prefix, "10.250.0.2/24"
  std::string gateway;                  // default gateway, "10.250.0.1"; "" = no route
  unsigned mtu = 1500;
  std::string mac_address;              // the container end's; "" = random
  std::string network;                  // for the "stack:<network>" ifalias tag
};

// Creates and configures the endpoint; `sock_host` is a socket in the
// namespace holding the bridge. On any failure everything made so far is
// removed again (deleting the host end also destroys the peer), so no veth
// is leaked.
Result<void> create_endpoint(NetlinkSocket& sock_host, const EndpointSpec& spec);

// Removes one endpoint by host ifname; absent is not an error.
Result<void> delete_endpoint(NetlinkSocket& sock_host, const std::string& host_ifname);

// Removes many endpoints in one kernel batch (a link-group delete: one RCU
// grace period for all of them instead of one each).
// Absent links are not an error; other failures are reported together after
// all requests were processed.
Result<void> delete_endpoints(NetlinkSocket& sock_host, const std::vector<std::string>& host_ifnames);

}  // namespace stack::net
