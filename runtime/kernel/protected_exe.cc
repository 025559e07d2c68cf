#include "runtime/kernel/protected_exe.h"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace stack::rt {
namespace {

// Newer than Debian 12's headers (Linux 6.3): MFD_EXEC asks for an executable
// memfd explicitly, which hosts with vm.memfd_noexec=1 require; F_SEAL_EXEC
// also freezes the mode bits.
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

// The seals that make a copy immutable. F_SEAL_SEAL: no seal can be removed
// or added after it.
constexpr int kRequiredSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

std::string base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

}  // namespace

bool is_write_protected(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals >= 0 && (seals & kRequiredSeals) == kRequiredSeals) return true;
  // Per-mount flags: a read-only mount refuses write opens through any path
  // that goes through it, /proc/<pid>/exe included.
  struct statvfs vfs;
  return ::fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

Result<UniqueFd> readonly_clone(const std::string& path) {
  // The clone is of the mount the path resolves to, rooted at the file: a
  // private, detached bind mount of just this binary.
  UniqueFd tree(::open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return fail_errno("clone the mount of " + path);
  struct mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return fail_errno("make the clone of " + path + " read-only");
  if (!is_write_protected(tree.get())) return fail("clone of " + path + " is still writable", EPERM);
  return tree;
}

Result<UniqueFd> sealed_copy(const std::string& path, const std::string& name) {
  UniqueFd src(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!src) return fail_errno("open " + path);
  struct stat st;
  if (::fstat(src.get(), &st) != 0) return fail_errno("stat " + path);
  if (!S_ISREG(st.st_mode)) return fail(path + " is not a regular file", EINVAL);

  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return fail_errno("memfd_create " + name);
  UniqueFd copy(fd);
  // sendfile copies inside the kernel, from the page cache of a binary that
  // was just executed.
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(copy.get(), src.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("copy " + path + " into a memfd");
    if (n == 0) return fail("copy " + path + ": file shrank while copying", EIO);
    left -= n;
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, kRequiredSeals | F_SEAL_EXEC) != 0 &&
      (errno != EINVAL || ::fcntl(copy.get(), F_ADD_SEALS, kRequiredSeals) != 0))
    return fail_errno("seal the copy of " + path);
  return copy;
}

Result<UniqueFd> protected_executable(const std::string& path, const std::string& name) {
  auto clone = readonly_clone(path);
  if (clone) return clone;
  // No CAP_SYS_ADMIN (a rootless caller) or no new mount API: copy.
  auto copy = sealed_copy(path, name);
  if (!copy) return tl::unexpected(copy.error().wrap(clone.error().message()));
  return copy;
}

Result<> reexec_protected(char** argv) {
  const std::string name = base_name(argv[0]);
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return fail_errno("open /proc/self/exe");
  if (is_write_protected(self.get())) {
    ::prctl(PR_SET_NAME, name.c_str(), 0, 0, 0);
    return {};
  }
  self.reset();
  auto exe = protected_executable("/proc/self/exe", name);
  if (!exe) return tl::unexpected(exe.error());
  // Only static initialisers have run: the new image starts with the same
  // argv, environment, fds and signal state.
  ::syscall(SYS_execveat, exe->get(), "", argv, environ, AT_EMPTY_PATH);
  return fail_errno("execute the protected copy of /proc/self/exe");
}

Result<ProtectedBinary> ProtectedBinary::open(const std::string& path) {
  auto exe = protected_executable(path, base_name(path.c_str()));
  if (!exe) return tl::unexpected(exe.error());
  ProtectedBinary b;
  b.path_ = "/proc/self/fd/" + std::to_string(exe->get());
  b.fd_ = std::move(*exe);
  return b;
}

}  // namespace stack::rt
