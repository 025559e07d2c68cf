#include "runtime/kernel/procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fd.h"
#include "runtime/kernel/safe_path.h"

namespace stack::rt {
namespace {

// The root directory of every procfs instance has this inode number
// (PROC_ROOT_INO), and only the root: a bind of some procfs subdirectory
// over /proc does not pass for a procfs root.
constexpr ino_t kProcRootIno = 1;

}  // namespace

// ---------------------------------------------------------------- parent --

bool proc_file_may_be_covered(const std::string& dest) {
  static const char* const kAllowed[] = {
      "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",    "/proc/swaps",
      "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
  for (const char* a : kAllowed)
    if (dest == a) return true;
  return false;
}

Result<> check_proc_destination(const std::string& dest, const std::string& type,
                                const std::string& bind_source) {
  const bool at = dest == "/proc", under = dest.rfind("/proc/", 0) == 0;
  if (!at && !under) return {};
  if (type == "proc" || proc_file_may_be_covered(dest)) return {};
  if (at && !bind_source.empty()) {
    struct statfs s {};
    struct stat st {};
    if (::statfs(bind_source.c_str(), &s) == 0 && s.f_type == PROC_SUPER_MAGIC &&
        ::stat(bind_source.c_str(), &st) == 0 && st.st_ino == kProcRootIno)
      return {};
  }
  if (at) return fail("\"/proc\" cannot be mounted because it is not of type proc", EPERM);
  return fail("\"" + dest + "\" cannot be mounted because it is inside /proc", EPERM);
}

Result<std::vector<PlannedSysctl>> plan_sysctls(const std::map<std::string, std::string>& sysctl) {
  std::vector<PlannedSysctl> out;
  for (const auto& [key, value] : sysctl) {
    if (key.empty() || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return fail("linux.sysctl: invalid key \"" + key + "\"", EINVAL);
    std::string rel = "sys/" + key;
    for (size_t i = 4; i < rel.size(); i++)
      if (rel[i] == '.') rel[i] = '/';
    out.push_back({"sysctl " + key, rel, value});
  }
  return out;
}

// ----------------------------------------------------------------- child --

bool on_procfs(int fd) noexcept {
  struct statfs s;
  return ::fstatfs(fd, &s) == 0 && s.f_type == PROC_SUPER_MAGIC;
}

int open_proc_root(int root_fd, ChildError* err) noexcept {
  int fd = open_in_root_no_symlinks(root_fd, "/proc");
  if (fd < 0) {
    err->set(-fd, "open /proc (it must be a directory, not a symlink)");
    return fd;
  }
  UniqueFd proc(fd);
  struct stat st {};
  if (!on_procfs(proc.get()) || ::fstat(proc.get(), &st) != 0 || st.st_ino != kProcRootIno) {
    err->set(EXDEV, "/proc is not the root of a procfs mount");
    return -EXDEV;
  }
  return proc.release();
}

int write_proc_file(int proc_fd, const char* rel, const char* value, const char* what,
                    ChildError* err) noexcept {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd = -1;
  for (int tries = 0; tries < 32; ++tries) {
    fd = ::syscall(SYS_openat2, proc_fd, rel, &how, sizeof how);
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  if (fd < 0) {
    int e = errno;
    // EXDEV/ELOOP: something is mounted or linked where a procfs file should be.
    err->set(e, "write ", what, ": open /proc/", rel);
    return e;
  }
  UniqueFd file(static_cast<int>(fd));
  if (!on_procfs(file.get())) {
    err->set(EXDEV, "write ", what, ": not a procfs file: /proc/", rel);
    return EXDEV;
  }
  size_t len = std::strlen(value);
  if (::write(file.get(), value, len) < 0) {
    int e = errno;
    err->set(e, "write ", what, " to /proc/", rel);
    return e;
  }
  return 0;
}

int write_sysctls(const std::vector<PlannedSysctl>& sysctls, ChildError* err) noexcept {
  if (sysctls.empty()) return 0;
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    int e = errno;
    err->set(e, "open / for linux.sysctl");
    return e;
  }
  int fd = open_proc_root(root.get(), err);
  if (fd < 0) return -fd;
  UniqueFd proc(fd);
  for (const PlannedSysctl& s : sysctls)
    if (int rc = write_proc_file(proc.get(), s.rel.c_str(), s.value.c_str(), s.what.c_str(), err)) return rc;
  return 0;
}

}  // namespace stack::rt
