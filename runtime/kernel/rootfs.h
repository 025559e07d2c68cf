// The container's filesystem view: everything between "new mount namespace"
// and "exec". Planned in the parent (all strings resolved, all decisions
// taken, allocation done), executed in the child after clone with raw
// syscalls only. Mount targets are resolved inside the rootfs with
// openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd, so a symlink in
// the image (/etc -> /) can never put a mount on the host.
#pragma once

#include <memory>
#include <string>

#include "runtime/oci/spec.h"
#include "runtime/kernel/child_error.h"
#include "base/error.h"

namespace stack::rt {

struct RootfsPlan;  // opaque; owns every string the child touches

struct RootfsOptions {
  std::string rootfs;     // path of the rootfs directory on the host (symlinks resolved by the plan)
  std::string bundle;     // relative bind-mount sources are taken from here; "" = the cwd
  bool no_pivot = false;  // --no-pivot: MS_MOVE + chroot instead of pivot_root
  bool in_user_ns = false;  // devices are bind-mounted from the host instead of mknod
  std::string mount_label;  // SELinux context for tmpfs/devpts/mqueue mounts ("" = none)
  // linux.namespaces lists no mount namespace: the runtime's is the
  // container's. The mounts are made under the rootfs in it (the caller
  // removes them with the container: unmount_under), the root is entered
  // with chroot, and the propagation of "/" is left alone.
  bool inherit_mount_ns = false;
};

void destroy_rootfs_plan(RootfsPlan* plan);  // for unique_ptr of an opaque type
struct RootfsPlanDeleter {
  void operator()(RootfsPlan* p) const { destroy_rootfs_plan(p); }
};
using RootfsPlanPtr = std::unique_ptr<RootfsPlan, RootfsPlanDeleter>;

// Parent: validates and precomputes everything the child needs. Fails when
// the rootfs is missing or not a directory (the message names it), on a bad
// mount option or propagation, a mount without a type, or a bad device.
// A relative mount destination is taken relative to "/", as runc does.
Result<RootfsPlanPtr> plan_rootfs(const Spec& spec, const RootfsOptions& options);

// Child, phase 1 (in the new mount namespace, before pivot): root
// propagation, bind the rootfs on itself, the spec's mounts in order
// (proc, sysfs, tmpfs /dev, devpts, mqueue, shm, cgroup, binds ...),
// default devices and /dev symlinks (fd, stdin, stdout, stderr, ptmx),
// then pivot_root into it and detach the old root, and last write
// linux.sysctl through the new /proc, checked to be procfs (procfs.h).
// A mount whose destination resolves into a mounted procfs is refused
// unless it is proc itself or one of the /proc files lxcfs replaces; proc
// and sysfs refuse a mount point reached through a symlink. Returns 0 or errno
// (details in *err). Refuses (EPERM) to run in the mount namespace of the
// host's pid 1, so a caller that forgot CLONE_NEWNS cannot remount the host.
// Needs about 8 KiB of stack (path buffers); the host /proc must still be
// mounted at /proc (mount targets are reached through /proc/self/fd).
int rootfs_enter(const RootfsPlan& plan, ChildError* err) noexcept;

// Child, phase 2 (after the hostname is written): rootfs
// propagation as the spec asks, read-only root remount, linux.maskedPaths
// (/dev/null over files, read-only tmpfs over dirs) and linux.readonlyPaths.
// Masked and read-only paths that do not exist are skipped. Needs the
// container's /proc mounted when either list is non-empty.
int rootfs_finalize(const RootfsPlan& plan, ChildError* err) noexcept;

}  // namespace stack::rt
