// Switching the process's root to the prepared rootfs, the last step of
// rootfs_enter (rootfs.h). Child-side: raw syscalls, nothing allocated.
//   kPivot         pivot_root into it and detach the old root (the normal
//                  case: the old root is gone from the namespace);
//   kMoveAndChroot --no-pivot, or where pivot_root is impossible (EINVAL:
//                  an initramfs root): move the rootfs mount over "/" and
//                  chroot, as crun does;
//   kChroot        the container has no mount namespace of its own
//                  (linux.namespaces lists none, so the runtime's is
//                  inherited, as the runtime spec requires): only chroot.
//                  Pivoting or moving mounts there would change the
//                  runtime's own (the host's) root (runc: chroot too).
#pragma once

#include "runtime/kernel/child_error.h"

namespace stack::rt {

enum class RootSwitch { kPivot, kMoveAndChroot, kChroot };

int switch_root(const char* rootfs, RootSwitch how, ChildError* err) noexcept;

// True when this process shares its mount namespace with the pid 1 that
// /proc shows (the host's before pivot). Unknown counts as "not shared".
bool in_pid1_mount_ns() noexcept;

}  // namespace stack::rt
