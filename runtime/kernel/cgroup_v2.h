// cgroup v2 backend: one directory in the unified hierarchy. On v2 hosts it
// does everything; on hybrid hosts the factory uses it with
// manage_resources=false purely to track the container's processes in the
// (controller-less) unified tree. Owns the directory it creates (and the
// sub-cgroups the container makes below it); never the shared parents, whose
// cgroup.subtree_control it only extends.
//
// Device rules (linux.resources.devices): v2 has no devices files; they are
// enforced by a BPF_CGROUP_DEVICE program attached to the directory
// (device_filter.h), replaced as a whole when the rules change.
#pragma once

#include <string>

#include "runtime/kernel/cgroup.h"

namespace stack::rt {

class CgroupV2Manager final : public CgroupManager {
 public:
  // `mount_point` is the cgroup2 mount ("/sys/fs/cgroup"), `path` from
  // resolve_cgroup_path(). With manage_resources=false, create() and apply()
  // only make the directory and ignore every resource.
  CgroupV2Manager(std::string mount_point, std::string path, bool manage_resources = true);

  Result<> create(const Resources& resources) override;
  Result<> apply(const Resources& resources) override;
  Result<> add_pid(pid_t pid) override;
  std::vector<std::string> procs_files() const override;
  Result<std::vector<pid_t>> pids() const override;
  Result<CgroupStats> stats() const override;
  Result<> freeze(bool frozen) override;
  Result<> destroy() override;
  const std::string& path() const override { return path_; }
  CgroupLayout layout() const override { return CgroupLayout::V2; }
  std::vector<CgroupHierarchy> hierarchies() const override;

  const std::string& dir() const { return dir_; }
  // Controllers the kernel offers to this cgroup: the parent's
  // cgroup.controllers (the mount root's for a top-level cgroup).
  Result<std::vector<std::string>> available_controllers() const;

 private:
  // Enables in every ancestor's cgroup.subtree_control the controllers we
  // manage (memory, cpu, pids, cpuset, io) plus any a unified key names.
  // Fails only when a controller the resources need cannot be enabled.
  Result<> enable_controllers(const Resources& resources);

  std::string mount_point_;
  std::string path_;
  std::string dir_;
  bool manage_resources_;
};

}  // namespace stack::rt
