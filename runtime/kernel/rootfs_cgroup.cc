#include "runtime/kernel/rootfs_cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "base/io.h"
#include "base/fd.h"
#include "runtime/kernel/mountinfo.h"
#include "runtime/kernel/safe_path.h"

namespace stack::rt {
namespace {

constexpr unsigned long kCgroupDefaultFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

struct V1Mount {
  std::string mountpoint;
  std::set<std::string> options;  // super options: "rw", "cpu", "name=systemd" ...
};

std::vector<V1Mount> v1_mounts(const std::string& mountinfo) {
  std::vector<V1Mount> out;
  std::istringstream in(mountinfo);
  for (std::string line; std::getline(in, line);) {
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::vector<std::string> pre = split(line.substr(0, sep), ' ');
    std::vector<std::string> post = split(line.substr(sep + 3), ' ');
    if (pre.size() < 5 || post.size() < 3 || post[0] != "cgroup") continue;
    V1Mount m;
    m.mountpoint = unescape_mountinfo(pre[4]);
    for (auto& o : split(post[2], ',')) m.options.insert(o);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

bool host_cgroup_is_unified() {
  struct statfs s {};
  return ::statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

std::vector<CgroupV1Hierarchy> parse_cgroup_v1_hierarchies(const std::string& proc_self_cgroup,
                                                           const std::string& mountinfo) {
  std::vector<V1Mount> mounts = v1_mounts(mountinfo);
  std::vector<CgroupV1Hierarchy> out;
  std::istringstream in(proc_self_cgroup);
  for (std::string line; std::getline(in, line);) {
    // "4:memory:/path" (the path may itself hold ':').
    size_t a = line.find(':');
    if (a == std::string::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    if (controllers.empty()) continue;  // the cgroup2 entry
    std::vector<std::string> wanted = split(controllers, ',');

    CgroupV1Hierarchy h;
    h.data = controllers;
    for (const V1Mount& m : mounts) {
      bool all = true;
      for (const auto& c : wanted) all = all && m.options.count(c) != 0;
      if (!all) continue;
      size_t slash = m.mountpoint.rfind('/');
      h.dir = m.mountpoint.substr(slash == std::string::npos ? 0 : slash + 1);
      break;
    }
    // A hierarchy the host does not mount is left out, as runc leaves it
    // (it mounts what mountinfo shows): it is some tool's private one,
    // mounted in its own mount namespace and gone when that unmounts it, so
    // mounting it into a container races its removal (EPERM, EINVAL).
    if (h.dir.empty()) continue;
    if (h.dir.empty() || h.dir == "." || h.dir == ".." || h.dir.find('/') != std::string::npos)
      continue;
    bool dup = false;
    for (const auto& o : out) dup = dup || o.dir == h.dir;
    if (dup) continue;
    if (h.dir.find(',') != std::string::npos) {
      for (auto& part : split(h.dir, ','))
        if (!part.empty() && part != h.dir) h.links.push_back(part);
    }
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<CgroupV1Hierarchy>> host_cgroup_v1_hierarchies() {
  std::string cg = io::read_text("/proc/self/cgroup");
  if (cg.empty()) return fail("read /proc/self/cgroup", ENOENT);
  std::string mi = io::read_text("/proc/self/mountinfo");
  if (mi.empty()) return fail("read /proc/self/mountinfo", ENOENT);
  return parse_cgroup_v1_hierarchies(cg, mi);
}

int mount_cgroup_v1(int root_fd, const char* dest, unsigned long flags,
                    const std::vector<CgroupV1Hierarchy>& hierarchies, ChildError* err) noexcept {
  const unsigned long cg_flags = (flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) | kCgroupDefaultFlags;
  int fd = open_in_root(root_fd, dest, CreateMode::kDirectory);
  if (fd < 0) {
    err->set(-fd, "create cgroup mount point ", dest);
    return -fd;
  }
  {
    UniqueFd target(fd);
    // Writable for now: the hierarchy directories go in it.
    if (::mount("tmpfs", fd_path(target.get()).c_str(), "tmpfs", cg_flags & ~MS_RDONLY, "mode=755") != 0) {
      int e = errno;
      err->set(e, "mount tmpfs for cgroups on ", dest);
      return e;
    }
  }
  fd = open_in_root(root_fd, dest, CreateMode::kNone);
  if (fd < 0) {
    err->set(-fd, "reopen ", dest);
    return -fd;
  }
  UniqueFd top(fd);
  for (const CgroupV1Hierarchy& h : hierarchies) {
    if (::mkdirat(top.get(), h.dir.c_str(), 0755) != 0 && errno != EEXIST) {
      int e = errno;
      err->set(e, "mkdir cgroup directory ", dest, "/", h.dir.c_str());
      return e;
    }
    UniqueFd dir(::openat(top.get(), h.dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
      int e = errno;
      err->set(e, "open cgroup directory ", dest, "/", h.dir.c_str());
      return e;
    }
    // In a cgroup namespace this shows the hierarchy from the container's
    // own cgroup down, which is what a bind of the host path would not.
    if (::mount("cgroup", fd_path(dir.get()).c_str(), "cgroup", cg_flags, h.data.c_str()) != 0) {
      int e = errno;
      err->set(e, "mount cgroup ", h.data.c_str(), " on ", dest);
      return e;
    }
    for (const std::string& link : h.links) {
      if (::symlinkat(h.dir.c_str(), top.get(), link.c_str()) != 0 && errno != EEXIST) {
        int e = errno;
        err->set(e, "symlink cgroup controller ", link.c_str(), " in ", dest);
        return e;
      }
    }
  }
  if (flags & MS_RDONLY) {
    if (::mount(nullptr, fd_path(top.get()).c_str(), nullptr,
                MS_BIND | MS_REMOUNT | MS_RDONLY | (cg_flags & ~MS_RDONLY), nullptr) != 0) {
      int e = errno;
      err->set(e, "remount read-only ", dest);
      return e;
    }
  }
  return 0;
}

}  // namespace stack::rt
