// Paths inside a container root, resolved so they can never leave it. Every
// lookup goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) on a
// directory fd of the root: an absolute symlink in the image (/etc -> /) is
// read relative to the root, ".." stops at the root, and /proc magic links
// are refused. Missing components are created one at a time (mkdirat /
// mknodat on the fd of the already-resolved parent) and then resolved again
// from the root, so what we create is always inside the root too.
//
// The fd-level functions are async-signal-safe (raw syscalls, fixed stack
// buffers, no allocation): the container child calls them after clone. Their
// callers own the returned fds.
#pragma once

#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack::rt {

enum class CreateMode {
  kNone,       // the path must exist
  kDirectory,  // create missing parents and the last component as 0755 dirs
  kFile,       // create missing parents as dirs, the last component as an empty 0644 file
};

// Longest path the child-side functions accept (bytes, without the NUL).
inline constexpr size_t kMaxInRootPath = 4095;

// Opens `path` (interpreted relative to the root whether or not it starts
// with '/') as O_PATH|O_CLOEXEC, creating what `create` asks for. Returns the
// new fd or -errno. A component that exists but is the wrong kind is not
// replaced: mkdirat's EEXIST / ENOTDIR come back as they are (a dangling
// symlink on the way gives EEXIST, a file where a directory is needed
// ENOTDIR). Async-signal-safe.
int open_in_root(int root_fd, const char* path, CreateMode create) noexcept;

// As open_in_root(root_fd, path, kNone), but a symlink anywhere on the way
// (even one that stays inside the root) is an error, ELOOP. For mount points
// that must be ordinary directories (proc, sysfs): a symlink there could be
// swapped between our mount and a later lookup of the same path.
// Async-signal-safe.
int open_in_root_no_symlinks(int root_fd, const char* path) noexcept;

// "/proc/self/fd/<fd>": the name through which mount(2) and friends reach an
// fd we resolved (the kernel follows the magic link to exactly that dentry).
// Async-signal-safe; only meaningful while a procfs is mounted at /proc.
struct FdPath {
  char buf[32];
  const char* c_str() const noexcept { return buf; }
};
FdPath fd_path(int fd) noexcept;

// Parent-side convenience over the same resolution: opens `root` (a host
// directory) and resolves `path` inside it.
Result<UniqueFd> open_in_root(const std::string& root, const std::string& path,
                              CreateMode create);

// Lexical normalisation of a container path: "//a/./b/../c/" -> "/a/c",
// "" or "." -> "/", ".." above the root stays at the root, relative paths are
// taken relative to "/". Symlinks are not looked at (that is open_in_root's
// job); this only gives the child a canonical string to walk.
std::string clean_container_path(const std::string& path);

// "/a/b/c" -> "/a/b" and "c"; "/c" -> "/" and "c"; "/" -> "/" and "".
std::pair<std::string, std::string> split_container_path(const std::string& clean_path);

}  // namespace stack::rt
