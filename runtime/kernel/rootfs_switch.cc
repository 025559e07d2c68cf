#include "runtime/kernel/rootfs_switch.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"

namespace stack::rt {

namespace {

int chroot_here(const char* rootfs, ChildError* err) noexcept;

// --no-pivot, or the fallback where pivot_root is impossible: move the
// rootfs mount over "/" and chroot into it. The old root stays reachable to a
// process that can escape a chroot, which is why pivot_root is preferred.
int move_and_chroot(const char* rootfs, ChildError* err) noexcept {
  if (::mount(rootfs, "/", nullptr, MS_MOVE, nullptr) != 0) {
    int e = errno;
    err->set(e, "move rootfs ", rootfs, " to /");
    return e;
  }
  return chroot_here(rootfs, err);
}

// cwd: the rootfs.
int pivot(const char* rootfs, ChildError* err) noexcept {
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root) {
    int e = errno;
    err->set(e, "open old root /");
    return e;
  }
  // pivot_root(".", ".") stacks the old root on top of the new one at the
  // same place; no put_old directory is needed inside the image.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) {
    int e = errno;
    // EINVAL: the host root cannot be pivoted away from (an initramfs or
    // ramfs root, as on some minimal hosts and PXE boots). Only then fall
    // back to the weaker MS_MOVE + chroot, as crun does.
    if (e == EINVAL) return move_and_chroot(rootfs, err);
    err->set(e, "pivot_root to ", rootfs);
    return e;
  }
  if (::fchdir(old_root.get()) != 0) {
    int e = errno;
    err->set(e, "chdir to old root");
    return e;
  }
  // Slave first, so the unmount below cannot propagate to the host's peers.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    int e = errno;
    err->set(e, "make old root rslave");
    return e;
  }
  if (::umount2(".", MNT_DETACH) != 0) {
    int e = errno;
    err->set(e, "detach old root");
    return e;
  }
  if (::chdir("/") != 0) {
    int e = errno;
    err->set(e, "chdir to new root");
    return e;
  }
  return 0;
}

int chroot_here(const char* rootfs, ChildError* err) noexcept {
  if (::chroot(".") != 0 || ::chdir("/") != 0) {
    int e = errno;
    err->set(e, "chroot into ", rootfs);
    return e;
  }
  return 0;
}

}  // namespace

bool in_pid1_mount_ns() noexcept {
  struct stat self {}, init {};
  if (::stat("/proc/self/ns/mnt", &self) != 0 || ::stat("/proc/1/ns/mnt", &init) != 0) return false;
  return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

int switch_root(const char* rootfs, RootSwitch how, ChildError* err) noexcept {
  UniqueFd new_root(::open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!new_root) {
    int e = errno;
    err->set(e, "open rootfs ", rootfs);
    return e;
  }
  if (::fchdir(new_root.get()) != 0) {
    int e = errno;
    err->set(e, "chdir to rootfs ", rootfs);
    return e;
  }
  switch (how) {
    case RootSwitch::kChroot:
      return chroot_here(rootfs, err);
    case RootSwitch::kMoveAndChroot:
      return move_and_chroot(rootfs, err);
    case RootSwitch::kPivot:
      break;
  }
  return pivot(rootfs, err);
}

}  // namespace stack::rt
