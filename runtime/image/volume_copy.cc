#include "runtime/image/volume_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/fd.h"
#include "base/io.h"
#include "runtime/kernel/safe_path.h"

namespace stack::img {
namespace {

// Deeper trees are refused rather than recursed into (each level holds two fds).
constexpr int kMaxDepth = 128;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Owner, mode and times of `st` onto the fd (a file or directory we made).
stack::Result<void> set_meta(int fd, const struct stat& st, const std::string& what) {
  if (::fchown(fd, st.st_uid, st.st_gid) != 0) return stack::fail_errno("chown " + what);
  if (::fchmod(fd, st.st_mode & 07777) != 0) return stack::fail_errno("chmod " + what);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(fd, times) != 0) return stack::fail_errno("set times of " + what);
  return {};
}

stack::Result<void> copy_file(int src_dir, int dst_dir, const char* name, const struct stat& st,
                              const std::string& what) {
  UniqueFd in(::openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!in) return stack::fail_errno("open " + what);
  UniqueFd out(::openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return stack::fail_errno("create " + what);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return stack::fail_errno("read " + what);
    if (n == 0) break;
    STACK_TRY(io::write_all(out.get(), std::string_view(buf, static_cast<size_t>(n)), what));
  }
  return set_meta(out.get(), st, what);
}

stack::Result<void> copy_symlink(int src_dir, int dst_dir, const char* name, const struct stat& st,
                                 const std::string& what) {
  std::vector<char> target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 2);
  ssize_t n = ::readlinkat(src_dir, name, target.data(), target.size() - 1);
  if (n < 0) return stack::fail_errno("readlink " + what);
  target[static_cast<size_t>(n)] = '\0';
  if (::symlinkat(target.data(), dst_dir, name) != 0) return stack::fail_errno("symlink " + what);
  if (::fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
    return stack::fail_errno("chown " + what);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) != 0) return stack::fail_errno("set times of " + what);
  return {};
}

// Copies the entries of src_dir into dst_dir (both directory fds we own).
stack::Result<void> copy_entries(int src_dir, int dst_dir, const std::string& where, int depth) {
  if (depth > kMaxDepth) return stack::fail("copy " + where + ": deeper than " + std::to_string(kMaxDepth), ELOOP);
  int listing = ::dup(src_dir);
  if (listing < 0) return stack::fail_errno("dup for " + where);
  DirPtr dir(::fdopendir(listing));
  if (!dir) {
    ::close(listing);
    return stack::fail_errno("list " + where);
  }
  ::rewinddir(dir.get());
  while (struct dirent* e = ::readdir(dir.get())) {
    const char* name = e->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    const std::string what = where + "/" + name;
    struct stat st {};
    if (::fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return stack::fail_errno("stat " + what);
    if (S_ISREG(st.st_mode)) {
      STACK_TRY(copy_file(src_dir, dst_dir, name, st, what));
    } else if (S_ISLNK(st.st_mode)) {
      STACK_TRY(copy_symlink(src_dir, dst_dir, name, st, what));
    } else if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dst_dir, name, 0700) != 0) return stack::fail_errno("mkdir " + what);
      UniqueFd from(::openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from) return stack::fail_errno("open " + what);
      UniqueFd to(::openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!to) return stack::fail_errno("open the copy of " + what);
      STACK_TRY(copy_entries(from.get(), to.get(), what, depth + 1));
      STACK_TRY(set_meta(to.get(), st, what));  // after its entries: their creation moved its times
    }
    // Device nodes, fifos and sockets: not copied (a volume holds data).
  }
  return {};
}

}  // namespace

stack::Result<bool> dir_is_empty(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return true;
    return stack::fail_errno("open " + dir);
  }
  DirPtr d(::fdopendir(fd.release()));
  if (!d) return stack::fail_errno("list " + dir);
  while (struct dirent* e = ::readdir(d.get())) {
    const char* n = e->d_name;
    if (!(n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))) return false;
  }
  return true;
}

stack::Result<void> copy_up(const std::string& rootfs, const std::string& path, const std::string& dest) {
  const std::string what = path + " of the image into " + dest;
  auto resolved = rt::open_in_root(rootfs, path, rt::CreateMode::kNone);
  if (!resolved) {
    if (resolved.error().code == ENOENT || resolved.error().code == ENOTDIR) return {};
    return tl::unexpected(resolved.error().wrap("copy " + what));
  }
  // Re-open the resolved O_PATH fd as a directory; anything else copies nothing.
  UniqueFd src(::open(rt::fd_path(resolved->get()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!src) {
    if (errno == ENOTDIR) return {};
    return stack::fail_errno("open " + path + " in " + rootfs);
  }
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) return stack::fail_errno("stat " + path + " in " + rootfs);
  UniqueFd dst(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst) return stack::fail_errno("open " + dest);
  STACK_TRY_CTX(copy_entries(src.get(), dst.get(), path, 0), "copy " + what);
  return set_meta(dst.get(), st, dest);
}

}  // namespace stack::img
