// stack-init: the init a service with `init: true` gets as pid 1 (Docker's
// docker-init, tini, does the same job). It runs the service's command as
// its only child, passes on every signal it receives to that child, reaps
// every process that is re-parented to it (orphans of the child's
// children), and exits with the child's status (128 + the signal when the
// child was killed by one), as tini does.
//
// Usage: stack-init -- COMMAND [ARG...]
//
// Small and static on purpose: it is bind-mounted read-only into the
// container (at /sbin/stack-init) and must run whatever the image's libc.
// Only the C library, no allocation after start.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

void die(const char* what) {
  std::fprintf(stderr, "stack-init: %s: %s\n", what, std::strerror(errno));
  std::exit(127);
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::fprintf(stderr, "usage: stack-init -- COMMAND [ARG...]\n");
    return 2;
  }
  // Not pid 1 (a shared pid namespace): orphans come to us all the same.
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die("PR_SET_CHILD_SUBREAPER");

  // Every signal is taken synchronously below; the child gets the mask it
  // would have had without us.
  sigset_t all, parent_mask;
  sigfillset(&all);
  if (sigprocmask(SIG_SETMASK, &all, &parent_mask) != 0) die("sigprocmask");

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &parent_mask, nullptr);
    // A process group of its own, with the terminal's foreground when there
    // is one, as the child would have had as pid 1 (tini does the same).
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(STDIN_FILENO, getpgrp());
      signal(SIGTTOU, SIG_DFL);
    }
    execvp(argv[first], argv + first);
    std::fprintf(stderr, "stack-init: exec %s: %s\n", argv[first], std::strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }

  for (;;) {
    siginfo_t info;
    struct timespec tick = {1, 0};  // reap even if a SIGCHLD was coalesced away
    int sig = sigtimedwait(&all, &info, &tick);
    if (sig < 0 && errno != EAGAIN && errno != EINTR) die("sigtimedwait");
    if (sig > 0 && sig != SIGCHLD && sig != SIGTTIN && sig != SIGTTOU) {
      // ESRCH: the child is gone and not reaped yet; the loop below sees it.
      kill(child, sig);
    }
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid == child) {
        // The child's children that are left are killed with the container
        // when pid 1 exits; nothing waits for them here (tini's default).
        return status_code(status);
      }
    }
  }
}
