#include "runtime/container/init.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sstream>

#include "runtime/container/exec_lookup.h"
#include "runtime/kernel/safe_path.h"
#include "runtime/kernel/terminal.h"

namespace stack::rt {

void InitPlan::finalize() {
  argv.clear();
  envp.clear();
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
}

std::vector<std::string> exec_candidates(const std::string& arg0, const std::vector<std::string>& env) {
  if (arg0.find('/') != std::string::npos) return {arg0};
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  std::vector<std::string> out;
  std::stringstream ss(path);
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) dir = ".";
    out.push_back(dir + "/" + arg0);
  }
  return out;
}

namespace {

// Child-side helpers: nothing here allocates.

[[noreturn]] void die(int sync_fd, const ChildError& err) noexcept {
  InitMessage m;
  m.type = InitMessage::kFailed;
  m.error = err;
  (void)!::write(sync_fd, &m, sizeof m);
  _exit(1);
}

int loopback_up(ChildError* err) noexcept {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    err->set(errno, "socket for loopback");
    return err->code;
  }
  struct ifreq ifr{};
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  int rc = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    rc = ::ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  if (rc != 0) err->set(errno, "bring up lo");
  ::close(s);
  return rc == 0 ? 0 : err->code;
}

size_t cstrlen(const char* s) noexcept {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

// The working directory, resolved inside the container's root: a cwd such
// as "/proc/self/fd/9" (an fd some caller leaked to us, CVE-2024-21626) or a
// symlink out of the rootfs must not put the process in the host's tree.
// RESOLVE_IN_ROOT scopes ".." and absolute symlinks to the root and refuses
// magic links; getcwd then proves the result is reachable from our root
// (the kernel prefixes "(unreachable)" otherwise), as runc checks.
int enter_cwd(const char* cwd, ChildError* err) noexcept {
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    err->set(errno, "open / to resolve cwd ", cwd);
    return err->code;
  }
  int dir = open_in_root(root, cwd, CreateMode::kNone);
  ::close(root);
  if (dir < 0) {
    err->set(-dir, "chdir to cwd ", cwd);
    return err->code;
  }
  int rc = ::fchdir(dir);
  int e = errno;
  ::close(dir);
  if (rc != 0) {
    err->set(e, "chdir to cwd ", cwd);
    return err->code;
  }
  char buf[kMaxInRootPath + 1];
  long n = ::syscall(SYS_getcwd, buf, sizeof buf);
  if (n <= 0 || buf[0] != '/') {
    err->set(EPERM, "current working directory is outside of container mount namespace root: ", cwd);
    return err->code;
  }
  return 0;
}

}  // namespace

void run_init(const InitPlan& p, int sync_fd) noexcept {
  ChildError err;
  // Until execve nobody else may open /proc/<us>/exe (the runtime binary) or
  // our memory: a non-dumpable process is off limits to ptrace-mode access
  // from processes without CAP_SYS_PTRACE, which containers do not get by
  // default. execve resets this for the user's program.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Die with the parent while it still sets us up, so a killed `create`
  // leaves no half-made container behind.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  // Given stdio replaces ours (the caller made sure these fds are >= 3).
  for (int i = 0; i < 3; i++)
    if (p.stdio[i] >= 0 && ::dup3(p.stdio[i], i, 0) < 0) _exit(1);

  char go = 0;
  if (::read(sync_fd, &go, 1) != 1 || go != kGo) _exit(1);

  for (auto& j : p.join) {
    if (::setns(j.fd, j.flag) != 0) {
      err.set(errno, "join namespace (setns)");
      die(sync_fd, err);
    }
  }
  if (p.new_user_ns) {
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0 || ::syscall(SYS_setresuid, 0, 0, 0) != 0) {
      err.set(errno, "become root in the user namespace");
      die(sync_fd, err);
    }
  }
  if (p.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) {
    err.set(errno, "unshare cgroup namespace");
    die(sync_fd, err);
  }
  if (p.loopback_up && loopback_up(&err) != 0) die(sync_fd, err);
  // linux.sysctl is written by rootfs_enter, through a verified procfs.
  if (p.rootfs && rootfs_enter(*p.rootfs, &err) != 0) die(sync_fd, err);
  if (!p.hostname.empty() && ::sethostname(p.hostname.c_str(), p.hostname.size()) != 0) {
    err.set(errno, "sethostname");
    die(sync_fd, err);
  }
  if (!p.domainname.empty() && ::setdomainname(p.domainname.c_str(), p.domainname.size()) != 0) {
    err.set(errno, "setdomainname");
    die(sync_fd, err);
  }
  if (p.rootfs && rootfs_finalize(*p.rootfs, &err) != 0) die(sync_fd, err);
  if (apply_rlimits(p.rlimits, &err) != 0) die(sync_fd, err);
  if (write_exec_labels(p.exec_labels, &err) != 0) die(sync_fd, err);

  if (p.console_socket >= 0) {
    if (setup_console(p.console_socket, p.console_rows, p.console_cols, &err) != 0) die(sync_fd, err);
    ::close(p.console_socket);
  } else if (::setsid() < 0 && errno != EPERM) {
    err.set(errno, "setsid");
    die(sync_fd, err);
  }

  // Nothing the runtime holds may leak into the container: every fd above
  // the preserved range is closed at exec (our own sync and fifo fds are
  // needed until then, so mark rather than close).
  if (::syscall(SYS_close_range, 3 + p.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    err.set(errno, "close_range");
    die(sync_fd, err);
  }

  // The working directory and the executable, before any seccomp filter is
  // loaded, so no profile can break them (a profile without openat2 or
  // faccessat2: exec_lookup.h). The cwd is entered as root, as runc does
  // first: a directory the user cannot search is still the process's cwd.
  // Finding the executable now makes a typo in args fail `create`, not `start`.
  if (enter_cwd(p.cwd.c_str(), &err) != 0) die(sync_fd, err);
  const int index = find_executable(p.exec_candidates, p.args[0], p.identity, &err);
  if (index < 0) die(sync_fd, err);

  // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, which is
  // about to be dropped: load it now (the profile must then allow the
  // remaining setup calls, as Docker's does).
  if (!p.no_new_privileges && !p.seccomp.empty()) {
    int e = load_seccomp(p.seccomp);
    if (e != 0) {
      err.set(e, "load seccomp filter");
      die(sync_fd, err);
    }
  }
  if (drop_bounding(p.caps, &err) != 0) die(sync_fd, err);
  if (apply_identity(p.identity, &err) != 0) die(sync_fd, err);
  if (apply_capabilities(p.caps, &err) != 0) die(sync_fd, err);
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    err.set(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    die(sync_fd, err);
  }

  // The parent may exit as soon as it reads kReady (`create` returns), so the
  // death signal is cleared first. From here on nobody listens for errors.
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  InitMessage ready;
  ready.type = InitMessage::kReady;
  ready.exec_index = index;
  if (::write(sync_fd, &ready, sizeof ready) != static_cast<ssize_t>(sizeof ready)) _exit(1);
  char applied = 0;
  if (::read(sync_fd, &applied, 1) != 1 || applied != kLimitsApplied) _exit(1);
  ::close(sync_fd);

  // The user's program starts with default signal handling and nothing
  // blocked, whatever the caller (a daemon, a shell) had: handlers reset at
  // exec anyway, but ignored and blocked signals would be inherited.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);

  if (p.fifo_fd >= 0) {
    // Blocks until `start` opens the fifo for reading (runc's exec.fifo).
    char path[64] = "/proc/self/fd/";
    size_t n = cstrlen(path);
    char digits[16];
    int d = 0, v = p.fifo_fd;
    do {
      digits[d++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (d) path[n++] = digits[--d];
    path[n] = '\0';
    // Kept open: execve closes it (O_CLOEXEC), and that end of file tells
    // `start` the user's program runs (poststart hooks wait for it).
    int w = ::open(path, O_WRONLY | O_CLOEXEC);
    if (w < 0) _exit(127);
    if (::write(w, "0", 1) != 1) _exit(127);
  }

  if (p.no_new_privileges && !p.seccomp.empty()) {
    if (load_seccomp(p.seccomp) != 0) {
      static const char msg[] = "stack-runtime: load seccomp filter failed\n";
      (void)!::write(2, msg, sizeof msg - 1);
      _exit(127);
    }
  }
  ::execve(p.exec_candidates[index].c_str(), p.argv.data(), p.envp.data());
  static const char msg[] = "stack-runtime: exec failed\n";
  (void)!::write(2, msg, sizeof msg - 1);
  _exit(127);
}

}  // namespace stack::rt
