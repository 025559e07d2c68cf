// Shared by the privileged cgroup tests (cgroup_test.cc: the manager for
// this host's layout; cgroup_v2_test.cc: the v2 backend on a cgroup2 mount):
// a forked child the test controls, the clean-up safety net, and the
// behaviours both suites check against whatever manager they hold.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kernel/cgroup.h"
#include "base/fd.h"

namespace stack::rt::cgtest {

// File contents without trailing newlines; "" when unreadable.
std::string slurp(const std::string& path);
std::vector<std::string> words(const std::string& text);
bool has_line(const std::string& text, const std::string& line);
// "4:memory:/x" for the suffix ":memory:/x" (hierarchy ids differ per host).
bool has_line_ending(const std::string& text, const std::string& suffix);
bool dir_exists(const std::string& path);
// "/stack-test-<pid>-<n>": a top-level cgroup no other test shares.
std::string unique_root();
// user + system CPU ticks of a process, from /proc/<pid>/stat.
long cpu_ticks(pid_t pid);

// A forked child that blocks until release(), so the test can put it into a
// cgroup before it does anything; then runs `body` and exits with its
// result. `report` is a pipe the body may write to. SIGKILLed and reaped on
// destruction; it also dies with the test process (PDEATHSIG).
class Child {
 public:
  explicit Child(const std::function<int(int report_fd)>& body) {
    int go[2], rep[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(rep, O_CLOEXEC) != 0) return;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(111);
      ::close(go[1]);
      ::close(rep[0]);
      char c;
      ssize_t n;
      do n = ::read(go[0], &c, 1);
      while (n < 0 && errno == EINTR);
      if (n != 1) _exit(111);  // the test went away without releasing us
      _exit(body(rep[1]));
    }
    ::close(go[0]);
    ::close(rep[1]);
    go_.reset(go[1]);
    report_.reset(rep[0]);
  }
  ~Child() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    // Bounded: a child left frozen by a failed test cannot die until
    // TearDown thaws its cgroup (and reaps it, see reap_children).
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  pid_t pid() const { return pid_; }
  void release() {
    ssize_t n = ::write(go_.get(), "g", 1);
    (void)n;
    go_.reset();
  }
  // Reads what the body wrote, up to EOF or `max` bytes.
  std::string read_report(size_t max) {
    std::string out;
    char buf[256];
    while (out.size() < max) {
      ssize_t n = ::read(report_.get(), buf, std::min(sizeof buf, max - out.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Raw wait status.
  int wait() {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    return st;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd go_, report_;
};


// Kills whatever is left below `root` in every mounted hierarchy (thawing
// first), removes it and reaps our children: the safety net behind
// destroy(), which is itself under test. Called from every TearDown.
void scrub(const std::string& root);

// The directory of the hierarchy that carries `controller` (v1), or the
// unified one when `controller` is "" or the layout is v2.
std::string dir_for(const CgroupManager& m, const std::string& controller);

// Behaviours shared by both suites, run against any manager (each calls
// create() itself; the fixture's TearDown cleans up).
//
// A child in a cgroup with pids.max=5 forks until the kernel refuses: it and
// four children fit, the fifth fork fails with EAGAIN.
void expect_pids_limit_enforced(CgroupManager& m);
// A child that touches 64 MiB in a 16 MiB cgroup is OOM-killed and counted.
void expect_oom_kill(CgroupManager& m);
// A busy child stops using CPU while frozen and resumes after thaw; the
// kernel's own state file (`state_file`, judged by `is_frozen`) agrees.
void expect_freeze_thaw(CgroupManager& m, const std::string& state_file,
                        const std::function<bool(const std::string&)>& is_frozen);
// destroy() kills live processes (also frozen ones, also in a sub-cgroup
// the container made), removes every directory, and is idempotent.
void expect_destroy_cleans_up(CgroupManager& m, bool freeze_first);

}  // namespace stack::rt::cgtest
