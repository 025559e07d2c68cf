#include "runtime/kernel/clone.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace stack::rt {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

pid_t clone_process(uint64_t flags) noexcept {
  struct clone_args args{};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0 || errno != ENOSYS) return static_cast<pid_t>(pid);
  if (flags & CLONE_NEWTIME) return -1;  // ENOSYS: this kernel cannot
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

}  // namespace stack::rt
