// The container's first process between clone and execve. Everything it needs
// is decided and allocated in the parent into an InitPlan; the child walks the
// plan with raw syscalls only (the runtime may be embedded in a
// multi-threaded program later, and malloc after clone is not safe there).
//
// Sync protocol over a SOCK_SEQPACKET pair: the parent sends kGo once the
// child is in its cgroup (and uid maps are written); the child answers with
// one InitMessage: kReady (set up, waiting on exec.fifo) or kFailed with the
// ChildError. The parent then applies the cgroup limits (after the child's
// mknods: a device rule list that denies mknod must not stop the runtime's
// own /dev setup, which is runc's order too) and sends kLimitsApplied; only
// then does the child wait on the fifo for `start` and exec. After that the
// parent may exit.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/child_error.h"
#include "runtime/kernel/identity.h"
#include "runtime/kernel/lsm.h"
#include "runtime/kernel/rlimits.h"
#include "runtime/kernel/rootfs.h"
#include "runtime/kernel/seccomp.h"

namespace stack::rt {

struct InitMessage {
  enum Type : int { kReady = 1, kFailed = 2 };
  int type = kFailed;
  int exec_index = -1;  // which exec candidate was found
  ChildError error;
};
constexpr char kGo = 'g';
constexpr char kLimitsApplied = 'l';

struct JoinNamespace {
  int fd = -1;  // owned by the parent's plan holder
  int flag = 0;
};

struct InitPlan {
  // Namespaces joined by setns in the child (user first, mount last).
  std::vector<JoinNamespace> join;
  bool unshare_cgroup = false;   // after the parent has placed us in our cgroup
  bool new_user_ns = false;      // become root in it once the maps are written
  bool loopback_up = false;      // new network namespace: bring `lo` up, as runc does
  RootfsPlanPtr rootfs;          // null: the process joins an existing rootfs (exec)
  std::string hostname;          // empty: leave as is
  std::string domainname;
  RlimitPlan rlimits;
  CapPlan caps;
  IdentityPlan identity;
  SeccompProgram seccomp;        // empty: none
  bool no_new_privileges = false;
  // AppArmor/SELinux labels for execve (lsm_plan.h), written while still
  // root, before capabilities and the user change.
  std::vector<ExecLabel> exec_labels;
  int console_socket = -1;       // >= 0: set up a pty and send its master here
  unsigned console_rows = 0, console_cols = 0;
  int preserve_fds = 0;          // fds 3 .. 3+n-1 survive exec
  int stdio[3] = {-1, -1, -1};   // >= 3: becomes fd 0/1/2 first thing in the child
  std::string cwd;
  int fifo_fd = -1;              // O_PATH exec.fifo; -1: exec without waiting for start
  std::vector<std::string> exec_candidates;  // absolute paths to try, PATH order
  std::vector<std::string> args, env;
  // Built by finalize() from args/env/exec_candidates; what execve gets.
  std::vector<char*> argv, envp;
  void finalize();
};

// Child entry. Never returns: execs the user process or _exits after
// reporting the failure on sync_fd.
[[noreturn]] void run_init(const InitPlan& plan, int sync_fd) noexcept;

// The candidates for execve: args[0] itself when it has a '/', else each
// directory of PATH (from env, else the default PATH) joined with it.
std::vector<std::string> exec_candidates(const std::string& arg0, const std::vector<std::string>& env);

}  // namespace stack::rt
