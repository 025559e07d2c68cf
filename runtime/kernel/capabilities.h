// Capabilities: names resolved with libcap in the parent into bit masks; the
// child applies them with raw prctl/capset (no libcap calls, which allocate).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "runtime/kernel/child_error.h"
#include "base/error.h"

namespace stack::rt {

struct CapPlan {
  bool set = false;  // spec had process.capabilities
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
  int last_cap = 0;  // highest capability the kernel knows
};

// "CAP_CHOWN" or "chown" -> number; error names the unknown capability.
Result<int> capability_from_name(const std::string& name);
std::string capability_name(int cap);  // "CAP_CHOWN"
// Highest capability number the running kernel knows.
int kernel_last_cap();

Result<CapPlan> plan_capabilities(const std::optional<Capabilities>& caps);

// Child side, in two steps around the uid switch:
// 1. drop_bounding: PR_CAPBSET_DROP everything not in the bounding set (needs
//    CAP_SETPCAP, so before the uid changes).
// 2. apply_capabilities: capset(effective, permitted, inheritable), then raise
//    ambient. Returns 0 or errno with *err filled.
int drop_bounding(const CapPlan& plan, ChildError* err) noexcept;
int apply_capabilities(const CapPlan& plan, ChildError* err) noexcept;

}  // namespace stack::rt
