// Child processes of the daemon (stack-shim, stack-runtime exec): spawned
// with posix_spawn (safe in a multi-threaded daemon: no code runs between
// fork and exec), with a clean signal mask and dispositions, stdio mapped to
// the fds given (/dev/null for -1) and a pidfd for waiting with a timeout.
// Every other fd of the daemon is O_CLOEXEC and stays behind.
//
// Ownership: a ChildProcess owns its pid until reaped; destroying one that
// still runs kills it (SIGKILL) and reaps it, so no zombie is left.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fd.h"

namespace stack::orch {

class ChildProcess {
 public:
  // From now on, a spawn whose argv[0] is `path` executes a protected path
  // to that binary (runtime/kernel/protected_exe.h, made here once and kept
  // for the life of the process): argv[0] stays as given, so ps and the
  // shim lookup by command line still see the real name, and no call site
  // can forget the protection. stackd protects stack-shim and stack-runtime.
  static stack::Result<> protect(const std::string& path);

  // stdio: fds to become the child's 0, 1, 2; -1 = /dev/null.
  static stack::Result<ChildProcess> spawn(const std::vector<std::string>& argv, int in = -1, int out = -1,
                                        int err = -1);
  ChildProcess() = default;
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }  // readable once the child exited
  bool running() const { return pid_ > 0 && !status_; }
  // Exit status (code, or 128+signal); nullopt when still running after
  // `timeout_ms` (-1 = wait for ever).
  std::optional<int> wait_for(int timeout_ms);
  int wait() { return *wait_for(-1); }
  void kill(int sig);

 private:
  pid_t pid_ = 0;
  stack::UniqueFd pidfd_;
  std::optional<int> status_;
};

struct CapturedRun {
  int status = -1;         // exit status; -1 when it timed out (killed)
  bool timed_out = false;
  std::string output;      // stdout and stderr interleaved, at most `limit` bytes
};

// Runs argv with stdout+stderr on one pipe, up to `timeout_ms` (-1: none),
// keeping the first `limit` bytes of output. On timeout `on_timeout` runs
// (to end what the child started elsewhere), then the child is killed.
stack::Result<CapturedRun> run_captured(const std::vector<std::string>& argv, int timeout_ms, size_t limit,
                                     const std::function<void()>& on_timeout = {});

int64_t monotonic_ms();

}  // namespace stack::orch
