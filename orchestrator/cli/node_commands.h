// `stack node ...`: the cluster verbs, thin calls on stackd's cluster routes
// (docs/api.md, "Cluster"):
//   stack node init [--advertise-addr IP] [--api-port N] [--etcd-client-port N] [--etcd-peer-port N]
//   stack node join --token TOKEN [--advertise-addr IP] [ports] MANAGER[:PORT]
//   stack node ls [-q] [--format json]
//   stack node join-token worker|manager [-q]
//   stack node update [--availability active|pause|drain] [--label-add K=V] [--label-rm K] NODE
//   stack node inspect NODE...
//   stack node rm [--force] NODE...
//   stack node promote NODE... / stack node demote NODE...
//   stack node leave
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "base/error.h"
#include "orchestrator/cli/client.h"

namespace stack::cli {

// `client` is the stack verbs' connection options (--host); `action` is set
// by the chosen verb.
void add_node_verbs(CLI::App& app, const ClientOptions* client, std::function<stack::Result<>()>& action);

}  // namespace stack::cli
