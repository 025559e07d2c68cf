// LocalNode's defaults: describe() is this host (host_facts.h) as node
// "local"; read_log() reads this host's file; attach() is refused.
#include "orchestrator/daemon/node/local_node.h"

#include <cctype>

#include "base/hash.h"
#include "orchestrator/daemon/node/host_facts.h"
#include "orchestrator/daemon/node/log_chunk.h"

namespace stack::orch {

sched::NodeInfo LocalNode::describe() { return describe_host(kLocalNodeId); }

std::vector<std::string> LocalNode::read_log(const std::string&, const std::string& file, uint64_t& offset) {
  return read_complete_lines(file, offset, 1 << 20);
}

std::string anonymous_volumes_root(const std::string& volume_root, const std::string& stack) {
  return volume_root + "/.anonymous/" + stack;
}

std::string anonymous_slot_dir(const std::string& volume_root, const std::string& stack, const std::string& service,
                               int slot) {
  return anonymous_volumes_root(volume_root, stack) + "/" + service + "-" + std::to_string(slot);
}

std::string anonymous_volume_dir(const std::string& slot_dir, const std::string& target) {
  std::string name;
  for (char c : target) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (plain) name += c;
    else if (!name.empty() && name.back() != '-') name += '-';
  }
  if (name.size() > 64) name.resize(64);
  return slot_dir + "/" + name + (name.empty() || name.back() == '-' ? "" : "-") + fnv1a_hex(target).substr(0, 8);
}

stack::Result<std::unique_ptr<ExecSession>> LocalNode::attach(const std::string& id, bool) {
  return stack::fail("attach " + id + ": attach to a replica on another node is not supported yet", ENOTSUP);
}

}  // namespace stack::orch
