// The real-time CPU budget of a cgroup v1 "cpu" hierarchy directory
// (cpu.rt_runtime_us). A cgroup's real-time tasks may use no more than its
// parent grants, and a new cgroup is granted nothing, so a container with a
// real-time runtime needs its parent's budget set first: what dockerd's
// --cpu-rt-runtime does for its own parent, and stackd's for /stack.
// Policy-free: callers choose the path and the amount.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace stack::rt {

// The budget of `cgroup_path` ("/stack"), microseconds per period: 0 when
// the directory does not exist yet; ENOTSUP when no v1 cpu hierarchy is
// mounted (cgroup v2 has no real-time limits).
Result<int64_t> cgroup_rt_runtime(const std::string& cgroup_path);

// Creates `cgroup_path` in the cpu hierarchy when missing and sets its
// budget (the kernel refuses more than the parent has left: EINVAL, named).
Result<> set_cgroup_rt_runtime(const std::string& cgroup_path, int64_t us);

}  // namespace stack::rt
