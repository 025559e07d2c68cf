// One interface over cgroup v1, v2 and hybrid hosts (youki's split: the
// manager is chosen once by probing /sys/fs/cgroup, each backend knows one
// hierarchy). The runtime creates the cgroup and applies limits in the parent
// before the container process is released, so the container never runs
// outside its limits. Owned by whoever created the container; `destroy`
// removes every directory this manager made (never the shared parents such
// as /stack).
//
// Backends: cgroup_v1.{h,cc} (one directory per mounted v1 hierarchy) and
// cgroup_v2.{h,cc} (one directory in the unified hierarchy). On a hybrid host
// the factory combines both: v1 for every controller, plus the same path in
// the (controller-less) unified hierarchy so that tools tracking processes
// through cgroup2 see the container, as runc does.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt {

enum class CgroupLayout { V1, V2, Hybrid };

// Probes the host once (cached): v2 when /sys/fs/cgroup is cgroup2 (statfs
// magic), hybrid when v1 controllers are mounted and a cgroup2 mount exists
// beside them (/sys/fs/cgroup/unified), else v1. Mount points come from
// /proc/self/mountinfo.
CgroupLayout detect_cgroup_layout();
const char* to_string(CgroupLayout layout);

struct CgroupStats {
  uint64_t cpu_usage_ns = 0;      // total CPU time consumed
  uint64_t memory_usage = 0;      // bytes currently charged
  uint64_t memory_max_usage = 0;  // high-water mark where the kernel keeps one
                                  // (v1 max_usage_in_bytes, v2 memory.peak), else 0
  uint64_t memory_inactive_file = 0;  // reclaimable page cache (memory.stat [total_]inactive_file):
                                      // usage minus this is the working set, as docker stats and
                                      // the kubelet count memory
  std::optional<int64_t> memory_limit;  // nullopt = unlimited or no memory controller
  uint64_t pids_current = 0;
  std::optional<int64_t> pids_limit;  // nullopt = "max" or no pids controller
  uint64_t oom_kills = 0;         // processes killed by the OOM killer in this cgroup
  uint64_t oom_events = 0;        // times the limit was hit and OOM handling ran
                                  // (v2 memory.events "oom"; v1 has no such
                                  // counter, so it equals oom_kills there)
};

// One directory of this cgroup in one mounted hierarchy.
struct CgroupHierarchy {
  std::string mount_point;               // "/sys/fs/cgroup/memory"
  std::string dir;                       // "/sys/fs/cgroup/memory/stack/abc"
  std::vector<std::string> controllers;  // v1: {"cpu","cpuacct"}, {"name=systemd"}; v2: {}
  bool unified = false;                  // cgroup2
};

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  // mkdir the cgroup (and parents) in every hierarchy this backend uses and
  // write the limits. Idempotent: an existing cgroup is reused, which is why
  // a failure does not remove what was made: the caller calls destroy().
  virtual Result<> create(const Resources& resources) = 0;
  // Rewrite limits on a live cgroup (`update`). Only the fields that are set
  // are written.
  virtual Result<> apply(const Resources& resources) = 0;
  // Move a process into the cgroup in every hierarchy.
  virtual Result<> add_pid(pid_t pid) = 0;
  // Paths of the cgroup.procs files, so a child after clone or an exec'd
  // process can join with plain open/write (async-signal-safe).
  virtual std::vector<std::string> procs_files() const = 0;
  // Every process in the cgroup (and its sub-cgroups), sorted, no duplicates.
  virtual Result<std::vector<pid_t>> pids() const = 0;
  virtual Result<CgroupStats> stats() const = 0;
  // Freeze/thaw every process (v1 freezer, v2 cgroup.freeze); returns once
  // the kernel reports the state reached (bounded wait, ETIMEDOUT otherwise).
  virtual Result<> freeze(bool frozen) = 0;
  // SIGKILL everything left, wait until empty, rmdir in every hierarchy
  // (sub-cgroups the container made included). Succeeds when the cgroup is
  // already gone.
  virtual Result<> destroy() = 0;
  // The path relative to the hierarchy roots, "/stack/abc".
  virtual const std::string& path() const = 0;
  virtual CgroupLayout layout() const = 0;
  // The directory in every hierarchy this manager uses; per-controller dirs
  // on v1 (what a container's /sys/fs/cgroup mount needs to show).
  virtual std::vector<CgroupHierarchy> hierarchies() const = 0;
};

// `cgroups_path` is linux.cgroupsPath: absolute ("/a/b") is used as is;
// relative ("a/b") is placed under the runtime's own parent "stack"; empty
// means "/stack/<id>". A systemd-style "slice:prefix:name" is mapped to
// "/slice/prefix-name.scope" (no systemd on the hosts we target; an empty
// slice is "system.slice", an empty prefix gives "name.scope").
// Paths are relative to the root of each mounted hierarchy.
Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& cgroups_path,
                                                           const std::string& id);

// ---------------------------------------------------------------------------
// Pure helpers, exposed for the backends and the unit tests.

// The rules above, normalised ("/a//b/" -> "/a/b"). Refuses "..", ".", the
// hierarchy root itself and an id containing '/': destroy() kills every
// process in the cgroup, so the path must never resolve to a shared one.
Result<std::string> resolve_cgroup_path(const std::string& cgroups_path, const std::string& id);

// cpu.shares (2..262144, default 1024) -> cpu.weight (1..10000, default 100),
// runc's formula 1 + ((shares - 2) * 9999) / 262142; 0 means "unset" -> 0.
// Out-of-range shares are clamped first, as the kernel clamps them on v1.
uint64_t cpu_shares_to_weight(uint64_t shares);

// OCI memory.swap is memory+swap (v1 semantics); v2 memory.swap.max is swap
// alone. runc's conversion: returns the value for memory.swap.max, -1 for
// "max", 0 for "leave unset"; errors when swap is below the memory limit or
// set without one.
Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit);

// One cgroup or cgroup2 entry of /proc/self/mountinfo.
struct CgroupMount {
  std::string device;       // "0:29": one per hierarchy, shared by bind mounts
  std::string root;         // root of the mount inside the hierarchy ("/")
  std::string mount_point;  // octal escapes decoded
  bool v2 = false;
  std::vector<std::string> controllers;  // v1 only: "cpu", "name=systemd"
};
std::vector<CgroupMount> parse_cgroup_mounts(const std::string& mountinfo);
// parse_cgroup_mounts of the live /proc/self/mountinfo (not cached).
Result<std::vector<CgroupMount>> read_cgroup_mounts();
// One mount per v1 hierarchy (comounts and bind mounts deduplicated by
// device, preferring mounts under /sys/fs/cgroup), in mountinfo order.
std::vector<CgroupMount> select_v1_hierarchies(const std::vector<CgroupMount>& mounts);
// The cgroup2 mount to use (preferring /sys/fs/cgroup, then anything under
// it), or nullopt.
std::optional<CgroupMount> select_v2_mount(const std::vector<CgroupMount>& mounts);

// ---------------------------------------------------------------------------
// File helpers shared by the backends (cgroup.cc). Every error names the file.
namespace cgroupfs {

// Whole file, trailing newline kept. ENOENT is reported like any error.
Result<std::string> read(const std::string& path);
// Single write(2) of `value` (the kernel parses one write per value).
Result<> write(const std::string& path, const std::string& value);
bool exists(const std::string& path);
// "12\n" -> 12; "max" -> nullopt.
Result<std::optional<int64_t>> read_limit(const std::string& path);
Result<uint64_t> read_u64(const std::string& path);
// Value of "key N" in a flat-keyed file (memory.events, cpu.stat,
// memory.oom_control); nullopt when the key is absent.
std::optional<uint64_t> keyed_value(const std::string& text, const std::string& key);
// mkdir -p below `mount_point`; `on_dir` runs for every directory on the
// way down (existing or made), root excluded, so v1 cpuset can initialise
// parents before children.
Result<> make_dirs(const std::string& mount_point, const std::string& rel,
                   const std::function<Result<>(const std::string&)>& on_dir = {});
// Full paths of the sub-cgroups directly below `dir`; none when it is gone.
Result<std::vector<std::string>> subdirs(const std::string& dir);
// Processes listed in <dir>/cgroup.procs and in every sub-cgroup below.
// A vanished directory contributes nothing.
Result<std::vector<pid_t>> procs_recursive(const std::string& dir);
// rmdir `dir` after its sub-cgroups, deepest first, retrying EBUSY for up to
// `timeout_ms` (the kernel releases a cgroup shortly after its last task
// exits). ENOENT is success.
Result<> remove_tree(const std::string& dir, int timeout_ms = 2000);
// Sends SIGKILL to everything `list` returns until it returns nothing,
// calling `kick` after every round (v1 thaws the freezer there so frozen
// tasks can die). Fails with EBUSY after `timeout_ms`.
Result<> kill_until_empty(const std::function<Result<std::vector<pid_t>>()>& list,
                          const std::function<void()>& kick, int timeout_ms = 2000,
                          const std::string& what = "cgroup");

}  // namespace cgroupfs

}  // namespace stack::rt
