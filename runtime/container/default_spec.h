// The Docker-equivalent default container: what `stack-runtime spec` writes
// and what the orchestrator starts from. Capabilities are exactly Docker's 14
// defaults, seccomp is our equivalent of Docker's default profile, masked and
// read-only paths are Docker's.
#pragma once

#include <string>
#include <vector>

#include "runtime/oci/spec.h"

namespace stack::rt {

const std::vector<std::string>& docker_default_capabilities();
const std::vector<std::string>& docker_masked_paths();
const std::vector<std::string>& docker_readonly_paths();

// rootfs "rootfs", args ["sh"], terminal false (runc's spec sets true; we
// default to false so `run` works without a tty, and `spec --terminal` sets it).
Spec default_spec();

}  // namespace stack::rt
