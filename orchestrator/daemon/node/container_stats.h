// `stack top` and `stack stats` for one container, read from the host side:
// its processes from the runtime's cgroup (rt::container_pids) and /proc,
// its counters from the cgroup (rt::CgroupManager::stats, what
// `stack-runtime events --stats` prints) and /proc/<init>/net/dev (the
// container's netns as its init sees it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/error.h"
#include "netplane/network_manager.h"

namespace stack::orch {

// JSON array: [{"pid","ppid","user","state","cmd"}...]. `passwd` is the
// container's /etc/passwd (user names as the container knows them).
stack::Result<std::string> container_top(const std::string& runtime_root, const std::string& id,
                                      const std::string& passwd);

// Keeps the previous CPU sample per container so cpu_percent covers the time
// since the last call (the first call samples twice, 100 ms apart).
class StatsSampler {
 public:
  // JSON object: id, cpu_percent, cpu_usage_ns, memory_usage,
  // memory_working_set (usage less reclaimable cache), memory_limit, pids,
  // pids_limit, net_rx_bytes, net_tx_bytes, oom_kills. The node adds
  // published_connections (node_local.cc).
  stack::Result<std::string> stats(const std::string& runtime_root, const std::string& id);
  void forget(const std::string& id);

 private:
  struct Sample {
    int64_t at_ns = 0;
    uint64_t cpu_ns = 0;
  };
  std::mutex mu_;
  std::map<std::string, Sample> last_;
};

// A replica's stats (StatsSampler's) with published_connections: the
// connections this host's published ports sent to its addresses (netplane's
// count_ports, read from its node.json in `container_dir`). What `stack
// stats` shows and x-autoscale's requests_per_second follows.
stack::Result<std::string> replica_stats(StatsSampler& sampler, net::NetworkManager& networks,
                                         const std::string& runtime_root, const std::string& container_dir,
                                         const std::string& id);

// Sums of /proc/<pid>/net/dev over every interface but lo.
struct NetCounters {
  uint64_t rx_bytes = 0, tx_bytes = 0;
};
NetCounters parse_net_dev(const std::string& text);

}  // namespace stack::orch
