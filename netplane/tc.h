// Traffic control for container endpoints: an egress rate limit as a token
// bucket filter (tbf) root qdisc on one interface, made over libnl-route.
// The limit goes on the container-side interface (its egress is the
// container's upload), so the socket passed is one opened in the container's
// netns (NetlinkSocket::open_in_netns).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "netplane/netlink.h"

namespace stack::net {

struct EgressLimit {
  uint64_t bytes_per_sec = 0;
  uint32_t burst_bytes = 0;  // bucket size
};

// Replaces the root qdisc of `ifname` with tbf at `bytes_per_sec` (1 byte/s
// .. 2^31-1 byte/s, the range of libnl's 32-bit tbf rate). The bucket holds
// max(rate/10, 64 KiB) so a TCP window is not starved at low rates; the
// queue holds 50 ms of traffic beyond that.
Result<void> set_egress_limit(NetlinkSocket& sock, const std::string& ifname, uint64_t bytes_per_sec);
// The tbf root qdisc on `ifname`, or nullopt when it has none.
Result<std::optional<EgressLimit>> get_egress_limit(NetlinkSocket& sock, const std::string& ifname);
// Removes a root qdisc of ours; none is not an error.
Result<void> clear_egress_limit(NetlinkSocket& sock, const std::string& ifname);

}  // namespace stack::net
