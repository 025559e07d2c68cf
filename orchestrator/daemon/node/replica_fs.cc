#include "orchestrator/daemon/node/replica_fs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/image/overlay.h"
#include "runtime/image/volume_copy.h"
#include "base/fd.h"
#include "base/io.h"
#include "runtime/kernel/safe_path.h"

namespace stack::orch {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxRead = 1 << 20;

bool is_mount_root(const std::string& path) {
  struct statx stx {};
  return ::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
         (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

}  // namespace

bool replica_rootfs_mounted(const std::string& dir) { return is_mount_root(dir + "/rootfs"); }

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

namespace {

stack::Result<void> write_entry(const std::string& path, const compose::ResolvedFile& f) {
  stack::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return stack::fail_errno("create " + path);
  STACK_TRY(io::write_all(fd.get(), f.data, path));
  // Owner before mode: chown clears set-id bits a mode may ask for.
  if (::fchown(fd.get(), f.uid, f.gid) != 0) return stack::fail_errno("chown " + path);
  if (::fchmod(fd.get(), f.mode) != 0) return stack::fail_errno("chmod " + path);
  return {};
}

}  // namespace

stack::Result<std::string> mount_replica_files(const std::string& dir, const std::vector<compose::ResolvedFile>& files) {
  if (files.empty()) return std::string();
  std::string where = dir + "/files";
  if (::mkdir(where.c_str(), 0700) != 0 && errno != EEXIST) return stack::fail_errno("mkdir " + where);
  // Room for every file in whole pages, and one page more for the directory.
  size_t pages = 1;
  for (const auto& f : files) pages += (f.data.size() + 4095) / 4096 + 1;
  std::string opts = "mode=0700,nr_inodes=" + std::to_string(files.size() + 16) + ",size=" + std::to_string(pages * 4096);
  if (::mount("tmpfs", where.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts.c_str()) != 0)
    return stack::fail_errno("mount tmpfs at " + where);
  for (size_t i = 0; i < files.size(); ++i)
    if (auto w = write_entry(where + "/" + std::to_string(i), files[i]); !w) {
      (void)unmount_replica_files(dir);
      return tl::unexpected(w.error().wrap((files[i].secret ? "secret " : "config ") + files[i].name));
    }
  return where;
}

stack::Result<void> unmount_replica_files(const std::string& dir) {
  std::string where = dir + "/files";
  for (int i = 0; i < 8 && is_mount_root(where); i++)
    if (::umount2(where.c_str(), MNT_DETACH) != 0) return stack::fail_errno("unmount " + where);
  if (::rmdir(where.c_str()) != 0 && errno != ENOENT) return stack::fail_errno("rmdir " + where);
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

stack::Result<void> fill_empty_volumes(const std::string& rootfs,
                                       const std::vector<std::pair<std::string, std::string>>& copies) {
  for (const auto& [dir, path] : copies) {
    auto empty = img::dir_is_empty(dir);
    if (!empty) return tl::unexpected(empty.error());
    if (!*empty) continue;
    if (auto copied = img::copy_up(rootfs, path, dir); !copied) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
      return copied;
    }
  }
  return {};
}

stack::Result<void> make_dir_in_rootfs(const std::string& rootfs, const std::string& path) {
  auto fd = rt::open_in_root(rootfs, path, rt::CreateMode::kDirectory);
  if (!fd) return tl::unexpected(fd.error().wrap("create " + path + " in " + rootfs));
  return {};
}

}  // namespace stack::orch
