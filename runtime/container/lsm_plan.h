// process.apparmorProfile, process.selinuxLabel and linux.mountLabel checked
// against the host before anything is made: applied where the host has the
// LSM enabled, and a `create` that fails naming the field where it does not,
// as runc refuses them, so a container never runs unconfined while its
// config says otherwise.
#pragma once

#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "base/error.h"
#include "runtime/kernel/lsm.h"

namespace stack::rt {

// The writes the init makes before execve (none when both fields are empty).
Result<std::vector<ExecLabel>> plan_exec_labels(const Process& process);

// linux.mountLabel to add to the container's tmpfs/devpts/mqueue mounts: ""
// when unset; an error when set on a host without SELinux.
Result<std::string> plan_mount_label(const Spec& spec);

}  // namespace stack::rt
