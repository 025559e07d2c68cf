// Layer extraction; see unpack.h for the guarantees.
//
// One pass over the blob: archive `raw_` decompresses it (any filter
// libarchive supports, format "raw"), and its decompressed blocks are hashed
// for the diff_id on their way into archive `tar_`, which reads them through a
// custom read callback and parses the tar. Bytes after the tar's end marker
// are drained into the hash as well, so the digest covers the whole
// uncompressed stream.
//
// The hash uses OpenSSL's EVP SHA-256 rather than img::Sha256 (libmd): on
// this hardware EVP uses the SHA-NI instructions (~1.7 GB/s against libmd's
// ~100 MB/s), and hashing every layer byte is otherwise the unpack bottleneck.
#include "runtime/image/archive_reader.h"
#include "runtime/image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <dirent.h>

#include <climits>
#include <cstring>
#include <memory>
#include <optional>

#include "base/fd.h"

namespace stack::img {
namespace {

using stack::UniqueFd;

using ArchivePtr = ArchiveReader;

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

int sys_openat2(int dirfd, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    int fd = static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) return fd;  // EAGAIN: a rename raced; retry
  }
}

// libarchive leaves the error string null when a read callback failed.
std::string archive_err(archive* a, const std::string& fallback) {
  const char* e = archive_error_string(a);
  return e ? e : fallback.empty() ? "unknown archive error" : fallback;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// Streaming SHA-256 over EVP; owns its context.
class FastSha256 {
 public:
  FastSha256() : ctx_(EVP_MD_CTX_new()) { ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1; }
  bool ok() const { return ok_; }
  void update(const void* p, size_t n) { ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), p, n) == 1; }
  Result<Digest> finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1 || len != 32)
      return stack::fail("sha256 of layer stream failed");
    static const char* hex = "0123456789abcdef";
    Digest d;
    for (unsigned i = 0; i < len; ++i) {
      d.hex += hex[md[i] >> 4];
      d.hex += hex[md[i] & 15];
    }
    return d;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx_;
  bool ok_ = false;
};

// Pulls decompressed blocks from the raw archive, hashing them.
struct Feed {
  archive* raw = nullptr;
  FastSha256* hash = nullptr;
  bool eof = false;
  std::string error;

  static la_ssize_t read(archive*, void* self, const void** buf) {
    auto* f = static_cast<Feed*>(self);
    if (f->eof) return 0;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(f->raw, buf, &size, &offset);
    if (r == ARCHIVE_EOF) {
      f->eof = true;
      return 0;
    }
    if (r < ARCHIVE_WARN) {
      f->error = "decompress: " + archive_err(f->raw, "read error");
      return -1;
    }
    f->hash->update(*buf, size);
    return static_cast<la_ssize_t>(size);
  }
};

// Removes `name` (a directory) under `parent` and everything below it, as a
// later tar entry replacing a directory requires. Works on fds and never
// follows a symlink, so only the tree inside the destination is removed.
// Returns false with errno set.
bool remove_tree(int parent, const std::string& name) {
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), &::closedir);
  if (!dir) {
    int e = errno;
    ::close(fd);
    errno = e;
    return false;
  }
  std::vector<std::pair<std::string, bool>> children;  // read fully before mutating
  while (dirent* d = ::readdir(dir.get())) {
    std::string child = d->d_name;
    if (child == "." || child == "..") continue;
    children.emplace_back(child, d->d_type == DT_DIR);
  }
  for (auto& [child, is_dir] : children) {
    if (is_dir) {
      if (!remove_tree(fd, child)) return false;
    } else if (::unlinkat(fd, child.c_str(), 0) != 0) {
      if (errno != EISDIR || !remove_tree(fd, child)) return false;  // d_type unknown
    }
  }
  return ::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0;
}

class Unpacker {
 public:
  Unpacker(const std::string& dest, const UnpackOptions& o, UnpackResult& r, const std::string& feed_error)
      : dest_(dest), opt_(o), res_(r), feed_error_(feed_error) {}

  Result<> open_root() {
    root_.reset(::open(dest_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_) return stack::fail_errno("open layer destination " + dest_);
    return {};
  }

  Result<> entry(archive* a, archive_entry* e);
  Result<> finish_dirs();

 private:
  Result<int> parent_dir(const std::vector<std::string>& parts, size_t n);
  Result<> remove_existing(int parent, const std::string& name, bool keep_dir);
  Result<> set_owner(int dirfd, const char* name, int flags, archive_entry* e, const std::string& what);
  void set_xattrs(int fd, archive_entry* e, const std::string& what);
  Result<> write_data(archive* a, int fd, const std::string& what);
  std::string ctx(const std::string& what) const { return what + " (extracting into " + dest_ + ")"; }

  std::string dest_;
  const UnpackOptions& opt_;
  UnpackResult& res_;
  const std::string& feed_error_;  // set by Feed when decompression failed
  UniqueFd root_;
  // The last resolved parent directory; dropped whenever an entry could
  // change what a path resolves to (symlink created, directory removed).
  // `parent` fds handed out stay open until the next parent_dir() call.
  std::string cached_path_;
  UniqueFd cached_fd_;
  bool cache_stale_ = false;
  struct DirTime {
    std::string path;
    timespec times[2];
  };
  std::vector<DirTime> dir_times_;
};

// Opens the directory parts[0..n) inside the root, creating missing
// components (0755, root-owned, like Docker) one at a time. Symlinks met on
// the way are followed but stay inside the root thanks to RESOLVE_IN_ROOT.
Result<int> Unpacker::parent_dir(const std::vector<std::string>& parts, size_t n) {
  if (n == 0) return root_.get();
  std::string path = join(parts, n);
  if (cache_stale_) {
    cached_fd_.reset();
    cached_path_.clear();
    cache_stale_ = false;
  }
  if (cached_fd_ && cached_path_ == path) return cached_fd_.get();
  cached_fd_.reset(sys_openat2(root_.get(), path, O_RDONLY | O_DIRECTORY));
  if (!cached_fd_) {
    if (errno != ENOENT) return stack::fail_errno(ctx("resolve parent " + path));
    UniqueFd cur(sys_openat2(root_.get(), ".", O_RDONLY | O_DIRECTORY));
    if (!cur) return stack::fail_errno(ctx("open root"));
    for (size_t i = 0; i < n; ++i) {
      std::string prefix = join(parts, i + 1);
      UniqueFd next(sys_openat2(root_.get(), prefix, O_RDONLY | O_DIRECTORY));
      if (!next && errno == ENOENT) {
        // mkdirat never follows the final component: a symlink whose target
        // is missing from the layer (typically a host path: it is resolved
        // inside the layer, never on the host) gives EEXIST and the entry is refused.
        if (::mkdirat(cur.get(), parts[i].c_str(), 0755) != 0) {
          if (errno == EEXIST)
            return stack::fail(ctx("parent " + prefix + " is a symlink to a directory not in the layer"), ENOTDIR);
          return stack::fail_errno(ctx("create parent directory " + prefix));
        }
        next.reset(sys_openat2(root_.get(), prefix, O_RDONLY | O_DIRECTORY));
      }
      if (!next) return stack::fail_errno(ctx("resolve parent " + prefix));
      cur = std::move(next);
    }
    cached_fd_ = std::move(cur);
  }
  cached_path_ = path;
  return cached_fd_.get();
}

Result<> Unpacker::remove_existing(int parent, const std::string& name, bool keep_dir) {
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return stack::fail_errno(ctx("stat " + name));
  }
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) return {};
    cache_stale_ = true;  // the cached parent may be inside the removed tree
    if (!remove_tree(parent, name)) return stack::fail_errno(ctx("replace directory " + name));
    return {};
  }
  if (::unlinkat(parent, name.c_str(), 0) != 0) return stack::fail_errno(ctx("replace " + name));
  return {};
}

Result<> Unpacker::set_owner(int dirfd, const char* name, int flags, archive_entry* e,
                             const std::string& what) {
  uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
  gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
  if (::fchownat(dirfd, name, uid, gid, flags) == 0) return {};
  if (opt_.ignore_chown_errors && (errno == EINVAL || errno == EPERM)) {
    res_.warnings.push_back("chown " + what + " to " + std::to_string(uid) + ":" +
                            std::to_string(gid) + ": " + std::strerror(errno));
    return {};
  }
  return stack::fail_errno(ctx("chown " + what));
}

// Layers may not smuggle overlayfs metadata (redirects, metacopy, opaque)
// into a lower dir: only our own whiteout translation writes trusted.overlay.*.
void Unpacker::set_xattrs(int fd, archive_entry* e, const std::string& what) {
  if (archive_entry_xattr_reset(e) == 0) return;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (std::strncmp(name, "trusted.overlay.", 16) == 0) {
      res_.warnings.push_back("dropped xattr " + std::string(name) + " on " + what);
      ++res_.xattrs_skipped;
      continue;
    }
    if (::fsetxattr(fd, name, value, size, 0) != 0) {
      ++res_.xattrs_skipped;
      res_.warnings.push_back("xattr " + std::string(name) + " on " + what + ": " +
                              std::strerror(errno));
    }
  }
}

Result<> Unpacker::write_data(archive* a, int fd, const std::string& what) {
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return stack::fail(ctx("read data of " + what + ": " + archive_err(a, feed_error_)));
    if (res_.bytes_written + size > opt_.max_bytes)
      return stack::fail(ctx("layer exceeds the " + std::to_string(opt_.max_bytes) + " byte limit"), EFBIG);
    const char* p = static_cast<const char*>(buf);
    size_t left = size;
    la_int64_t at = offset;
    while (left > 0) {  // pwrite keeps sparse holes (offset jumps) as holes
      ssize_t w = ::pwrite(fd, p, left, at);
      if (w < 0) {
        if (errno == EINTR) continue;
        return stack::fail_errno(ctx("write " + what));
      }
      p += w;
      left -= static_cast<size_t>(w);
      at += w;
    }
    res_.bytes_written += size;
  }
  return {};
}

Result<> Unpacker::entry(archive* a, archive_entry* e) {
  if (++res_.entries > opt_.max_entries)
    return stack::fail(ctx("layer exceeds the " + std::to_string(opt_.max_entries) + " entry limit"), EFBIG);
  const char* raw_name = archive_entry_pathname(e);
  if (!raw_name) return stack::fail(ctx("entry without a name"), EINVAL);
  std::string name = raw_name;
  if (name.size() >= PATH_MAX) return stack::fail(ctx("entry name longer than PATH_MAX"), ENAMETOOLONG);
  auto parts_r = clean_layer_path(name);
  if (!parts_r) return stack::fail(ctx(parts_r.error().context), parts_r.error().code);
  auto parts = std::move(*parts_r);
  mode_t type = archive_entry_filetype(e);
  mode_t perm = archive_entry_perm(e) & 07777;
  const char* hardlink = archive_entry_hardlink(e);
  timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                       {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  if (archive_entry_atime_is_set(e)) times[0] = {archive_entry_atime(e), archive_entry_atime_nsec(e)};

  if (parts.empty()) {  // the layer root ("./"): only its metadata applies
    if (type != AE_IFDIR || hardlink) return stack::fail(ctx("non-directory entry for the root"), EINVAL);
    STACK_TRY(set_owner(root_.get(), "", AT_EMPTY_PATH, e, "/"));
    if (::fchmod(root_.get(), perm) != 0) return stack::fail_errno(ctx("chmod /"));
    set_xattrs(root_.get(), e, "/");
    dir_times_.push_back({".", {times[0], times[1]}});
    return {};
  }
  const std::string base = parts.back();
  if (base.size() > NAME_MAX) return stack::fail(ctx("name too long: " + name), ENAMETOOLONG);
  auto parent_r = parent_dir(parts, parts.size() - 1);
  if (!parent_r) return tl::unexpected(parent_r.error());
  int parent = *parent_r;
  const char* bn = base.c_str();

  // Whiteouts (overlayfs format).
  if (base.rfind(kWhiteoutPrefix, 0) == 0) {
    if (base == kOpaqueMarker) {
      if (::fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0)
        return stack::fail_errno(ctx("mark " + join(parts, parts.size() - 1) + " opaque"));
      return {};
    }
    std::string target = base.substr(std::strlen(kWhiteoutPrefix));
    if (target.empty() || target == "." || target == ".." || target.rfind(kWhiteoutPrefix, 0) == 0)
      return stack::fail(ctx("unsupported whiteout " + name), EINVAL);
    STACK_TRY(remove_existing(parent, target, false));
    if (::mknodat(parent, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
      return stack::fail_errno(ctx("create whiteout for " + name));
    return {};
  }

  if (hardlink) {
    auto src_r = clean_layer_path(hardlink);
    if (!src_r) return tl::unexpected(src_r.error().wrap(ctx("hardlink " + name)));
    auto src = std::move(*src_r);
    if (src.empty()) return stack::fail(ctx("hardlink " + name + " to the root"), EINVAL);
    std::string src_parent_path = join(src, src.size() - 1);
    UniqueFd src_parent(sys_openat2(root_.get(), src_parent_path, O_PATH | O_DIRECTORY));
    if (!src_parent) return stack::fail_errno(ctx("hardlink " + name + ": resolve " + hardlink));
    STACK_TRY(remove_existing(parent, base, false));
    // Flags 0: the source's final component is linked itself, not followed.
    if (::linkat(src_parent.get(), src.back().c_str(), parent, bn, 0) != 0)
      return stack::fail_errno(ctx("hardlink " + name + " to " + hardlink));
    return {};
  }

  switch (type) {
    case AE_IFREG: {
      STACK_TRY(remove_existing(parent, base, false));
      UniqueFd fd(::openat(parent, bn, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) return stack::fail_errno(ctx("create " + name));
      STACK_TRY(write_data(a, fd.get(), name));
      // Trailing holes of sparse files: the declared size counts against the
      // byte limit too, so a sparse entry cannot claim unbounded space.
      la_int64_t size = archive_entry_size(e);
      if (archive_entry_size_is_set(e) && size > 0) {
        if (static_cast<uint64_t>(size) > opt_.max_bytes)
          return stack::fail(ctx(name + " exceeds the " + std::to_string(opt_.max_bytes) + " byte limit"), EFBIG);
        if (::ftruncate(fd.get(), size) != 0) return stack::fail_errno(ctx("size " + name));
      }
      STACK_TRY(set_owner(fd.get(), "", AT_EMPTY_PATH, e, name));
      if (::fchmod(fd.get(), perm) != 0) return stack::fail_errno(ctx("chmod " + name));  // after chown: keeps setuid
      set_xattrs(fd.get(), e, name);
      if (::futimens(fd.get(), times) != 0) return stack::fail_errno(ctx("set times of " + name));
      return {};
    }
    case AE_IFDIR: {
      STACK_TRY(remove_existing(parent, base, true));
      if (::mkdirat(parent, bn, 0700) != 0 && errno != EEXIST)
        return stack::fail_errno(ctx("mkdir " + name));
      UniqueFd fd(::openat(parent, bn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) return stack::fail_errno(ctx("open directory " + name));
      STACK_TRY(set_owner(fd.get(), "", AT_EMPTY_PATH, e, name));
      if (::fchmod(fd.get(), perm) != 0) return stack::fail_errno(ctx("chmod " + name));
      set_xattrs(fd.get(), e, name);
      dir_times_.push_back({join(parts, parts.size()), {times[0], times[1]}});
      return {};
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (!target) return stack::fail(ctx("symlink " + name + " without a target"), EINVAL);
      STACK_TRY(remove_existing(parent, base, false));
      if (::symlinkat(target, parent, bn) != 0) return stack::fail_errno(ctx("symlink " + name));
      cache_stale_ = true;  // the new link may change what cached paths resolve to
      STACK_TRY(set_owner(parent, bn, AT_SYMLINK_NOFOLLOW, e, name));
      if (::utimensat(parent, bn, times, AT_SYMLINK_NOFOLLOW) != 0)
        return stack::fail_errno(ctx("set times of " + name));
      return {};
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      STACK_TRY(remove_existing(parent, base, false));
      dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
      if (::mknodat(parent, bn, type | 0600, type == AE_IFIFO ? 0 : dev) != 0) {
        if (errno == EPERM && type != AE_IFIFO) {  // user namespace: no CAP_MKNOD
          res_.warnings.push_back("skipped device " + name + ": " + std::strerror(errno));
          return {};
        }
        return stack::fail_errno(ctx("mknod " + name));
      }
      STACK_TRY(set_owner(parent, bn, AT_SYMLINK_NOFOLLOW, e, name));
      // The node was just created by us and is not a symlink, so following is moot.
      if (::fchmodat(parent, bn, perm, 0) != 0) return stack::fail_errno(ctx("chmod " + name));
      if (::utimensat(parent, bn, times, AT_SYMLINK_NOFOLLOW) != 0)
        return stack::fail_errno(ctx("set times of " + name));
      return {};
    }
    default:
      return stack::fail(ctx("unsupported entry type for " + name), EINVAL);
  }
}

// Directory mtimes last: creating children would otherwise bump them.
Result<> Unpacker::finish_dirs() {
  for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
    UniqueFd fd(sys_openat2(root_.get(), it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    if (!fd) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;  // replaced later in the layer
      return stack::fail_errno(ctx("open directory " + it->path));
    }
    if (::futimens(fd.get(), it->times) != 0) return stack::fail_errno(ctx("set times of " + it->path));
  }
  return {};
}

}  // namespace

Result<std::vector<std::string>> clean_layer_path(const std::string& name) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string comp = name.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp.find('\0') != std::string::npos) return stack::fail("name contains NUL", EINVAL);
    if (comp == "..") {
      if (parts.empty()) return stack::fail("name \"" + name + "\" leaves the layer root", EINVAL);
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(comp));
  }
  return parts;
}

Result<UnpackResult> unpack_layer(const std::string& blob_path, const std::string& dest_dir,
                                  const UnpackOptions& options) {
  UnpackResult res;
  FastSha256 hash;
  if (!hash.ok()) return stack::fail("unpack " + blob_path + ": cannot initialise sha256");
  ArchivePtr raw = new_archive_reader();
  ArchivePtr tar = new_archive_reader();
  if (!raw || !tar) return stack::fail("unpack " + blob_path + ": archive_read_new", ENOMEM);
  archive_read_support_filter_all(raw.get());
  archive_read_support_format_raw(raw.get());
  archive_read_support_format_empty(raw.get());
  if (archive_read_open_filename(raw.get(), blob_path.c_str(), 1 << 20) != ARCHIVE_OK)
    return stack::fail("open layer " + blob_path + ": " + archive_err(raw.get(), ""),
                    archive_errno(raw.get()));
  archive_entry* raw_entry = nullptr;
  int r = archive_read_next_header(raw.get(), &raw_entry);
  if (r == ARCHIVE_EOF) return stack::fail("layer " + blob_path + " is empty", EINVAL);
  if (r < ARCHIVE_WARN)
    return stack::fail("decompress layer " + blob_path + ": " + archive_err(raw.get(), ""));

  Feed feed{raw.get(), &hash, false, {}};
  archive_read_support_format_tar(tar.get());  // ustar, pax and GNU
  if (archive_read_open(tar.get(), &feed, nullptr, &Feed::read, nullptr) != ARCHIVE_OK)
    return stack::fail("read layer " + blob_path + ": " + archive_err(tar.get(), feed.error));

  Unpacker u(dest_dir, options, res, feed.error);
  STACK_TRY(u.open_root());
  for (;;) {
    archive_entry* e = nullptr;
    r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      std::string why = !feed.error.empty() ? feed.error : archive_err(tar.get(), "bad tar header");
      return stack::fail("read layer " + blob_path + ": " + why);
    }
    if (r == ARCHIVE_WARN && archive_error_string(tar.get()))
      res.warnings.push_back(archive_error_string(tar.get()));
    // The entry's name as the layer spells it, so a refusal says which one.
    const char* entry_name = archive_entry_pathname(e);
    STACK_TRY_CTX(u.entry(tar.get(), e),
                  "layer " + blob_path + ": entry \"" + (entry_name ? entry_name : "") + "\"");
  }
  // The diff_id covers the whole stream, including padding after the end marker.
  const void* buf = nullptr;
  while (Feed::read(nullptr, &feed, &buf) > 0) {
  }
  if (!feed.error.empty()) return stack::fail("read layer " + blob_path + ": " + feed.error);
  STACK_TRY(u.finish_dirs());
  auto diff_id = hash.finish();
  if (!diff_id) return tl::unexpected(diff_id.error().wrap("unpack " + blob_path));
  res.diff_id = std::move(*diff_id);
  return res;
}

}  // namespace stack::img
