#include "runtime/kernel/identity.h"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace stack::rt {

IdentityPlan plan_identity(const User& user, bool setgroups_allowed) {
  IdentityPlan p;
  p.uid = user.uid;
  p.gid = user.gid;
  p.groups.assign(user.additional_gids.begin(), user.additional_gids.end());
  p.set_groups = setgroups_allowed;
  p.umask = user.umask ? static_cast<int>(*user.umask) : 022;
  return p;
}

int apply_identity(const IdentityPlan& plan, ChildError* err) noexcept {
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    err->set(errno, "prctl(PR_SET_KEEPCAPS)");
    return err->code;
  }
  // Raw syscalls: glibc's wrappers broadcast to all threads through a signal
  // handshake that is not async-signal-safe after clone.
  if (plan.set_groups &&
      ::syscall(SYS_setgroups, plan.groups.size(), plan.groups.empty() ? nullptr : plan.groups.data()) != 0) {
    err->set(errno, "setgroups");
    return err->code;
  }
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
    err->set(errno, "setresgid");
    return err->code;
  }
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
    err->set(errno, "setresuid");
    return err->code;
  }
  ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (plan.umask >= 0) ::umask(static_cast<mode_t>(plan.umask));
  return 0;
}

}  // namespace stack::rt
