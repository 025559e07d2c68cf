#include "runtime/container/exec_lookup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace stack::rt {

namespace {

bool in_groups(gid_t g, const IdentityPlan& who) noexcept {
  if (g == who.gid) return true;
  for (gid_t x : who.groups)
    if (x == g) return true;
  return false;
}

// 0, or the errno execve would give `who` for this file.
int may_execute(int dirfd, const char* path, const IdentityPlan& who) noexcept {
  struct stat st {};
  if (::fstatat(dirfd, path, &st, 0) != 0) return errno;
  if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) return EACCES;
  mode_t bits;
  if (who.uid == 0) bits = st.st_mode & 0111;  // root: any x bit (execve's rule for CAP_DAC_OVERRIDE)
  else if (st.st_uid == who.uid) bits = st.st_mode & 0100;
  else if (in_groups(st.st_gid, who)) bits = st.st_mode & 0010;
  else bits = st.st_mode & 0001;
  if (bits == 0) return EACCES;
  // A file on a noexec mount is refused by execve whatever its mode.
  int fd = ::openat(dirfd, path, O_PATH | O_CLOEXEC);
  if (fd < 0) return errno;
  struct statvfs vfs {};
  int rc = ::fstatvfs(fd, &vfs);
  ::close(fd);
  if (rc == 0 && (vfs.f_flag & ST_NOEXEC)) return EACCES;
  return 0;
}

// ENOENT and ENOTDIR say "not here"; anything else (EACCES, ELOOP ...) says
// "here, but not runnable", which is the more useful error to report.
int worse(int a, int b) noexcept {
  if (a == 0) return b;
  if (b == ENOENT || b == ENOTDIR) return a;
  if (a == ENOENT || a == ENOTDIR) return b;
  return a;
}

}  // namespace

int find_executable(const std::vector<std::string>& candidates, const std::string& arg0, const IdentityPlan& who,
                    ChildError* err) noexcept {
  int best = 0;
  int found = -1;
  for (size_t i = 0; i < candidates.size() && found < 0; ++i) {
    int e = may_execute(AT_FDCWD, candidates[i].c_str(), who);
    if (e == 0) found = static_cast<int>(i);
    else best = worse(best, e);
  }
  if (found >= 0) return found;
  const bool bare = arg0.find('/') == std::string::npos;
  if (bare && (best == 0 || best == ENOENT || best == ENOTDIR))
    err->set(ENOENT, "exec: \"", arg0.c_str(), "\": executable file not found in $PATH");
  else if (best == 0 || best == ENOENT)
    err->set(ENOENT, "exec: \"", arg0.c_str(), "\": executable file not found");
  else  // the errno's text follows in the message ("exec: \"/app\": Permission denied")
    err->set(best ? best : ENOENT, "exec: \"", arg0.c_str(), "\"");
  return -1;
}

}  // namespace stack::rt
