// stackd's options (flags of stackd_main.cc): where the node keeps what it
// owns (state, bundles, runtime state, netns), the binaries it spawns, and
// the engine's DNS and registry settings. Here, under node/, because the node
// is what consumes most of it and must not include the engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stack::orch {

// Where the runtime puts a replica's cgroup without cgroup_parent (<this>/<id>:
// runtime/kernel/cgroup.h), and so whose real-time budget stackd's
// --cpu-rt-runtime sets.
inline constexpr const char* kReplicaCgroupParent = "/stack";

struct EngineOptions {
  std::string root = "/var/lib/stack";              // state.db, containers/, volumes/, net/
  std::string runtime_root = "/run/stack/runtime";  // stack-runtime state (tmpfs: gone on reboot)
  std::string netns_dir = "/run/stack/netns";
  std::string image_root;                           // "" = runtime/image default
  std::string shim_path;                            // "" = next to stackd, else PATH
  std::string runtime_path;                         // stack-runtime, same lookup
  uint16_t dns_port = 53;
  std::vector<std::string> registry_mirrors;
  std::vector<std::string> insecure_registries;
  // How often x-autoscale reads the replicas' use (--autoscale-interval, as
  // HPA's sync period): the window each decision's averages cover.
  int64_t autoscale_interval_ms = 5000;
};

}  // namespace stack::orch
