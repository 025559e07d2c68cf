#include "orchestrator/daemon/node/replica_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/image/overlay.h"
#include "base/fd.h"
#include "runtime/kernel/safe_path.h"

namespace stack::orch {

namespace {
constexpr size_t kMaxRead = 1 << 20;
}

bool replica_rootfs_mounted(const std::string& dir) {
  std::string rootfs = dir + "/rootfs";
  struct statx stx {};
  return ::statx(AT_FDCWD, rootfs.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
         (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

stack::Result<std::string> mount_replica_rootfs(const std::vector<std::string>& lowers, const std::string& dir) {
  auto layer = img::create_container_layer(dir);
  if (!layer) return tl::unexpected(layer.error());
  auto m = img::mount_overlay(lowers, layer->upper, layer->work, layer->rootfs);
  if (!m) {
    std::error_code ec;
    for (auto* d : {&layer->upper, &layer->work, &layer->rootfs}) std::filesystem::remove_all(*d, ec);
    return tl::unexpected(m.error().wrap("mount rootfs of " + dir));
  }
  return layer->rootfs;
}

stack::Result<void> unmount_replica_rootfs(const std::string& dir) {
  // Stacked mounts (a failed earlier attempt) are peeled one by one.
  for (int i = 0; i < 8 && replica_rootfs_mounted(dir); i++) STACK_TRY(img::unmount_overlay(dir + "/rootfs"));
  return {};
}

stack::Result<std::string> read_in_rootfs(const std::string& rootfs, const std::string& path) {
  auto fd = rt::open_in_root(rootfs, path, rt::CreateMode::kNone);
  if (!fd) {
    if (fd.error().code == ENOENT) return std::string();
    return tl::unexpected(fd.error().wrap("open " + path + " in " + rootfs));
  }
  // Re-open the resolved O_PATH fd for reading, never following anything.
  stack::UniqueFd f(::open(rt::fd_path(fd->get()).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!f) return stack::fail_errno("read " + path + " in " + rootfs);
  struct stat st {};
  if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::string();
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return stack::fail_errno("read " + path + " in " + rootfs);
    if (n == 0 || out.size() >= kMaxRead) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

stack::Result<void> make_dir_in_rootfs(const std::string& rootfs, const std::string& path) {
  auto fd = rt::open_in_root(rootfs, path, rt::CreateMode::kDirectory);
  if (!fd) return tl::unexpected(fd.error().wrap("create " + path + " in " + rootfs));
  return {};
}

}  // namespace stack::orch
