// OCI hooks: run each with the container's state JSON on stdin, killed after
// its timeout. A failing prestart/createRuntime hook fails the create (and
// the create is rolled back); a failing poststart/poststop hook is a warning
// and the remaining hooks and the lifecycle go on (the runtime spec's rule).
#pragma once

#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt {

// Stops at the first failure, which it returns (prestart, createRuntime).
Result<> run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* stage);

// Runs every hook; each failure is a warning in the result (poststart,
// poststop).
std::vector<std::string> run_hooks_warning(const std::vector<Hook>& hooks, const std::string& state_json,
                                           const char* stage);

}  // namespace stack::rt
