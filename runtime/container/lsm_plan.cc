#include "runtime/container/lsm_plan.h"

namespace stack::rt {

Result<std::vector<ExecLabel>> plan_exec_labels(const Process& process) {
  std::vector<ExecLabel> out;
  // The host is probed only when a label is asked for: a few stat(2)s off
  // the start path of every other container.
  if (!process.apparmor_profile.empty()) {
    if (!apparmor_enabled())
      return fail("process.apparmorProfile: apparmor profile \"" + process.apparmor_profile +
                      "\" specified but AppArmor is disabled on the host",
                  EOPNOTSUPP);
    out.push_back({apparmor_exec_attr(), "exec " + process.apparmor_profile, "process.apparmorProfile"});
  }
  if (!process.selinux_label.empty()) {
    if (!selinux_enabled())
      return fail("process.selinuxLabel: SELinux label \"" + process.selinux_label +
                      "\" specified but SELinux is disabled on the host",
                  EOPNOTSUPP);
    out.push_back({"/proc/self/attr/exec", process.selinux_label, "process.selinuxLabel"});
  }
  return out;
}

Result<std::string> plan_mount_label(const Spec& spec) {
  if (spec.linux.mount_label.empty()) return std::string();
  if (!selinux_enabled())
    return fail("linux.mountLabel: SELinux mount label \"" + spec.linux.mount_label +
                    "\" specified but SELinux is disabled on the host",
                EOPNOTSUPP);
  return spec.linux.mount_label;
}

}  // namespace stack::rt
