// OCI hooks: run each with the container's state JSON on stdin, killed after
// its timeout. A failing prestart/createRuntime hook fails the create (and
// the create is rolled back); poststart/poststop failures are warnings.
#pragma once

#include <string>
#include <vector>

#include "runtime/container/spec.h"
#include "runtime/kernel/error.h"

namespace stack::rt {

Result<> run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* stage);

}  // namespace stack::rt
