#include "runtime/kernel/lsm.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/fd.h"

namespace stack::rt {

namespace {

bool exists(const char* path) { return ::access(path, F_OK) == 0; }

}  // namespace

bool apparmor_enabled() {
  if (!exists("/sys/kernel/security/apparmor")) return false;
  UniqueFd fd(::open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char c = 0;
  return ::read(fd.get(), &c, 1) == 1 && c == 'Y';
}

bool selinux_enabled() { return exists("/sys/fs/selinux/enforce"); }

std::string apparmor_exec_attr() {
  // The per-LSM directory exists from 5.8 on; writing the shared file there
  // would go to whichever LSM is listed first.
  if (exists("/proc/self/attr/apparmor/exec")) return "/proc/self/attr/apparmor/exec";
  return "/proc/self/attr/exec";
}

int write_exec_labels(const std::vector<ExecLabel>& labels, ChildError* err) noexcept {
  for (const auto& l : labels) {
    int fd = ::open(l.attr.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      err->set(errno, l.field.c_str(), ": open ", l.attr.c_str());
      return err->code;
    }
    // The LSM parses one write as one request.
    ssize_t n;
    do n = ::write(fd, l.value.data(), l.value.size());
    while (n < 0 && errno == EINTR);
    int e = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(l.value.size())) {
      err->set(n < 0 ? e : EIO, l.field.c_str(), ": write ", l.attr.c_str());
      return err->code;
    }
  }
  return 0;
}

std::string mount_data_with_label(const std::string& data, const std::string& label) {
  if (label.empty()) return data;
  const std::string opt = "context=\"" + label + "\"";
  return data.empty() ? opt : data + "," + opt;
}

}  // namespace stack::rt
