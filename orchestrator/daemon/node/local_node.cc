// LocalNode's defaults: describe() is this host (host_facts.h) as node
// "local"; read_log() reads this host's file; attach() is refused.
#include "orchestrator/daemon/node/local_node.h"

#include "orchestrator/daemon/node/host_facts.h"
#include "orchestrator/daemon/node/log_chunk.h"

namespace stack::orch {

sched::NodeInfo LocalNode::describe() { return describe_host(kLocalNodeId); }

std::vector<std::string> LocalNode::read_log(const std::string&, const std::string& file, uint64_t& offset) {
  return read_complete_lines(file, offset, 1 << 20);
}

stack::Result<std::unique_ptr<ExecSession>> LocalNode::attach(const std::string& id, bool) {
  return stack::fail("attach " + id + ": attach to a replica on another node is not supported yet", ENOTSUP);
}

}  // namespace stack::orch
