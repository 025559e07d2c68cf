// Linux security modules as a container runtime meets them: whether the
// host has AppArmor or SELinux enabled, where a process asks for the label
// of its next execve, and the mount option that labels a filesystem. The
// parent decides what to write (container/lsm_plan.h); the child after clone
// only writes the precomputed strings.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel/child_error.h"

namespace stack::rt {

// runc's test: securityfs shows AppArmor and the module parameter says "Y".
bool apparmor_enabled();
// go-selinux's test: selinuxfs is mounted (/sys/fs/selinux/enforce exists).
bool selinux_enabled();

// The file a process writes "exec <profile>" to so its next execve enters
// that AppArmor profile: /proc/self/attr/apparmor/exec on kernels with LSM
// stacking (5.8+), else the shared /proc/self/attr/exec.
std::string apparmor_exec_attr();

// One write the init makes before execve. The paths are under /proc/self,
// resolved in the container's own procfs after pivot_root.
struct ExecLabel {
  std::string attr;   // "/proc/self/attr/exec"
  std::string value;  // "exec my-profile" / "system_u:system_r:container_t:s0"
  std::string field;  // "process.apparmorProfile", for the error message
};

// Child side, async-signal-safe (open/write/close). 0, or the errno with
// `err` naming the field and the file.
int write_exec_labels(const std::vector<ExecLabel>& labels, ChildError* err) noexcept;

// `data` (a mount's filesystem options) with SELinux's context="label"
// appended, as go-selinux's FormatMountLabel does; unchanged when `label` is
// empty.
std::string mount_data_with_label(const std::string& data, const std::string& label);

}  // namespace stack::rt
