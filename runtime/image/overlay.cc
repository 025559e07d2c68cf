// Overlay mounts for container root filesystems; see overlay.h.
#include "runtime/image/overlay.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "base/fd.h"

namespace stack::img {
namespace {

using stack::UniqueFd;

// overlayfs splits the classic option string on ',' and lowerdir on ':';
// both are escaped with a backslash (as is the backslash itself).
std::string escape_option(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ',' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Result<> attach(int fs_fd, unsigned attrs, const std::string& target, const std::string& what) {
  if (::fsconfig(fs_fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return stack::fail_errno("create " + what + " for " + target);
  UniqueFd mnt(::fsmount(fs_fd, FSMOUNT_CLOEXEC, attrs));
  if (!mnt) return stack::fail_errno("fsmount " + what + " for " + target);
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return stack::fail_errno("move " + what + " onto " + target);
  return {};
}

Result<> mount_classic(const std::vector<std::string>& lowers, const std::string& upper,
                       const std::string& work, const std::string& target, unsigned long flags) {
  std::string opts = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) {
    if (i) opts += ':';
    opts += escape_option(lowers[i]);
  }
  if (!upper.empty()) opts += ",upperdir=" + escape_option(upper) + ",workdir=" + escape_option(work);
  if (::mount("overlay", target.c_str(), "overlay", flags, opts.c_str()) != 0)
    return stack::fail_errno("mount overlay (" + std::to_string(lowers.size()) + " layers) on " + target);
  return {};
}

Result<> mount_impl(const std::vector<std::string>& lowers, const std::string& upper,
                    const std::string& work, const std::string& target, bool readonly) {
  if (lowers.empty()) return stack::fail("mount overlay on " + target + ": no lower layers", EINVAL);
  UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return stack::fail_errno("fsopen overlay for " + target);
  bool plus = true;
  for (const auto& l : lowers) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", l.c_str(), 0) != 0) {
      if (errno == EINVAL && &l == &lowers.front()) {  // kernel < 6.8: no "lowerdir+"
        plus = false;
        break;
      }
      return stack::fail_errno("overlay lowerdir+ " + l);
    }
  }
  if (!plus)
    return mount_classic(lowers, upper, work, target, readonly ? MS_RDONLY : 0);
  if (!upper.empty()) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) != 0)
      return stack::fail_errno("overlay upperdir " + upper);
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) != 0)
      return stack::fail_errno("overlay workdir " + work);
  }
  return attach(fs.get(), readonly ? MOUNT_ATTR_RDONLY : 0, target,
                "overlay (" + std::to_string(lowers.size()) + " layers)");
}

}  // namespace

Result<> mount_overlay(const std::vector<std::string>& lowers_top_first, const std::string& upper,
                       const std::string& work, const std::string& target) {
  if (upper.empty() || work.empty())
    return stack::fail("mount overlay on " + target + ": upper and work are required", EINVAL);
  return mount_impl(lowers_top_first, upper, work, target, false);
}

Result<> mount_overlay_readonly(const std::vector<std::string>& lowers_top_first,
                                const std::string& target) {
  if (lowers_top_first.size() != 1) return mount_impl(lowers_top_first, "", "", target, true);
  const std::string& src = lowers_top_first.front();
  UniqueFd tree(::open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return stack::fail_errno("clone " + src + " for " + target);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return stack::fail_errno("make bind of " + src + " read-only");
  if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return stack::fail_errno("bind " + src + " onto " + target);
  return {};
}

Result<> unmount_overlay(const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0)
    return stack::fail_errno("unmount " + target);
  return {};
}

Result<ContainerLayer> create_container_layer(const std::string& dir) {
  ContainerLayer l{dir, dir + "/upper", dir + "/work", dir + "/rootfs"};
  if (::mkdir(dir.c_str(), 0711) != 0 && errno != EEXIST)
    return stack::fail_errno("create container layer " + dir);
  if (::mkdir(l.upper.c_str(), 0755) != 0) return stack::fail_errno("create " + l.upper);
  if (::mkdir(l.work.c_str(), 0700) != 0) return stack::fail_errno("create " + l.work);
  if (::mkdir(l.rootfs.c_str(), 0755) != 0) return stack::fail_errno("create " + l.rootfs);
  return l;
}

Result<> remove_container_layer(const std::string& dir) {
  std::string rootfs = dir + "/rootfs";
  struct statx stx {};
  if (::statx(AT_FDCWD, rootfs.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
      (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return stack::fail("remove container layer " + dir + ": " + rootfs + " is still mounted", EBUSY);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // never follows symlinks
  if (ec) return stack::fail("remove container layer " + dir + ": " + ec.message(), ec.value());
  return {};
}

}  // namespace stack::img
