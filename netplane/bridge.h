// Linux bridges for user-defined networks, made through a NetlinkSocket so
// they can live in any network namespace. Every link the netplane creates
// carries IFLA_IFALIAS "stack:<network>" so that a restarted daemon can find
// (list_tagged_links) and remove what a crashed one left behind.
#pragma once

#include <string>
#include <vector>

#include "netplane/netlink.h"

namespace stack::net {

// "stack:" + network: the ifalias tag written on our links.
std::string link_tag(const std::string& network);
inline constexpr const char* kLinkTagPrefix = "stack:";

// Idempotent: creates bridge `name` if absent, then makes sure it has `mtu`,
// the tag of `network`, the gateway address `gateway_cidr` ("10.250.0.1/24")
// and is up. A non-bridge link called `name` is an error (EEXIST).
Result<void> ensure_bridge(NetlinkSocket& sock, const std::string& name, unsigned mtu,
                           const std::string& gateway_cidr, const std::string& network);

// Idempotent: removes bridge `name` when present (its ports are released by
// the kernel, not deleted). A non-bridge link called `name` is left alone and
// reported as an error.
Result<void> delete_bridge(NetlinkSocket& sock, const std::string& name);

struct TaggedLink {
  std::string name;
  int ifindex = 0;
  std::string alias;  // full ifalias, e.g. "stack:frontend"
  std::string type;   // "bridge", "veth", ... ("" when the kernel says none)
};
// Every link in the socket's namespace whose ifalias starts with `prefix`
// (kLinkTagPrefix for all of ours, link_tag(net) for one network's).
Result<std::vector<TaggedLink>> list_tagged_links(NetlinkSocket& sock, const std::string& prefix);

}  // namespace stack::net
