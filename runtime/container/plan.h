// Turns a spec (and for exec, a process) into an InitPlan: all parsing,
// name resolution, seccomp compilation and clamping happens here, in the
// parent, so the child after clone only executes.
#pragma once

#include <string>
#include <vector>

#include "runtime/container/init.h"
#include "runtime/oci/spec.h"
#include "base/fd.h"

namespace stack::rt {

struct PlanOwner {
  InitPlan plan;
  std::vector<UniqueFd> fds;  // namespace fds the plan's join list points at
  std::vector<std::string> warnings;
};

// The process part: caps, rlimits, identity, seccomp, args/env/cwd, exec
// candidates. `seccomp_cache` is a directory ("" = no cache).
Result<> plan_process(const Process& process, const Spec& spec, const std::string& seccomp_cache,
                      PlanOwner& out);

struct ContainerPlanOptions {
  std::string rootfs;  // absolute
  std::string bundle;  // absolute; relative bind sources resolve against it
  bool no_pivot = false;
};

// The whole container: namespaces to join (opened here), rootfs, sysctls,
// hostname, plus plan_process. Clone flags are returned separately.
Result<int> plan_container(const Spec& spec, const ContainerPlanOptions& options,
                           const std::string& seccomp_cache, PlanOwner& out);

}  // namespace stack::rt
