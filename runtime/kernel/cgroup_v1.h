// cgroup v1 backend: one directory per mounted v1 hierarchy (cpu and
// cpuacct may share one; named hierarchies such as name=systemd are joined
// but carry no limits). Used alone on v1 hosts and for the controllers on
// hybrid hosts. Owns the directories it creates below each mount; never the
// shared parents.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel/cgroup.h"

namespace stack::rt {

class CgroupV1Manager final : public CgroupManager {
 public:
  // `hierarchies` from select_v1_hierarchies(); `path` from
  // resolve_cgroup_path() ("/stack/abc").
  CgroupV1Manager(std::vector<CgroupMount> hierarchies, std::string path);

  Result<> create(const Resources& resources) override;
  Result<> apply(const Resources& resources) override;
  Result<> add_pid(pid_t pid) override;
  std::vector<std::string> procs_files() const override;
  Result<std::vector<pid_t>> pids() const override;
  Result<CgroupStats> stats() const override;
  Result<> freeze(bool frozen) override;
  Result<> destroy() override;
  const std::string& path() const override { return path_; }
  CgroupLayout layout() const override { return CgroupLayout::V1; }
  std::vector<CgroupHierarchy> hierarchies() const override;

  // "c 1:3 rwm" / "a" for one rule (what devices.allow/deny take), or an
  // EINVAL error for a type other than a/b/c or access outside "rwm".
  static Result<std::string> device_rule_string(const DeviceCgroupRule& rule);

 private:
  struct Hierarchy {
    CgroupMount mount;
    std::string dir;  // mount point + path
  };
  // Directory of the hierarchy carrying `controller`, or "" when unmounted.
  std::string dir_of(const std::string& controller) const;
  Result<std::string> require(const std::string& controller, const std::string& why) const;

  Result<> set_memory(const MemoryResources& m);
  Result<> set_cpu(const CpuResources& c);
  Result<> set_devices(const std::vector<DeviceCgroupRule>& rules);
  Result<> set_network(const NetworkResources& n);  // net_cls and net_prio

  std::vector<Hierarchy> hierarchies_;
  std::string path_;
};

}  // namespace stack::rt
