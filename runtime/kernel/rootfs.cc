#include "runtime/kernel/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include "runtime/kernel/devices.h"
#include "base/fd.h"
#include "runtime/kernel/lsm.h"
#include "runtime/kernel/mount_options.h"
#include "runtime/kernel/procfs.h"
#include "runtime/kernel/rootfs_cgroup.h"
#include "runtime/kernel/rootfs_switch.h"
#include "runtime/kernel/safe_path.h"

namespace stack::rt {

enum class MountKind {
  kGeneric,   // mount(source, target, type, flags, data)
  kBind,      // MS_BIND (+MS_REC), then a remount for the per-mount flags
  kSysfs,     // sysfs, or a read-only rbind of the host /sys when refused
  kCgroupV1,  // tmpfs + one mount per v1 hierarchy (rootfs_cgroup.h)
};

// One spec mount, every string final. The child reads these, never writes.
struct PlannedMount {
  MountKind kind = MountKind::kGeneric;
  std::string destination;  // clean container path
  std::string source;       // binds: absolute host path; otherwise the spec's, or the type
  std::string type;         // filesystem type, "" for binds
  std::string data;         // filesystem options; empty -> nullptr
  unsigned long flags = 0;  // for the first mount(2)
  unsigned long remount_flags = 0;  // binds: MS_BIND|MS_REMOUNT|..., 0 = no second pass
  std::vector<unsigned long> propagation;
  uint64_t attr_set = 0, attr_clr = 0;  // mount_setattr(AT_RECURSIVE), both 0 = none
  CreateMode target = CreateMode::kDirectory;
  bool onto_proc_ok = false;  // may resolve into a mounted procfs (procfs.h rule 1)
  // proc, sysfs: no symlink on the way to the mount point. A swappable one
  // (/proc -> /vol/x) would send the later masked/read-only lookups of the
  // same path to a decoy instead of /proc/sys (CVE-2023-27561).
  bool plain_dir = false;
};

struct RootfsPlan {
  std::string rootfs;                          // realpath of the rootfs on the host
  std::vector<std::string> rootfs_and_parents; // rootfs, its parent, ..., "/"
  unsigned long enter_propagation = MS_SLAVE | MS_REC;  // applied to the old "/" first
  unsigned long root_propagation = 0;          // rootfsPropagation, on the new "/"; 0 = none
  bool readonly_root = false;
  bool no_pivot = false;
  bool inherit_mount_ns = false;  // no mount namespace of its own: chroot, no propagation changes
  std::vector<PlannedMount> mounts;
  bool setup_dev = false;  // /dev is ours to populate (not a bind of something else)
  DevicePlan devices;
  std::vector<CgroupV1Hierarchy> cgroup_v1;  // for kCgroupV1 mounts
  std::vector<std::string> masked_paths;     // clean container paths
  std::vector<std::string> readonly_paths;
  std::vector<PlannedSysctl> sysctls;
};

void destroy_rootfs_plan(RootfsPlan* plan) { delete plan; }

// ---------------------------------------------------------------- parent --

namespace {

namespace fs = std::filesystem;

Result<std::string> resolve_rootfs(const RootfsOptions& options) {
  if (options.rootfs.empty()) return fail("rootfs path is empty", EINVAL);
  std::error_code ec;
  fs::path p = options.rootfs;
  if (p.is_relative()) p = (options.bundle.empty() ? fs::current_path(ec) : fs::path(options.bundle)) / p;
  char real[PATH_MAX];
  if (!::realpath(p.c_str(), real)) return fail_errno("rootfs " + p.string());
  struct stat st {};
  if (::stat(real, &st) != 0) return fail_errno("rootfs " + p.string());
  if (!S_ISDIR(st.st_mode)) return fail("rootfs " + p.string() + " is not a directory", ENOTDIR);
  return std::string(real);
}

Result<PlannedMount> plan_mount(const Mount& m, size_t index, const RootfsOptions& options,
                                bool unified_cgroup, bool* needs_cgroup_v1) {
  const std::string where = "mounts[" + std::to_string(index) + "] (" + m.destination + ")";
  if (m.destination.empty()) return fail("mounts[" + std::to_string(index) + "].destination: empty", EINVAL);
  auto opts = parse_mount_options(m.options);
  if (!opts) return tl::unexpected(opts.error().wrap(where));

  PlannedMount p;
  p.destination = clean_container_path(m.destination);
  if (p.destination.size() > kMaxInRootPath) return fail(where + ": destination too long", ENAMETOOLONG);
  p.flags = opts->flags;
  p.data = opts->data;
  p.propagation = opts->propagation;
  p.attr_set = opts->rec_attr_set;
  p.attr_clr = opts->rec_attr_clr;

  if (m.type == "bind" || opts->bind()) {
    p.kind = MountKind::kBind;
    p.flags |= MS_BIND;
    if (m.source.empty()) return fail(where + ": bind mount without a source", EINVAL);
    fs::path src = m.source;
    if (src.is_relative()) {
      std::error_code ec;
      src = (options.bundle.empty() ? fs::current_path(ec) : fs::path(options.bundle)) / src;
    }
    p.source = src.lexically_normal().string();
    // The mount point must be of the source's kind. A source that is not
    // there yet (a hook may make it) is taken for a directory; the child's
    // mount then reports it by name.
    struct stat st {};
    if (::stat(p.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) p.target = CreateMode::kFile;
    // MS_BIND ignores every other flag; they need a remount of the new mount.
    if (opts->bind_remount_flags() != 0) p.remount_flags = opts->bind_remount_flags() | MS_BIND | MS_REMOUNT;
    p.flags &= MS_BIND | MS_REC;
    p.onto_proc_ok = proc_file_may_be_covered(p.destination);
    STACK_TRY_CTX(check_proc_destination(p.destination, "", p.source), where);
    return p;
  }

  if (m.type.empty()) return fail(where + ": no type and no bind option", EINVAL);
  p.type = m.type;
  p.source = m.source.empty() ? m.type : m.source;
  p.plain_dir = m.type == "proc" || m.type == "sysfs";
  if (m.type == "sysfs") {
    p.kind = MountKind::kSysfs;
  } else if (m.type == "cgroup") {
    if (unified_cgroup) {
      p.type = "cgroup2";
      p.source = "cgroup2";
    } else {
      p.kind = MountKind::kCgroupV1;
      *needs_cgroup_v1 = true;
    }
  }
  p.onto_proc_ok = p.type == "proc" || proc_file_may_be_covered(p.destination);
  // linux.mountLabel: the SELinux context runc gives these filesystems.
  if (p.type == "tmpfs" || p.type == "devpts" || p.type == "mqueue")
    p.data = mount_data_with_label(p.data, options.mount_label);
  STACK_TRY_CTX(check_proc_destination(p.destination, p.type, ""), where);
  return p;
}

}  // namespace

Result<RootfsPlanPtr> plan_rootfs(const Spec& spec, const RootfsOptions& options) {
  RootfsPlanPtr plan(new RootfsPlan);
  auto root = resolve_rootfs(options);
  if (!root) return tl::unexpected(root.error());
  plan->rootfs = *root;
  for (fs::path p = plan->rootfs;; p = p.parent_path()) {
    plan->rootfs_and_parents.push_back(p.string());
    if (p == p.parent_path()) break;
  }
  if (!spec.linux.rootfs_propagation.empty()) {
    auto prop = parse_propagation(spec.linux.rootfs_propagation);
    if (!prop) return tl::unexpected(prop.error().wrap("linux.rootfsPropagation"));
    plan->enter_propagation = *prop;
    plan->root_propagation = *prop;
  }
  plan->readonly_root = spec.root.readonly;
  plan->no_pivot = options.no_pivot;
  plan->inherit_mount_ns = options.inherit_mount_ns;
  if (options.inherit_mount_ns && !spec.linux.rootfs_propagation.empty())
    return fail("linux.rootfsPropagation: needs a mount namespace of the container's own (linux.namespaces has none): "
                "it would change the propagation of the runtime's own mounts",
                EINVAL);

  const bool unified = host_cgroup_is_unified();
  bool needs_v1 = false;
  bool dev_is_bind = false, devpts = false;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    auto m = plan_mount(spec.mounts[i], i, options, unified, &needs_v1);
    if (!m) return tl::unexpected(m.error());
    if (m->destination == "/dev" && m->kind == MountKind::kBind) dev_is_bind = true;
    if (m->destination == "/dev/pts" && m->type == "devpts") devpts = true;
    plan->mounts.push_back(std::move(*m));
  }
  if (needs_v1) {
    auto h = host_cgroup_v1_hierarchies();
    if (!h) return tl::unexpected(h.error().wrap("cgroup mount"));
    plan->cgroup_v1 = std::move(*h);
  }
  // As runc: a bind-mounted /dev is the user's; anything else (a tmpfs, or
  // the image's own directory) gets the standard nodes.
  plan->setup_dev = !dev_is_bind;
  if (plan->setup_dev) {
    auto d = plan_devices(spec.linux.devices, options.in_user_ns, devpts);
    if (!d) return tl::unexpected(d.error());
    plan->devices = std::move(*d);
  }
  for (const auto& p : spec.linux.masked_paths) plan->masked_paths.push_back(clean_container_path(p));
  for (const auto& p : spec.linux.readonly_paths) plan->readonly_paths.push_back(clean_container_path(p));
  for (const auto* list : {&plan->masked_paths, &plan->readonly_paths})
    for (const auto& p : *list)
      if (p.size() > kMaxInRootPath) return fail("masked/readonly path too long: " + p, ENAMETOOLONG);
  auto sysctls = plan_sysctls(spec.linux.sysctl);
  if (!sysctls) return tl::unexpected(sysctls.error());
  plan->sysctls = std::move(*sysctls);
  return plan;
}

// ----------------------------------------------------------------- child --
// Everything below runs after clone: raw syscalls over the plan's strings,
// UniqueFd for closing (no allocation), errors into the caller's ChildError.

namespace {

constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// MS_BIND|MS_REMOUNT of the mount whose root `fd` is. In a user namespace
// the kernel refuses to clear flags that were locked when the mount came
// from a more privileged namespace (EPERM); retry keeping those, as runc
// does: ro/nosuid/nodev/noexec of the source stay, and so does its atime.
// `path` names the mount (default: fd's /proc/self/fd link); `fd` is for fstatfs.
int remount_fd(int fd, unsigned long flags, const char* path = nullptr) noexcept {
  FdPath fp = fd_path(fd);
  if (path == nullptr) path = fp.c_str();
  if (::mount(nullptr, path, nullptr, flags, nullptr) == 0) return 0;
  if (errno != EPERM) return errno;
  struct statfs s;
  if (::fstatfs(fd, &s) != 0) return errno;
  // statfs reports ST_* bits; most equal their MS_* twins, ST_RELATIME does not.
  const unsigned long have = static_cast<unsigned long>(s.f_flags);
  if (have & ST_RDONLY) flags |= MS_RDONLY;
  if (have & ST_NOSUID) flags |= MS_NOSUID;
  if (have & ST_NODEV) flags |= MS_NODEV;
  if (have & ST_NOEXEC) flags |= MS_NOEXEC;
  flags &= ~kAtimeFlags;
  if (have & ST_NOATIME) flags |= MS_NOATIME;
  if (have & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (have & ST_RELATIME) flags |= MS_RELATIME;
  if ((have & (ST_NOATIME | ST_RELATIME)) == 0) flags |= MS_STRICTATIME;
  if (::mount(nullptr, path, nullptr, flags, nullptr) == 0) return 0;
  return errno;
}

// Re-resolves `dest` (now the root of the mount just made there).
int reopen(int root_fd, const char* dest, ChildError* err, UniqueFd* out) noexcept {
  int fd = open_in_root(root_fd, dest, CreateMode::kNone);
  if (fd < 0) {
    err->set(-fd, "reopen mount ", dest);
    return -fd;
  }
  out->reset(fd);
  return 0;
}

// The second half of every mount: bind remount flags, recursive attributes,
// propagation, all on the new mount (not the directory under it). The new
// mount is found by resolving the destination again; for a bind, `source`
// (the bound object's stat) must be what is found there, or a rename between
// the mount and this lookup (CVE-2021-30465) would put "ro" and the rest on
// some other mount and leave the volume writable.
int finish_mount(int root_fd, const PlannedMount& m, ChildError* err,
                 const struct stat* source = nullptr) noexcept {
  if (m.remount_flags == 0 && m.attr_set == 0 && m.attr_clr == 0 && m.propagation.empty()) return 0;
  const char* dest = m.destination.c_str();
  UniqueFd fd;
  if (int rc = reopen(root_fd, dest, err, &fd)) return rc;
  struct stat st {};
  if (source && (::fstat(fd.get(), &st) != 0 || st.st_dev != source->st_dev || st.st_ino != source->st_ino)) {
    err->set(EBUSY, dest, " changed while ", m.source.c_str(), " was mounted on it (swapped for a symlink?)");
    return EBUSY;
  }
  if (m.remount_flags != 0) {
    if (int rc = remount_fd(fd.get(), m.remount_flags)) {
      err->set(rc, "remount bind ", m.source.c_str(), " on ", dest);
      return rc;
    }
  }
  if (m.attr_set != 0 || m.attr_clr != 0) {
    struct mount_attr attr {};
    attr.attr_set = m.attr_set;
    attr.attr_clr = m.attr_clr;
    if (::mount_setattr(fd.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
      int e = errno;
      err->set(e, "set recursive mount attributes on ", dest);
      return e;
    }
  }
  for (unsigned long p : m.propagation) {
    if (::mount(nullptr, fd_path(fd.get()).c_str(), nullptr, p, nullptr) != 0) {
      int e = errno;
      err->set(e, "set mount propagation on ", dest);
      return e;
    }
  }
  return 0;
}

int mount_one(int root_fd, const RootfsPlan& plan, const PlannedMount& m, ChildError* err) noexcept {
  const char* dest = m.destination.c_str();
  int tfd = open_in_root(root_fd, dest, m.target);
  if (tfd < 0) {
    err->set(-tfd, "create mount point ", dest, " in ", plan.rootfs.c_str());
    return -tfd;
  }
  UniqueFd target(tfd);
  if (m.plain_dir) {
    tfd = open_in_root_no_symlinks(root_fd, dest);
    struct stat st {};
    if (tfd >= 0 && (::fstat(tfd, &st) != 0 || !S_ISDIR(st.st_mode))) {
      ::close(tfd);
      tfd = -ENOTDIR;
    }
    if (tfd < 0) {
      err->set(-tfd, m.type.c_str(), " must be mounted on an ordinary directory, not through a symlink: ", dest);
      return -tfd;
    }
    target.reset(tfd);
  }
  // Where the destination really is, not what it is called: an image
  // symlink (/vol -> /proc) can lead a volume onto the container's procfs.
  if (!m.onto_proc_ok && on_procfs(target.get())) {
    err->set(EPERM, "mount on ", dest, ": it resolves into /proc, where only proc may be mounted");
    return EPERM;
  }
  if (m.kind == MountKind::kCgroupV1) {
    target.reset();
    if (int rc = mount_cgroup_v1(root_fd, dest, m.flags, plan.cgroup_v1, err)) return rc;
    return finish_mount(root_fd, m, err);
  }
  FdPath tpath = fd_path(target.get());
  if (m.kind == MountKind::kBind) {
    // Bound through an fd, so what finish_mount checks is what was bound.
    UniqueFd src(::open(m.source.c_str(), O_PATH | O_CLOEXEC));
    struct stat src_st {};
    if (!src || ::fstat(src.get(), &src_st) != 0 ||
        ::mount(fd_path(src.get()).c_str(), tpath.c_str(), nullptr, m.flags, nullptr) != 0) {
      int e = errno;
      err->set(e, "bind mount ", m.source.c_str(), " on ", dest);
      return e;
    }
    return finish_mount(root_fd, m, err, &src_st);
  }
  if (::mount(m.source.c_str(), tpath.c_str(), m.type.c_str(), m.flags, or_null(m.data)) == 0)
    return finish_mount(root_fd, m, err);
  int e = errno;
  if (m.kind == MountKind::kSysfs && e == EPERM) {
    // A user namespace that does not own the network namespace may not
    // mount sysfs; give it the host's, read-only (runc does the same).
    if (::mount("/sys", tpath.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      e = errno;
      err->set(e, "bind host /sys on ", dest);
      return e;
    }
    UniqueFd top;
    if (int rc = reopen(root_fd, dest, err, &top)) return rc;
    if (int rc = remount_fd(top.get(), MS_BIND | MS_REMOUNT | MS_RDONLY | (m.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)))) {
      err->set(rc, "remount read-only host /sys on ", dest);
      return rc;
    }
    return finish_mount(root_fd, m, err);
  }
  err->set(e, "mount ", m.type.c_str(), " on ", dest);
  return e;
}

// Masks and read-only binds reach their targets through /proc/self/fd
// (fd_path) of the container's /proc: that must be the kernel's procfs, not
// a tree the image provides, or the mounts go where its symlinks say.
int check_proc_once(int root_fd, bool* checked, ChildError* err) noexcept {
  if (*checked) return 0;
  int fd = open_proc_root(root_fd, err);
  if (fd < 0) return -fd;
  ::close(fd);
  *checked = true;
  return 0;
}

}  // namespace

int rootfs_enter(const RootfsPlan& plan, ChildError* err) noexcept {
  const char* rootfs = plan.rootfs.c_str();
  {
    UniqueFd probe(::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!probe) {
      int e = errno;
      err->set(e, "open rootfs ", rootfs);
      return e;
    }
  }
  if (!plan.inherit_mount_ns && in_pid1_mount_ns()) {
    err->set(EPERM, "rootfs setup refused: not in a new mount namespace");
    return EPERM;
  }
  // 1. Nothing we mount from here on may reach the host. In an inherited
  // namespace the mounts are the runtime's own (made under the rootfs only,
  // removed by `delete`) and the propagation of "/" is not ours to change.
  if (plan.inherit_mount_ns) {
    // nothing: no pivot, so no private parent is needed either
  } else if (::mount(nullptr, "/", nullptr, plan.enter_propagation, nullptr) != 0) {
    int e = errno;
    err->set(e, "set propagation of /");
    return e;
  }
  // pivot_root and MS_MOVE refuse a rootfs whose parent mount is shared:
  // make the nearest mount at or above it private (EINVAL = not a mount).
  bool made_private = plan.inherit_mount_ns;
  for (size_t i = 0; !made_private && i < plan.rootfs_and_parents.size(); ++i) {
    const std::string& p = plan.rootfs_and_parents[i];
    if (::mount(nullptr, p.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) {
      made_private = true;
      break;
    }
    if (errno != EINVAL) break;
  }
  if (!made_private) {
    int e = errno;
    err->set(e, "make the mount holding ", rootfs, " private");
    return e;
  }
  // 2. The rootfs becomes a mount point of its own (pivot_root needs one;
  // under chroot it is what a read-only root remounts, never the host's).
  if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    int e = errno;
    err->set(e, "bind rootfs ", rootfs, " on itself");
    return e;
  }
  UniqueFd root(::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    int e = errno;
    err->set(e, "open rootfs ", rootfs);
    return e;
  }
  // 3. The spec's mounts, in order: later ones land inside earlier ones.
  for (const PlannedMount& m : plan.mounts)
    if (int rc = mount_one(root.get(), plan, m, err)) return rc;
  // 4. Device nodes and /dev symlinks, inside the new /dev only.
  if (plan.setup_dev)
    if (int rc = create_devices(root.get(), plan.devices, err)) return rc;
  root.reset();
  // 5. Switch roots (rootfs_switch.h).
  if (int rc = switch_root(plan.rootfs.c_str(), plan.inherit_mount_ns ? RootSwitch::kChroot
                                                : plan.no_pivot         ? RootSwitch::kMoveAndChroot
                                                                        : RootSwitch::kPivot,
                           err))
    return rc;
  // 6. linux.sysctl, through a /proc checked to be procfs.
  return write_sysctls(plan.sysctls, err);
}

int rootfs_finalize(const RootfsPlan& plan, ChildError* err) noexcept {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    int e = errno;
    err->set(e, "open /");
    return e;
  }
  bool proc_checked = false;
  for (const std::string& p : plan.readonly_paths) {
    int fd = open_in_root(root.get(), p.c_str(), CreateMode::kNone);
    if (fd == -ENOENT) continue;
    if (fd < 0) {
      err->set(-fd, "resolve read-only path ", p.c_str());
      return -fd;
    }
    UniqueFd target(fd);
    if (int rc = check_proc_once(root.get(), &proc_checked, err)) return rc;
    FdPath tp = fd_path(target.get());
    if (::mount(tp.c_str(), tp.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      int e = errno;
      err->set(e, "bind read-only path ", p.c_str());
      return e;
    }
    UniqueFd top;
    if (int rc = reopen(root.get(), p.c_str(), err, &top)) return rc;
    if (int rc = remount_fd(top.get(), MS_BIND | MS_REMOUNT | MS_RDONLY)) {
      err->set(rc, "remount read-only ", p.c_str());
      return rc;
    }
  }
  for (const std::string& p : plan.masked_paths) {
    int fd = open_in_root(root.get(), p.c_str(), CreateMode::kNone);
    if (fd == -ENOENT) continue;
    if (fd < 0) {
      err->set(-fd, "resolve masked path ", p.c_str());
      return -fd;
    }
    UniqueFd target(fd);
    struct stat st {};
    if (::fstat(target.get(), &st) != 0) {
      int e = errno;
      err->set(e, "stat masked path ", p.c_str());
      return e;
    }
    if (int rc = check_proc_once(root.get(), &proc_checked, err)) return rc;
    FdPath tp = fd_path(target.get());
    if (S_ISDIR(st.st_mode)) {
      // An empty read-only tmpfs hides the directory's content.
      if (::mount("tmpfs", tp.c_str(), "tmpfs", MS_RDONLY, nullptr) != 0) {
        int e = errno;
        err->set(e, "mask directory ", p.c_str());
        return e;
      }
      continue;
    }
    // The container's own /dev/null, checked to be the real node so an
    // image cannot turn masking into exposing something else.
    int nfd = open_in_root(root.get(), "/dev/null", CreateMode::kNone);
    if (nfd < 0) {
      err->set(-nfd, "open /dev/null to mask ", p.c_str());
      return -nfd;
    }
    UniqueFd null_fd(nfd);
    struct stat ns {};
    if (::fstat(null_fd.get(), &ns) != 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
      err->set(ENODEV, "/dev/null is not the null device; cannot mask ", p.c_str());
      return ENODEV;
    }
    if (::mount(fd_path(null_fd.get()).c_str(), tp.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      int e = errno;
      err->set(e, "mask file ", p.c_str());
      return e;
    }
  }
  if (plan.root_propagation != 0 && ::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) {
    int e = errno;
    err->set(e, "set rootfs propagation of /");
    return e;
  }
  if (plan.readonly_root) {
    // By name: "/" needs no /proc inside the container.
    if (int rc = remount_fd(root.get(), MS_BIND | MS_REMOUNT | MS_RDONLY, "/")) {
      err->set(rc, "remount / read-only");
      return rc;
    }
  }
  return 0;
}

}  // namespace stack::rt
