// The network files a replica's /etc gets from the node (bind-mounted from
// its container dir): hosts, resolv.conf and hostname, written from its
// plan and endpoints, or, with another container's network, that one's.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "netplane/network_manager.h"
#include "orchestrator/daemon/node/local_node.h"

namespace stack::orch {

// <dir>/hosts, resolv.conf, hostname: the replica's name and first
// address, extra_hosts, the stack's DNS on the first network's gateway (the
// host's resolvers without a network), dns / dns_search / dns_opt.
stack::Result<void> write_replica_etc(const ReplicaPlan& plan, const std::string& dir, const std::string& hostname,
                                      const std::vector<net::EndpointInfo>& endpoints);

// network_mode "container:<id>": that container's hosts and resolv.conf
// (from its dir) become this one's, as Docker shares them with the network.
stack::Result<void> copy_network_files(const std::string& from_dir, const std::string& to_dir);

}  // namespace stack::orch
