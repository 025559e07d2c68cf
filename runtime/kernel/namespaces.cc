#include "runtime/kernel/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/nsfs.h>

namespace stack::rt {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const std::vector<NamespaceKind>& namespace_kinds() {
  static const std::vector<NamespaceKind> kinds = {
      {"user", "user", CLONE_NEWUSER},     {"ipc", "ipc", CLONE_NEWIPC},
      {"uts", "uts", CLONE_NEWUTS},        {"network", "net", CLONE_NEWNET},
      {"pid", "pid", CLONE_NEWPID},        {"cgroup", "cgroup", CLONE_NEWCGROUP},
      {"time", "time", CLONE_NEWTIME},     {"mount", "mnt", CLONE_NEWNS},
  };
  return kinds;
}

const NamespaceKind* namespace_kind(const std::string& oci_name) {
  for (auto& k : namespace_kinds())
    if (oci_name == k.oci) return &k;
  return nullptr;
}

Result<UniqueFd> open_namespace(const std::string& path, const NamespaceKind& kind) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(std::string("open ") + kind.oci + " namespace " + path);
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) return fail_errno(path + " is not a namespace file");
  if (type != kind.clone_flag) return fail(path + " is not a " + kind.oci + " namespace", EINVAL);
  return fd;
}

bool kernel_has_namespace(const NamespaceKind& kind) {
  return ::access((std::string("/proc/self/ns/") + kind.proc).c_str(), F_OK) == 0;
}

}  // namespace stack::rt
