#include "runtime/kernel/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "runtime/kernel/safe_path.h"

namespace stack::rt {
namespace {

// The /dev symlinks every runtime makes; they point into the container's
// own /proc, which exists by the time the process runs.
struct DevLink {
  const char* target;
  const char* name;
};
constexpr DevLink kDevLinks[] = {
    {"/proc/self/fd", "fd"},
    {"/proc/self/fd/0", "stdin"},
    {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"},
};

Device make_default(const char* path, int64_t major, int64_t minor) {
  Device d;
  d.path = path;
  d.type = "c";
  d.major = major;
  d.minor = minor;
  d.file_mode = 0666;
  d.uid = 0;
  d.gid = 0;
  return d;
}

}  // namespace

const std::vector<Device>& default_devices() {
  static const std::vector<Device> devices = {
      make_default("/dev/null", 1, 3),    make_default("/dev/zero", 1, 5),
      make_default("/dev/full", 1, 7),    make_default("/dev/random", 1, 8),
      make_default("/dev/urandom", 1, 9), make_default("/dev/tty", 5, 0),
  };
  return devices;
}

Result<DevicePlan> plan_devices(const std::vector<Device>& spec_devices, bool in_user_ns,
                                bool devpts_mounted) {
  DevicePlan plan;
  plan.bind_from_host = in_user_ns;
  plan.ptmx_symlink = devpts_mounted;

  auto add = [&](const Device& d, const std::string& where) -> Result<> {
    PlannedDevice n;
    n.path = clean_container_path(d.path);
    if (d.path.empty() || n.path == "/" || n.path == "/dev")
      return fail(where + ": path \"" + d.path + "\" is not a device path", EINVAL);
    if (n.path.size() > kMaxInRootPath) return fail(where + ": path too long", ENAMETOOLONG);
    auto [dir, name] = split_container_path(n.path);
    n.dir = dir;
    n.name = name;
    n.host_path = n.path;
    mode_t type = 0;
    if (d.type == "c" || d.type == "u")
      type = S_IFCHR;
    else if (d.type == "b")
      type = S_IFBLK;
    else if (d.type == "p")
      type = S_IFIFO;
    else
      return fail(where + ": type \"" + d.type + "\" is not one of c, u, b, p", EINVAL);
    if (type != S_IFIFO && (d.major < 0 || d.minor < 0))
      return fail(where + ": major and minor must not be negative", EINVAL);
    n.mode = type | (d.file_mode.value_or(0666) & 07777);
    n.rdev = type == S_IFIFO ? 0 : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    n.uid = d.uid.value_or(0);
    n.gid = d.gid.value_or(0);
    // A later entry for the same path replaces an earlier one (spec over defaults).
    for (auto& existing : plan.nodes) {
      if (existing.path == n.path) {
        existing = std::move(n);
        return {};
      }
    }
    plan.nodes.push_back(std::move(n));
    return {};
  };

  for (const Device& d : default_devices()) STACK_TRY(add(d, "default device " + d.path));
  for (size_t i = 0; i < spec_devices.size(); ++i)
    STACK_TRY(add(spec_devices[i], "linux.devices[" + std::to_string(i) + "]"));
  return plan;
}

int create_devices(int root_fd, const DevicePlan& plan, ChildError* err) noexcept {
  // The modes in the plan are exact; the runtime's umask must not trim them.
  mode_t old_umask = ::umask(0);
  int rc = 0;
  for (const PlannedDevice& n : plan.nodes) {
    int dfd = open_in_root(root_fd, n.dir.c_str(), CreateMode::kDirectory);
    if (dfd < 0) {
      err->set(-dfd, "create directory ", n.dir.c_str(), " for device ", n.path.c_str());
      rc = -dfd;
      break;
    }
    UniqueFd dir(dfd);
    bool is_dev = S_ISCHR(n.mode) || S_ISBLK(n.mode);
    if (plan.bind_from_host && is_dev) {
      // mknod of a device needs CAP_MKNOD in the initial user namespace;
      // bind the host's node over an empty file instead (as runc does).
      int tfd = open_in_root(root_fd, n.path.c_str(), CreateMode::kFile);
      if (tfd < 0) {
        err->set(-tfd, "create bind target for device ", n.path.c_str());
        rc = -tfd;
        break;
      }
      UniqueFd target(tfd);
      if (::mount(n.host_path.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND, nullptr) != 0) {
        rc = errno;
        err->set(rc, "bind device ", n.host_path.c_str(), " on ", n.path.c_str());
        break;
      }
      continue;
    }
    if (::mknodat(dir.get(), n.name.c_str(), n.mode, n.rdev) != 0) {
      if (errno == EEXIST) continue;  // the image or a bind mount already has it
      rc = errno;
      err->set(rc, "mknod ", n.path.c_str());
      break;
    }
    if (::fchownat(dir.get(), n.name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      rc = errno;
      err->set(rc, "chown ", n.path.c_str());
      break;
    }
  }
  ::umask(old_umask);
  if (rc != 0) return rc;

  int dev_fd = open_in_root(root_fd, "/dev", CreateMode::kDirectory);
  if (dev_fd < 0) {
    err->set(-dev_fd, "open /dev in the container root");
    return -dev_fd;
  }
  UniqueFd dev(dev_fd);
  for (const DevLink& l : kDevLinks) {
    if (::symlinkat(l.target, dev.get(), l.name) != 0 && errno != EEXIST) {
      int e = errno;
      err->set(e, "symlink /dev/", l.name, " -> ", l.target);
      return e;
    }
  }
  if (plan.ptmx_symlink) {
    // The devpts instance is private (newinstance); /dev/ptmx must lead to
    // its ptmx, not to a node for the host's instance.
    if (::unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT) {
      int e = errno;
      err->set(e, "remove /dev/ptmx");
      return e;
    }
    if (::symlinkat("pts/ptmx", dev.get(), "ptmx") != 0) {
      int e = errno;
      err->set(e, "symlink /dev/ptmx -> pts/ptmx");
      return e;
    }
  }
  return 0;
}

}  // namespace stack::rt
