#include "orchestrator/daemon/cluster/self_record.h"

#include <sys/utsname.h>

#include "orchestrator/daemon/node/host_facts.h"

namespace stack::orch {

NodeView describe_node(const cluster::ClusterConfig& config, const std::optional<NodeView>& earlier) {
  auto host = describe_host(config.node_id);
  NodeView n;
  n.id = config.node_id;
  n.hostname = host.hostname;
  n.address = config.advertise_addr;
  n.api_port = config.api_port;
  n.role = cluster::role_name(config.role);
  n.cpus = static_cast<int>(host.cpus);
  n.memory_bytes = static_cast<int64_t>(host.memory);
  n.gpus = static_cast<int>(host.gpus);
  utsname u{};
  if (::uname(&u) == 0) {
    n.os = u.sysname;
    n.arch = u.machine;
    for (auto& c : n.os) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n.arch == "x86_64") n.arch = "amd64";  // the OCI platform names, as placement constraints use
    if (n.arch == "aarch64") n.arch = "arm64";
  }
  if (earlier) {
    n.availability = earlier->availability;
    n.labels = earlier->labels;
  }
  return n;
}

}  // namespace stack::orch
