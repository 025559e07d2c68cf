#include "runtime/container/default_spec.h"

#include "runtime/kernel/seccomp.h"

namespace stack::rt {

const std::vector<std::string>& docker_default_capabilities() {
  // moby/oci/caps/defaults.go: DefaultCapabilities()
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FSETID",     "CAP_FOWNER",  "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID",          "CAP_SETUID",     "CAP_SETFCAP", "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",   "CAP_AUDIT_WRITE"};
  return caps;
}

const std::vector<std::string>& docker_masked_paths() {
  // moby/oci/defaults.go
  static const std::vector<std::string> paths = {
      "/proc/asound",      "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
      "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug", "/proc/scsi",        "/sys/firmware",    "/sys/devices/virtual/powercap"};
  return paths;
}

const std::vector<std::string>& docker_readonly_paths() {
  static const std::vector<std::string> paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};
  return paths;
}

Spec default_spec() {
  Spec s;
  s.process.args = {"sh"};
  s.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  s.process.cwd = "/";
  const auto& caps = docker_default_capabilities();
  // Docker leaves inheritable and ambient empty: a non-root user gains nothing
  // across exec from file capabilities it did not already hold.
  s.process.capabilities = Capabilities{caps, caps, {}, caps, {}};
  s.process.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  s.process.no_new_privileges = true;
  s.root = {"rootfs", false};
  s.hostname = "stack";
  s.mounts = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  };
  s.linux.namespaces = {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}, {"cgroup", ""}};
  s.linux.masked_paths = docker_masked_paths();
  s.linux.readonly_paths = docker_readonly_paths();
  s.linux.seccomp = default_seccomp_profile(caps);
  return s;
}

}  // namespace stack::rt
