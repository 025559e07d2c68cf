#include "runtime/kernel/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace stack::rt {
namespace {

// One openat2 from the root. The kernel answers EAGAIN when a rename or
// mount raced with a RESOLVE_IN_ROOT walk; retrying is what it asks for.
int resolve(int root_fd, const char* path, unsigned long long extra = 0) noexcept {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra;
  for (int tries = 0; tries < 32; ++tries) {
    long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN && errno != EINTR) return -errno;
  }
  return -EAGAIN;
}

}  // namespace

int open_in_root(int root_fd, const char* path, CreateMode create) noexcept {
  if (path == nullptr) return -EINVAL;
  const char* whole = *path ? path : "/";
  int fd = resolve(root_fd, whole);
  if (fd >= 0 || fd != -ENOENT || create == CreateMode::kNone) return fd;

  // Walk the prefixes from the root. Each prefix is resolved from the root
  // again (not from the previous component's fd), so a symlink met halfway
  // is read with the root's meaning of "/" and "..".
  char buf[kMaxInRootPath + 1];
  size_t len = std::strlen(path);
  if (len > kMaxInRootPath) return -ENAMETOOLONG;
  std::memcpy(buf, path, len + 1);

  int parent = -1;  // fd of the resolved prefix; -1 means the root itself
  size_t i = 0;
  for (;;) {
    while (buf[i] == '/') ++i;
    if (buf[i] == '\0') break;
    size_t start = i;
    while (buf[i] != '\0' && buf[i] != '/') ++i;
    size_t after = i;
    while (buf[after] == '/') ++after;
    bool last = buf[after] == '\0';

    char saved = buf[i];
    buf[i] = '\0';
    int cur = resolve(root_fd, buf);
    if (cur == -ENOENT) {
      int dir = parent >= 0 ? parent : root_fd;
      const char* name = buf + start;
      int r = (last && create == CreateMode::kFile) ? ::mknodat(dir, name, S_IFREG | 0644, 0)
                                                    : ::mkdirat(dir, name, 0755);
      if (r != 0 && errno != EEXIST) {
        int e = errno;
        if (parent >= 0) ::close(parent);
        return -e;
      }
      cur = resolve(root_fd, buf);
      // Still missing after "exists": a dangling symlink. We do not create
      // its target; say so with EEXIST rather than a puzzling ENOENT.
      if (cur == -ENOENT) cur = -EEXIST;
    }
    if (parent >= 0) ::close(parent);
    if (cur < 0) return cur;
    parent = cur;
    buf[i] = saved;
  }
  return parent >= 0 ? parent : resolve(root_fd, "/");
}

int open_in_root_no_symlinks(int root_fd, const char* path) noexcept {
  if (path == nullptr) return -EINVAL;
  return resolve(root_fd, *path ? path : "/", RESOLVE_NO_SYMLINKS);
}

FdPath fd_path(int fd) noexcept {
  FdPath p;
  static constexpr char kPrefix[] = "/proc/self/fd/";
  size_t n = sizeof kPrefix - 1;
  std::memcpy(p.buf, kPrefix, n);
  char digits[12];
  size_t d = 0;
  unsigned v = fd < 0 ? 0u : static_cast<unsigned>(fd);
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && d < sizeof digits);
  while (d > 0) p.buf[n++] = digits[--d];
  p.buf[n] = '\0';
  return p;
}

Result<UniqueFd> open_in_root(const std::string& root, const std::string& path, CreateMode create) {
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return fail_errno("open root " + root);
  if (path.size() > kMaxInRootPath) return fail("resolve " + path + " in " + root, ENAMETOOLONG);
  int fd = open_in_root(root_fd.get(), path.c_str(), create);
  if (fd < 0) return fail("resolve " + path + " in " + root, -fd);
  return UniqueFd(fd);
}

std::string clean_container_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::pair<std::string, std::string> split_container_path(const std::string& clean_path) {
  size_t slash = clean_path.rfind('/');
  if (slash == std::string::npos) return {"/", clean_path};
  std::string dir = slash == 0 ? "/" : clean_path.substr(0, slash);
  return {dir, clean_path.substr(slash + 1)};
}

}  // namespace stack::rt
