// Host-side interface names for container endpoints. Linux limits names to
// 15 bytes (IFNAMSIZ-1), so a container id cannot be used directly: the name
// is a fixed prefix plus a hash of (container id, network), stable across
// daemon restarts so leftovers can be found and removed.
#pragma once

#include <string>

namespace stack::net {

bool valid_ifname(const std::string& name);
// "sk" + 12 hex digits of FNV-1a over id and network: 14 bytes.
std::string endpoint_ifname(const std::string& container_id, const std::string& network);

}  // namespace stack::net
