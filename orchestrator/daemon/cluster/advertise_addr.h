// The address a node advertises to the others (`stack node init
// --advertise-addr`), as Swarm chooses it: the one given, if it is an address
// of this host; else this host's only non-loopback IPv4 address; with none,
// loopback (a one-node cluster nobody else can join); with several, an error
// listing them.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace stack::orch {

// Every IPv4/IPv6 address of an interface that is up, but stackd's own
// network bridges.
std::vector<std::string> host_addresses();
stack::Result<std::string> choose_advertise_addr(const std::string& requested);

}  // namespace stack::orch
