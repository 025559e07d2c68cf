// LocalNode::describe()'s default: this host (host_facts.h) as node "local".
#include "orchestrator/daemon/node/local_node.h"

#include "orchestrator/daemon/node/host_facts.h"

namespace stack::orch {

sched::NodeInfo LocalNode::describe() { return describe_host(kLocalNodeId); }

}  // namespace stack::orch
