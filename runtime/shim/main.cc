// stack-shim: the per-container monitor (conmon's role). stackd starts one
// per container (fork+exec) and never clones containers itself; the shim
// creates and starts the container through the runtime core, stays its
// parent, logs its output, records how it ended, and outlives both its
// caller and a restarting daemon. See monitor.h for the lifecycle and
// startup.h for --detach.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "base/fd.h"
#include "runtime/kernel/protected_exe.h"
#include "runtime/shim/monitor.h"
#include "runtime/shim/options.h"
#include "runtime/shim/startup.h"

namespace {

void say(const std::string& s) { (void)!::write(2, s.data(), s.size()); }

// Whoever started us (a daemon, a test harness) may have left us a blocked
// signal mask, ignored signals or stray fds. The container's init is cloned
// from this process and would inherit the first two across execve, so the
// shim starts from a clean slate.
void reset_process_state() {
  // 0-2 must be open before any pipe is made: a pipe landing on fd 1 would
  // be clobbered when the container's stdio is put there.
  for (int fd = ::open("/dev/null", O_RDWR); fd >= 0 && fd <= 2; fd = ::open("/dev/null", O_RDWR)) {
  }
  stack::close_fds_from(3);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    ::signal(s, SIG_DFL);  // fails harmlessly for the ones glibc reserves
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace stack::shim;
  // The container's init is cloned from us: we must not run from the host's
  // binary file (CVE-2019-5736, see protected_exe.h). Free when stackd started
  // us through its protected path.
  if (auto exe = stack::rt::reexec_protected(argv); !exe) {
    say("stack-shim: " + exe.error().message() + "\n");
    return kShimFailed;
  }
  reset_process_state();
  auto opts = parse_shim_args(argc, argv);
  if (!opts) {
    say("stack-shim: " + opts.error().message() + "\n" + shim_usage());
    return kShimFailed;
  }
  if (opts->help) {
    std::string u = shim_usage();
    (void)!::write(1, u.data(), u.size());
    return 0;
  }

  StartupReport report;
  if (opts->detach) {
    auto r = detach_from_caller();  // returns in the grandchild only
    if (!r) {
      say("stack-shim: detach: " + r.error().message() + "\n");
      return kShimFailed;
    }
    report = std::move(*r);
  } else {
    // Out of the caller's session and process group: a terminal hangup or a
    // ^C meant for the caller's job does not reach us. It fails (EPERM) only
    // when a shell started us as a job's leader; the terminal's signals then
    // still reach us: SIGHUP is ignored, SIGINT stops the container, which
    // is what ^C on a foreground shim should do.
    (void)::setsid();
  }
  // Processes the container orphans (no pid namespace, double-forked
  // daemons) are re-parented to us rather than to init, and reaped here.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    report.failed(std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno));
    return kShimFailed;
  }
  return run_monitor(*opts, report);
}
