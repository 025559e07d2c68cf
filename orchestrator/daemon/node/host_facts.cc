// This host as placement sees it (host_facts.h).
#include "orchestrator/daemon/node/host_facts.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace stack::orch {

namespace {

double cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<double>(n) : 1;
}

uint64_t memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
}

// NVIDIA's device nodes are /dev/nvidia<N> (nvidiactl, nvidia-uvm are not GPUs).
int64_t gpu_count() {
  int64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/dev", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename();
    if (name.size() > 6 && name.rfind("nvidia", 0) == 0 &&
        std::all_of(name.begin() + 6, name.end(), [](unsigned char c) { return std::isdigit(c); }))
      n++;
  }
  return n;
}

}  // namespace

sched::NodeInfo describe_host(const std::string& id) {
  sched::NodeInfo n;
  n.id = id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) n.hostname = host;
  n.cpus = cpu_count();
  n.memory = memory_bytes();
  n.gpus = gpu_count();
  return n;
}

}  // namespace stack::orch
