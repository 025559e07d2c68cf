// What a spec mount of type "cgroup" becomes inside the container. On a
// cgroup v2 host it is one cgroup2 mount (rootfs.cc plans that as a plain
// mount). On a v1 or hybrid host it is, as with runc: a tmpfs at the
// destination, one cgroup v1 mount per hierarchy this process belongs to,
// each in a directory named as on the host ("cpu,cpuacct", "memory",
// "systemd"), symlinks for the single controllers of a combined hierarchy
// ("cpu" -> "cpu,cpuacct"), and the tmpfs remounted read-only when the spec
// says "ro". The host layout is read in the parent; the child only replays it.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel/child_error.h"
#include "base/error.h"

namespace stack::rt {

struct CgroupV1Hierarchy {
  std::string dir;                 // "cpu,cpuacct": directory under the destination
  std::string data;                // "cpu,cpuacct" / "name=systemd": the mount data
  std::vector<std::string> links;  // "cpu", "cpuacct": symlinks to `dir`
};

// True when /sys/fs/cgroup on this host is a cgroup2 filesystem.
bool host_cgroup_is_unified();

// Hierarchies from the texts of /proc/self/cgroup and /proc/self/mountinfo
// (pure, for tests). The v2 line ("0::/...") is not a v1 hierarchy and is
// skipped, as runc skips /sys/fs/cgroup/unified on hybrid hosts.
std::vector<CgroupV1Hierarchy> parse_cgroup_v1_hierarchies(const std::string& proc_self_cgroup,
                                                           const std::string& mountinfo);

// The same for this process, reading the two files.
Result<std::vector<CgroupV1Hierarchy>> host_cgroup_v1_hierarchies();

// Child, before pivot_root: builds the v1 view at `dest` (a clean container
// path) under `root_fd`. `flags` are the spec mount's MS_* flags (MS_RDONLY
// makes every part read-only). Async-signal-safe; 0 or errno with *err set.
int mount_cgroup_v1(int root_fd, const char* dest, unsigned long flags,
                    const std::vector<CgroupV1Hierarchy>& hierarchies, ChildError* err) noexcept;

}  // namespace stack::rt
