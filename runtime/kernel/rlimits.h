// Resource limits: names resolved and clamped in the parent; set in the child
// with setrlimit. Raising a hard limit above the current one needs
// CAP_SYS_RESOURCE; where that is missing (as on our CI host) the limit is
// clamped to the current hard limit and a warning says so, instead of the
// container failing to start.
#pragma once

#include <sys/resource.h>

#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "runtime/kernel/child_error.h"
#include "base/error.h"

namespace stack::rt {

struct PlannedRlimit {
  int resource = 0;
  struct rlimit value{};
};

struct RlimitPlan {
  std::vector<PlannedRlimit> limits;
  std::vector<std::string> warnings;  // one line per clamped limit
};

Result<int> rlimit_from_name(const std::string& name);  // "RLIMIT_NOFILE" or "nofile"
Result<RlimitPlan> plan_rlimits(const std::vector<Rlimit>& limits);
int apply_rlimits(const RlimitPlan& plan, ChildError* err) noexcept;

}  // namespace stack::rt
