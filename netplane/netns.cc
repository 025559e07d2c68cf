#include "netplane/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <thread>

#include "netplane/netlink.h"

namespace stack::net {
namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Makes `dir` a mount point of its own with private propagation, the way
// `ip netns` prepares /run/netns: without it, a netns bind mount made in a
// shared parent (systemd makes / shared) would be copied into every peer
// mount namespace, and those copies would keep the namespace alive after
// delete_netns(). MS_PRIVATE on a non-mount-point is EINVAL; then the dir is
// bind-mounted on itself first. Repeating this is harmless.
stack::Result<void> make_private_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return stack::fail("create directory " + dir + ": " + ec.message(), ec.value());
  if (::mount("", dir.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) return {};
  if (errno != EINVAL) return stack::fail_errno("make " + dir + " a private mount");
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return stack::fail_errno("bind-mount " + dir + " on itself");
  if (::mount("", dir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
    return stack::fail_errno("make " + dir + " a private mount");
  return {};
}

// Whether fd refers to a network namespace (nsfs, type CLONE_NEWNET).
bool is_netns_fd(int fd) { return ::ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET; }

}  // namespace

stack::Result<void> create_netns(const std::string& path) {
  const std::string what = "create network namespace " + path;
  if (path.empty() || path[0] != '/') return stack::fail(what + ": path must be absolute", EINVAL);
  if (netns_exists(path)) return stack::fail(what + ": a namespace is already mounted there", EEXIST);
  STACK_TRY_CTX(make_private_dir(parent_of(path)), what);

  // The mount target: an empty file. One left by a crash (not mounted) is reused.
  bool made_file = false;
  {
    stack::UniqueFd f(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (f) {
      made_file = true;
    } else if (errno != EEXIST) {
      return stack::fail_errno(what + ": create mount point");
    }
  }
  auto drop_file = [&] {
    if (made_file) ::unlink(path.c_str());
  };

  // unshare() changes only the calling thread's netns, so a throwaway thread
  // makes the namespace and pins it with the bind mount before it exits;
  // the caller's threads never leave their namespace.
  stack::Result<void> made = stack::fail(what + ": helper thread did not run");
  std::thread helper([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      made = stack::fail_errno(what + ": unshare(CLONE_NEWNET)");
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      made = stack::fail_errno(what + ": bind-mount the namespace");
      return;
    }
    made = {};
  });
  helper.join();
  if (!made) {
    drop_file();
    return made;
  }

  // lo up, through a socket opened inside the new namespace.
  auto fail_after_mount = [&](const stack::Error& e) {
    ::umount2(path.c_str(), MNT_DETACH);
    drop_file();
    return tl::unexpected(e.wrap(what));
  };
  auto fd = open_netns(path);
  if (!fd) return fail_after_mount(fd.error());
  auto sock = NetlinkSocket::open_in_netns(fd->get(), path);
  if (!sock) return fail_after_mount(sock.error());
  if (auto r = set_link_up(*sock, "lo"); !r) return fail_after_mount(r.error());
  return {};
}

stack::Result<void> delete_netns(const std::string& path) {
  const std::string what = "delete network namespace " + path;
  // Every mount stacked on the path goes (a repeated create may have made
  // more than one); EINVAL means nothing (more) is mounted there.
  while (::umount2(path.c_str(), MNT_DETACH) == 0) {
  }
  if (errno != EINVAL && errno != ENOENT) return stack::fail_errno(what + ": unmount");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return stack::fail_errno(what + ": unlink");
  return {};
}

bool netns_exists(const std::string& path) {
  stack::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd && is_netns_fd(fd.get());
}

stack::Result<stack::UniqueFd> open_netns(const std::string& path) {
  stack::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return stack::fail_errno("open network namespace " + path);
  if (!is_netns_fd(fd.get()))
    return stack::fail("open network namespace " + path + ": not a mounted network namespace", EINVAL);
  return fd;
}

}  // namespace stack::net
