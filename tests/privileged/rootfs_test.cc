// The container filesystem on a real kernel, without the rest of the
// container: a child unshares mount/pid/net/uts/ipc/cgroup namespaces, forks
// pid 1 of the new pid namespace, which runs rootfs_enter + rootfs_finalize
// on a busybox bundle and then reports what it sees, one fact per line over
// a pipe. Every mount lives in that throwaway mount namespace; each test
// checks afterwards that the host's mount table and /dev/null are as before.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "runtime/container/spec.h"
#include "runtime/kernel/rootfs.h"
#include "runtime/kernel/rootfs_cgroup.h"
#include "tests/support/bundle.h"

namespace fs = std::filesystem;

namespace stack::rt {
namespace {

using Facts = std::map<std::string, std::string>;
using Probe = std::function<void(Facts&)>;

struct Outcome {
  int rc = -1;  // rootfs_enter / rootfs_finalize result; -1: child died first
  ChildError err;
  Facts facts;
  std::string failure;  // what went wrong with the harness itself
};

std::string err_name(int e) {
  const char* n = ::strerrorname_np(e);
  return n ? n : std::to_string(e);
}

// ---- probes (run inside the container, after the switch of root) ----

std::string describe(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return err_name(errno);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  std::string kind = S_ISCHR(st.st_mode)   ? "chr"
                     : S_ISBLK(st.st_mode) ? "blk"
                     : S_ISDIR(st.st_mode) ? "dir"
                     : S_ISREG(st.st_mode) ? "reg"
                     : S_ISLNK(st.st_mode) ? "lnk"
                     : S_ISFIFO(st.st_mode) ? "fifo"
                                            : "other";
  std::string out = kind + " " + mode;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    out += " " + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  out += " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
  if (S_ISLNK(st.st_mode)) {
    char buf[256] = {};
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n > 0) out += " -> " + std::string(buf, n);
  }
  return out;
}

std::string try_write(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return err_name(errno);
  std::string r = ::write(fd, "x", 1) == 1 ? "OK" : err_name(errno);
  ::close(fd);
  return r;
}

std::string try_mkdir(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0 ? "OK" : err_name(errno);
}

// Up to `limit` bytes (/dev/zero never ends).
std::string read_all(const std::string& path, size_t limit = 1 << 20) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "ERR " + err_name(errno);
  std::string s;
  char buf[4096];
  ssize_t n = 0;
  while (s.size() < limit && (n = ::read(fd, buf, std::min(sizeof buf, limit - s.size()))) > 0) s.append(buf, n);
  if (n < 0) s = "ERR " + err_name(errno);
  ::close(fd);
  return s;
}

std::string list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return "ERR " + err_name(errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::string out;
  for (auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string fs_magic(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return err_name(errno);
  switch (s.f_type) {
    case TMPFS_MAGIC: return "tmpfs";
    case PROC_SUPER_MAGIC: return "proc";
    case SYSFS_MAGIC: return "sysfs";
    case DEVPTS_SUPER_MAGIC: return "devpts";
    case 0x19800202: return "mqueue";  // MQUEUE_MAGIC, not in linux/magic.h
    case CGROUP_SUPER_MAGIC: return "cgroup";
    case CGROUP2_SUPER_MAGIC: return "cgroup2";
    default: return "other";
  }
}

bool readonly_mount(const std::string& path) {
  struct statvfs s {};
  return ::statvfs(path.c_str(), &s) == 0 && (s.f_flag & ST_RDONLY);
}

// "/"'s line of /proc/self/mountinfo inside the container.
std::string root_mountinfo() {
  std::istringstream in(read_all("/proc/self/mountinfo"));
  std::string last;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mnt;
    f >> id >> parent >> devno >> root >> mnt;
    if (mnt == "/") last = line;  // the topmost mount on "/" is listed last
  }
  return last;
}

// ---- harness ----

void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\n' ? std::string("\\n") : c == '\t' ? std::string("\\t") : std::string(1, c);
  return out;
}

// Runs the two rootfs phases as pid 1 of fresh namespaces, then `probe`.
// With `user_ns`, the namespaces belong to a new user namespace (root mapped
// to root), so the kernel's rules for less privileged mounts apply: locked
// mount flags, no mknod of devices.
// `locked_tmpfs`: before the user namespace, mount (in a private mount
// namespace of the child's) a read-only, nosuid, nodev, noexec tmpfs holding
// "file" there; the user namespace then sees those flags locked.
Outcome run_contained(const RootfsPlan& plan, const Probe& probe, bool user_ns = false,
                      const std::string& locked_tmpfs = "") {
  Outcome out;
  int p[2], go[2];
  if (::pipe2(p, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) {
    out.failure = "pipe";
    return out;
  }
  pid_t outer = ::fork();
  if (outer == 0) {
    ::close(p[0]);
    ::close(go[1]);
    if (!locked_tmpfs.empty()) {
      // Slave first: nothing mounted below may propagate to the host.
      if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
          ::mount("tmpfs", locked_tmpfs.c_str(), "tmpfs", 0, "size=1m") != 0)
        _exit(104);
      std::ofstream(locked_tmpfs + "/file") << "locked";
      if (::mount(nullptr, locked_tmpfs.c_str(), nullptr,
                  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        _exit(105);
    }
    if (user_ns) {
      if (::unshare(CLONE_NEWUSER) != 0) _exit(102);
      char c;
      if (::read(go[0], &c, 1) != 1) _exit(103);  // the parent wrote our maps
    }
    ::close(go[0]);
    if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                  CLONE_NEWCGROUP) != 0)
      _exit(100);
    pid_t init = ::fork();
    if (init < 0) _exit(101);
    if (init == 0) {
      ::alarm(60);  // a hang must not hang the suite
      ChildError err;
      int rc = rootfs_enter(plan, &err);
      if (rc == 0) rc = rootfs_finalize(plan, &err);
      write_all(p[1], &rc, sizeof rc);
      write_all(p[1], &err, sizeof err);
      if (rc == 0) {
        Facts facts;
        facts["pid"] = std::to_string(::getpid());
        probe(facts);
        std::string text;
        for (auto& [k, v] : facts) text += k + "\t" + escape(v) + "\n";
        write_all(p[1], text.data(), text.size());
      }
      _exit(0);
    }
    ::close(p[1]);
    int st = 0;
    ::waitpid(init, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
  ::close(p[1]);
  ::close(go[0]);
  if (user_ns) {
    // Map root to root (the whole range) once the child is in its user ns.
    std::string base = "/proc/" + std::to_string(outer);
    bool ok = false;
    for (int i = 0; i < 2000 && !ok; ++i) {
      std::string self_ns, child_ns;
      char a[64] = {}, b[64] = {};
      (void)!::readlink("/proc/self/ns/user", a, sizeof a - 1);
      (void)!::readlink((base + "/ns/user").c_str(), b, sizeof b - 1);
      if (std::strcmp(a, b) != 0 && b[0] != '\0') {
        ok = true;
        break;
      }
      ::usleep(1000);
    }
    std::ofstream(base + "/setgroups") << "allow";
    std::ofstream(base + "/uid_map") << "0 0 4294967295\n";
    std::ofstream(base + "/gid_map") << "0 0 4294967295\n";
    if (!ok) out.failure = "child never entered its user namespace";
    (void)!::write(go[1], "g", 1);
  }
  ::close(go[1]);
  std::string data;
  char buf[8192];
  for (;;) {
    struct pollfd pfd = {p[0], POLLIN, 0};
    if (::poll(&pfd, 1, 90000) <= 0) {
      out.failure = "timed out waiting for the contained child";
      ::kill(outer, SIGKILL);
      break;
    }
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, n);
  }
  ::close(p[0]);
  int st = 0;
  ::waitpid(outer, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    out.failure += " child exit status " + std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  if (data.size() < sizeof(int) + sizeof(ChildError)) {
    out.failure += " short report";
    return out;
  }
  std::memcpy(&out.rc, data.data(), sizeof(int));
  std::memcpy(&out.err, data.data() + sizeof(int), sizeof(ChildError));
  std::istringstream lines(data.substr(sizeof(int) + sizeof(ChildError)));
  for (std::string line; std::getline(lines, line);) {
    size_t tab = line.find('\t');
    if (tab != std::string::npos) out.facts[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

std::string host_dev_null() {
  struct stat st {};
  if (::stat("/dev/null", &st) != 0) return err_name(errno);
  return describe("/dev/null");
}

// The host mounts a broken rootfs setup could touch: "/" itself (its
// propagation), /proc, /sys, /dev, and anything at /stack-* or under
// /tmp/stack-* (our bundles, temp dirs and escape targets). Mounts elsewhere
// (/run/netns, /var/lib/containers ...) belong to whatever else runs on a
// developer's machine meanwhile and are left out, so the check cannot flake.
std::string watched_host_mounts() {
  std::istringstream in(test::read_file("/proc/self/mountinfo"));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mnt;
    f >> id >> parent >> devno >> root >> mnt;
    auto under = [&](const std::string& prefix) {
      return mnt == prefix || mnt.rfind(prefix + "/", 0) == 0;
    };
    if (mnt == "/" || under("/proc") || under("/sys") || under("/dev") || mnt.rfind("/stack-", 0) == 0 ||
        mnt.rfind("/tmp/stack-", 0) == 0)
      out += line + "\n";
  }
  return out;
}

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    host_mounts_ = watched_host_mounts();
    host_null_ = host_dev_null();
    ASSERT_EQ(host_null_.substr(0, 13), "chr 0666 1:3 ") << "host /dev/null is already broken";
  }
  void TearDown() override {
    if (host_mounts_.empty()) return;  // skipped
    EXPECT_EQ(watched_host_mounts(), host_mounts_) << "the host's mount table changed";
    EXPECT_EQ(host_dev_null(), host_null_) << "the host's /dev/null changed";
  }

  // The bundle's default (Docker-equivalent) spec, parsed as the runtime would.
  Spec default_spec_of(const test::Bundle& b) {
    auto s = parse_spec(b.config, "bundle config.json");
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? *s : Spec{};
  }

  RootfsPlanPtr plan(const Spec& spec, const std::string& rootfs, bool no_pivot = false,
                     bool in_user_ns = false) {
    RootfsOptions o;
    o.rootfs = rootfs;
    o.no_pivot = no_pivot;
    o.in_user_ns = in_user_ns;
    auto p = plan_rootfs(spec, o);
    EXPECT_TRUE(p) << (p ? "" : p.error().message());
    return p ? std::move(*p) : nullptr;
  }

  Outcome run_ok(const RootfsPlan& plan, const Probe& probe) {
    Outcome o = run_contained(plan, probe);
    EXPECT_EQ(o.failure, "");
    EXPECT_EQ(o.rc, 0) << o.err.what << ": " << std::strerror(o.err.code);
    return o;
  }

  std::string host_mounts_;
  std::string host_null_;
};

TEST_F(RootfsTest, DefaultSpecGivesAPrivateRootProcDevAndSys) {
  test::Bundle b;
  std::ofstream(b.rootfs() + "/marker") << "inside";
  Spec spec = default_spec_of(b);
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  const bool v2 = host_cgroup_is_unified();
  const std::string bundle_dir = b.dir();
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["marker"] = read_all("/marker");
    f["bundle_visible"] = ::access(bundle_dir.c_str(), F_OK) == 0 ? "yes" : "no";
    f["busybox"] = ::access("/bin/busybox", X_OK) == 0 ? "yes" : "no";
    char self[32] = {};
    (void)!::readlink("/proc/self", self, sizeof self - 1);
    f["proc_self"] = self;
    f["proc_fs"] = fs_magic("/proc");
    f["dev_fs"] = fs_magic("/dev");
    f["dev_null"] = describe("/dev/null");
    f["dev_zero"] = describe("/dev/zero");
    f["dev_full"] = describe("/dev/full");
    f["dev_random"] = describe("/dev/random");
    f["dev_urandom"] = describe("/dev/urandom");
    f["dev_tty"] = describe("/dev/tty");
    f["write_dev_null"] = try_write("/dev/null");
    f["read_dev_zero"] = read_all("/dev/zero", 4) == std::string(4, '\0') ? "zeros" : "other";
    f["dev_ptmx"] = describe("/dev/ptmx");
    f["dev_pts_ptmx"] = describe("/dev/pts/ptmx");
    f["dev_pts_fs"] = fs_magic("/dev/pts");
    f["dev_fd"] = describe("/dev/fd");
    f["dev_stdin"] = describe("/dev/stdin");
    f["dev_stderr"] = describe("/dev/stderr");
    f["dev_shm_fs"] = fs_magic("/dev/shm");
    f["dev_shm_write"] = try_write("/dev/shm/x");
    f["dev_mqueue_fs"] = fs_magic("/dev/mqueue");
    f["kcore"] = read_all("/proc/kcore");
    f["keys"] = read_all("/proc/keys");
    f["interrupts"] = read_all("/proc/interrupts");
    f["sys_firmware"] = list_dir("/sys/firmware");
    f["sys_firmware_write"] = try_mkdir("/sys/firmware/x");
    f["proc_sys_write"] = try_write("/proc/sys/kernel/domainname");
    f["sysrq_write"] = try_write("/proc/sysrq-trigger");
    f["sys_fs"] = fs_magic("/sys");
    f["sys_ro"] = readonly_mount("/sys") ? "ro" : "rw";
    f["sys_net"] = list_dir("/sys/class/net");
    f["cgroup_ro"] = readonly_mount("/sys/fs/cgroup") ? "ro" : "rw";
    f["cgroup_fs"] = fs_magic("/sys/fs/cgroup");
    f["cgroup_ls"] = list_dir("/sys/fs/cgroup");
    f["cgroup_mkdir"] = try_mkdir("/sys/fs/cgroup/x");
    if (!v2) {
      f["cgroup_memory_fs"] = fs_magic("/sys/fs/cgroup/memory");
      f["cgroup_memory_procs"] = ::access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0 ? "yes" : "no";
      f["cgroup_memory_ro"] = readonly_mount("/sys/fs/cgroup/memory") ? "ro" : "rw";
    }
    f["root_write"] = try_write("/etc/x");
  });
  ASSERT_EQ(o.rc, 0);
  auto& f = o.facts;
  EXPECT_EQ(f["pid"], "1");
  EXPECT_EQ(f["marker"], "inside");
  EXPECT_EQ(f["bundle_visible"], "no");
  EXPECT_EQ(f["busybox"], "yes");
  EXPECT_EQ(f["proc_self"], "1");
  EXPECT_EQ(f["proc_fs"], "proc");
  EXPECT_EQ(f["dev_fs"], "tmpfs");
  EXPECT_EQ(f["dev_null"], "chr 0666 1:3 0:0");
  EXPECT_EQ(f["dev_zero"], "chr 0666 1:5 0:0");
  EXPECT_EQ(f["dev_full"], "chr 0666 1:7 0:0");
  EXPECT_EQ(f["dev_random"], "chr 0666 1:8 0:0");
  EXPECT_EQ(f["dev_urandom"], "chr 0666 1:9 0:0");
  EXPECT_EQ(f["dev_tty"], "chr 0666 5:0 0:0");
  EXPECT_EQ(f["write_dev_null"], "OK");
  EXPECT_EQ(f["read_dev_zero"], "zeros");
  EXPECT_EQ(f["dev_ptmx"], "lnk 0777 0:0 -> pts/ptmx");
  EXPECT_EQ(f["dev_pts_ptmx"].substr(0, 14), "chr 0666 5:2 0") << f["dev_pts_ptmx"];
  EXPECT_EQ(f["dev_pts_fs"], "devpts");
  EXPECT_EQ(f["dev_fd"], "lnk 0777 0:0 -> /proc/self/fd");
  EXPECT_EQ(f["dev_stdin"], "lnk 0777 0:0 -> /proc/self/fd/0");
  EXPECT_EQ(f["dev_stderr"], "lnk 0777 0:0 -> /proc/self/fd/2");
  EXPECT_EQ(f["dev_shm_fs"], "tmpfs");
  EXPECT_EQ(f["dev_shm_write"], "OK");
  EXPECT_EQ(f["dev_mqueue_fs"], "mqueue");
  // Masked files read empty; absent ones (no /proc/kcore here) stay absent.
  if (fs::exists("/proc/kcore")) {
    EXPECT_EQ(f["kcore"], "");
  } else {
    EXPECT_EQ(f["kcore"], "ERR ENOENT");
  }
  EXPECT_EQ(f["keys"], "");
  EXPECT_EQ(f["interrupts"], "");
  EXPECT_EQ(f["sys_firmware"], "");
  EXPECT_EQ(f["sys_firmware_write"], "EROFS");
  EXPECT_EQ(f["proc_sys_write"], "EROFS");
  EXPECT_EQ(f["sysrq_write"], fs::exists("/proc/sysrq-trigger") ? "EROFS" : "ENOENT");
  EXPECT_EQ(f["sys_fs"], "sysfs");
  EXPECT_EQ(f["sys_ro"], "ro");
  EXPECT_EQ(f["sys_net"], "lo");  // the new network namespace's sysfs
  EXPECT_EQ(f["cgroup_ro"], "ro");
  EXPECT_EQ(f["cgroup_mkdir"], "EROFS");
  if (v2) {
    EXPECT_EQ(f["cgroup_fs"], "cgroup2");
  } else {
    EXPECT_EQ(f["cgroup_fs"], "tmpfs");
    EXPECT_NE(f["cgroup_ls"].find("memory"), std::string::npos) << f["cgroup_ls"];
    EXPECT_EQ(f["cgroup_memory_fs"], "cgroup");
    EXPECT_EQ(f["cgroup_memory_procs"], "yes");
    EXPECT_EQ(f["cgroup_memory_ro"], "ro");
  }
  EXPECT_EQ(f["root_write"], "OK");  // root.readonly is false by default
  // The devices were made in the container's /dev tmpfs, not in the image.
  EXPECT_FALSE(fs::exists(b.rootfs() + "/dev/null"));
}

TEST_F(RootfsTest, ReadonlyRootLeavesTmpfsMountsWritable) {
  test::Bundle b;
  Spec spec = default_spec_of(b);
  spec.root.readonly = true;
  spec.mounts.push_back({"/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}});
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["etc_write"] = try_write("/etc/x");
    f["root_mkdir"] = try_mkdir("/newdir");
    f["tmp_write"] = try_write("/tmp/x");
    f["tmp_fs"] = fs_magic("/tmp");
    f["shm_write"] = try_write("/dev/shm/x");
    f["dev_null_write"] = try_write("/dev/null");
    f["passwd"] = read_all("/etc/passwd").substr(0, 5);
  });
  auto& f = o.facts;
  EXPECT_EQ(f["etc_write"], "EROFS");
  EXPECT_EQ(f["root_mkdir"], "EROFS");
  EXPECT_EQ(f["tmp_fs"], "tmpfs");
  EXPECT_EQ(f["tmp_write"], "OK");
  EXPECT_EQ(f["shm_write"], "OK");
  EXPECT_EQ(f["dev_null_write"], "OK");
  EXPECT_EQ(f["passwd"], "root:");
  EXPECT_FALSE(fs::exists(b.rootfs() + "/etc/x"));
}

TEST_F(RootfsTest, BindMountsOfHostPathsHonourReadOnly) {
  test::Bundle b;
  test::TempDir host("stack-rootfs-bind");
  std::ofstream(host.path() + "/hello") << "from host";
  std::ofstream(host.path() + "/single") << "one file";
  Spec spec = default_spec_of(b);
  spec.mounts.push_back({"/mnt/ro", "bind", host.path(), {"rbind", "ro", "nosuid", "nodev"}});
  spec.mounts.push_back({"/mnt/rw", "", host.path(), {"bind"}});
  spec.mounts.push_back({"/etc/single", "bind", host.path() + "/single", {"rbind", "ro"}});
  spec.mounts.push_back({"/mnt/rro", "bind", host.path(), {"rbind", "rro"}});
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["ro_read"] = read_all("/mnt/ro/hello");
    f["ro_write"] = try_write("/mnt/ro/new");
    f["ro_flag"] = readonly_mount("/mnt/ro") ? "ro" : "rw";
    struct statvfs s {};
    ::statvfs("/mnt/ro", &s);
    f["ro_nosuid_nodev"] = (s.f_flag & ST_NOSUID) && (s.f_flag & ST_NODEV) ? "yes" : "no";
    f["rw_write"] = try_write("/mnt/rw/written-inside");
    f["single"] = read_all("/etc/single");
    f["single_kind"] = describe("/etc/single").substr(0, 3);
    f["single_write"] = try_write("/etc/single");
    f["rro_write"] = try_write("/mnt/rro/new");
  });
  auto& f = o.facts;
  EXPECT_EQ(f["ro_read"], "from host");
  EXPECT_EQ(f["ro_write"], "EROFS");
  EXPECT_EQ(f["ro_flag"], "ro");
  EXPECT_EQ(f["ro_nosuid_nodev"], "yes");
  EXPECT_EQ(f["rw_write"], "OK");
  EXPECT_EQ(f["single"], "one file");
  EXPECT_EQ(f["single_kind"], "reg");
  EXPECT_EQ(f["single_write"], "EROFS");
  EXPECT_EQ(f["rro_write"], "EROFS");
  // A rw bind writes through to the host directory; the ro one did not.
  EXPECT_EQ(test::read_file(host.path() + "/written-inside"), "x");
  EXPECT_FALSE(fs::exists(host.path() + "/new"));
  EXPECT_EQ(test::read_file(host.path() + "/single"), "one file");
}

TEST_F(RootfsTest, SymlinksInTheImageCannotPlaceMountsOnTheHost) {
  test::Bundle b;
  test::TempDir host("stack-rootfs-escape");
  std::ofstream(host.path() + "/payload") << "bound";
  const std::string name = "stack-escape-" + std::to_string(::getpid());
  const std::string name2 = "stack-escape2-" + std::to_string(::getpid());
  // /etc -> / (absolute) and /link -> ../../../../tmp (relative, climbing).
  fs::remove_all(b.rootfs() + "/etc");
  fs::create_directory_symlink("/", b.rootfs() + "/etc");
  fs::create_directory_symlink("../../../../tmp", b.rootfs() + "/link");
  Spec spec = default_spec_of(b);
  spec.mounts.push_back({"/etc/" + name, "bind", host.path(), {"rbind", "ro"}});
  spec.mounts.push_back({"/link/" + name2, "tmpfs", "tmpfs", {"size=1m"}});
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["via_link"] = read_all("/etc/" + name + "/payload");
    f["at_root"] = read_all("/" + name + "/payload");
    f["tmp_fs"] = fs_magic("/tmp/" + name2);
  });
  auto& f = o.facts;
  EXPECT_EQ(f["via_link"], "bound");
  EXPECT_EQ(f["at_root"], "bound");
  EXPECT_EQ(f["tmp_fs"], "tmpfs");
  EXPECT_TRUE(fs::is_directory(b.rootfs() + "/" + name));
  EXPECT_TRUE(fs::is_directory(b.rootfs() + "/tmp/" + name2));
  std::error_code ec;
  EXPECT_FALSE(fs::exists("/" + name));
  EXPECT_FALSE(fs::exists("/etc/" + name));  // resolved against the host's root instead of the rootfs
  EXPECT_FALSE(fs::exists("/tmp/" + name2));
  // Only present if the code under test is broken; never leave it behind.
  fs::remove("/" + name, ec);
  fs::remove("/etc/" + name, ec);
  fs::remove("/tmp/" + name2, ec);
}

TEST_F(RootfsTest, MaskedAndReadonlyPathsOfTheSpec) {
  test::Bundle b;
  fs::create_directories(b.rootfs() + "/srv/secret");
  std::ofstream(b.rootfs() + "/srv/secret/key") << "k";
  std::ofstream(b.rootfs() + "/srv/token") << "t";
  fs::create_directories(b.rootfs() + "/opt/data");
  Spec spec = default_spec_of(b);
  spec.linux.masked_paths = {"/srv/secret", "/srv/token", "/srv/missing"};
  spec.linux.readonly_paths = {"/opt", "/opt/missing"};
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["secret_ls"] = list_dir("/srv/secret");
    f["secret_write"] = try_write("/srv/secret/new");
    f["token"] = read_all("/srv/token");
    f["token_write"] = try_write("/srv/token");
    f["missing"] = describe("/srv/missing");
    f["opt_write"] = try_write("/opt/data/x");
    f["opt_missing"] = describe("/opt/missing");
    f["srv_write"] = try_write("/srv/other");
  });
  auto& f = o.facts;
  EXPECT_EQ(f["secret_ls"], "");
  EXPECT_EQ(f["secret_write"], "EROFS");
  EXPECT_EQ(f["token"], "");
  EXPECT_EQ(f["token_write"], "OK");  // it is /dev/null now
  EXPECT_EQ(f["missing"], "ENOENT");
  EXPECT_EQ(f["opt_write"], "EROFS");
  EXPECT_EQ(f["opt_missing"], "ENOENT");
  EXPECT_EQ(f["srv_write"], "OK");
  EXPECT_EQ(test::read_file(b.rootfs() + "/srv/token"), "t");
  EXPECT_EQ(test::read_file(b.rootfs() + "/srv/secret/key"), "k");
}

TEST_F(RootfsTest, SpecDevicesAreCreatedInsideOnly) {
  test::Bundle b;
  Spec spec = default_spec_of(b);
  Device fuse{"/dev/fuse", "c", 10, 229, 0600, 1000, 1001};
  Device tun{"/dev/net/tun", "c", 10, 200};
  Device fifo{"/dev/myfifo", "p", 0, 0, 0620};
  spec.linux.devices = {fuse, tun, fifo};
  const std::string host_fuse = describe("/dev/fuse");
  const std::string host_tun = describe("/dev/net/tun");
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["fuse"] = describe("/dev/fuse");
    f["tun"] = describe("/dev/net/tun");
    f["fifo"] = describe("/dev/myfifo");
  });
  EXPECT_EQ(o.facts["fuse"], "chr 0600 10:229 1000:1001");
  EXPECT_EQ(o.facts["tun"], "chr 0666 10:200 0:0");
  EXPECT_EQ(o.facts["fifo"], "fifo 0620 0:0");
  EXPECT_EQ(describe("/dev/fuse"), host_fuse);
  EXPECT_EQ(describe("/dev/net/tun"), host_tun);
  EXPECT_FALSE(fs::exists("/dev/myfifo"));
}

TEST_F(RootfsTest, UserNamespaceModeBindsTheHostNodes) {
  test::Bundle b;
  Spec spec = default_spec_of(b);
  auto p = plan(spec, b.rootfs(), false, /*in_user_ns=*/true);
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["null"] = describe("/dev/null");
    f["null_write"] = try_write("/dev/null");
    std::string mi = read_all("/proc/self/mountinfo");
    f["null_is_mount"] = mi.find(" /dev/null ") != std::string::npos ? "yes" : "no";
  });
  EXPECT_EQ(o.facts["null"], host_null_);
  EXPECT_EQ(o.facts["null_write"], "OK");
  EXPECT_EQ(o.facts["null_is_mount"], "yes");
}

bool can_make_user_ns() {
  pid_t pid = ::fork();
  if (pid == 0) _exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

TEST_F(RootfsTest, InsideAUserNamespaceLockedFlagsAndDevicesStillWork) {
  if (!can_make_user_ns()) GTEST_SKIP() << "user namespaces are disabled on this kernel";
  test::Bundle b;
  test::TempDir host("stack-rootfs-userns");
  test::TempDir locked("stack-rootfs-locked");
  std::ofstream(host.path() + "/hello") << "hi";
  Spec spec = default_spec_of(b);
  spec.root.readonly = true;
  spec.mounts.push_back({"/mnt/ro", "bind", host.path(), {"rbind", "ro"}});
  spec.mounts.push_back({"/mnt/tmp", "tmpfs", "tmpfs", {"size=1m"}});
  // Asking for only nosuid on a mount whose ro/nodev/noexec are locked: the
  // first remount is refused, the retry keeps the locked flags.
  spec.mounts.push_back({"/mnt/locked", "bind", locked.path(), {"rbind", "nosuid"}});
  auto p = plan(spec, b.rootfs(), false, /*in_user_ns=*/true);
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [&](Facts& f) {
    f["null"] = describe("/dev/null");
    f["null_write"] = try_write("/dev/null");
    f["proc_self"] = read_all("/proc/self/stat").substr(0, 2);
    f["root_write"] = try_write("/etc/x");
    f["ro_read"] = read_all("/mnt/ro/hello");
    f["ro_write"] = try_write("/mnt/ro/x");
    f["tmp_write"] = try_write("/mnt/tmp/x");
    f["sys_ro"] = readonly_mount("/sys") ? "ro" : "rw";
    f["proc_sys_write"] = try_write("/proc/sys/kernel/domainname");
    f["keys"] = read_all("/proc/keys");
    f["locked_read"] = read_all("/mnt/locked/file");
    struct statvfs v {};
    ::statvfs("/mnt/locked", &v);
    f["locked_flags"] = std::string((v.f_flag & ST_RDONLY) ? "ro" : "rw") +
                        ((v.f_flag & ST_NOSUID) ? ",nosuid" : "") + ((v.f_flag & ST_NODEV) ? ",nodev" : "") +
                        ((v.f_flag & ST_NOEXEC) ? ",noexec" : "");
  }, /*user_ns=*/true, locked.path());
  ASSERT_EQ(o.failure, "");
  ASSERT_EQ(o.rc, 0) << o.err.what << ": " << std::strerror(o.err.code);
  auto& f = o.facts;
  EXPECT_EQ(f["null"].substr(0, 12), "chr 0666 1:3");
  EXPECT_EQ(f["null_write"], "OK");
  EXPECT_EQ(f["proc_self"], "1 ");
  EXPECT_EQ(f["root_write"], "EROFS");
  EXPECT_EQ(f["ro_read"], "hi");
  EXPECT_EQ(f["ro_write"], "EROFS");
  EXPECT_EQ(f["tmp_write"], "OK");
  EXPECT_EQ(f["sys_ro"], "ro");
  EXPECT_EQ(f["proc_sys_write"], "EROFS");
  EXPECT_EQ(f["keys"], "");
  EXPECT_EQ(f["locked_read"], "locked");
  EXPECT_EQ(f["locked_flags"], "ro,nosuid,nodev,noexec");
}

TEST_F(RootfsTest, NoPivotMovesTheRootfsAndChroots) {
  test::Bundle b;
  std::ofstream(b.rootfs() + "/marker") << "moved";
  const std::string bundle_dir = b.dir();
  Spec spec = default_spec_of(b);
  auto p = plan(spec, b.rootfs(), /*no_pivot=*/true);
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["marker"] = read_all("/marker");
    f["bundle_visible"] = ::access(bundle_dir.c_str(), F_OK) == 0 ? "yes" : "no";
    f["dev_null"] = describe("/dev/null");
  });
  EXPECT_EQ(o.facts["marker"], "moved");
  EXPECT_EQ(o.facts["bundle_visible"], "no");
  EXPECT_EQ(o.facts["dev_null"], "chr 0666 1:3 0:0");
}

TEST_F(RootfsTest, RootfsPropagationIsAppliedToTheNewRoot) {
  test::Bundle b;
  Spec spec = default_spec_of(b);
  spec.linux.rootfs_propagation = "rshared";
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [&](Facts& f) { f["root"] = root_mountinfo(); });
  EXPECT_NE(o.facts["root"].find(" shared:"), std::string::npos) << o.facts["root"];

  spec.linux.rootfs_propagation = "rprivate";
  auto q = plan(spec, b.rootfs());
  ASSERT_TRUE(q);
  Outcome r = run_ok(*q, [&](Facts& f) { f["root"] = root_mountinfo(); });
  EXPECT_EQ(r.facts["root"].find(" shared:"), std::string::npos) << r.facts["root"];
  EXPECT_EQ(r.facts["root"].find(" master:"), std::string::npos) << r.facts["root"];
}

TEST_F(RootfsTest, MissingRootfsFailsNamingThePath) {
  test::TempDir d("stack-rootfs-gone");
  const std::string rootfs = d.path() + "/rootfs";
  fs::create_directory(rootfs);
  Spec spec;
  spec.mounts = {{"/proc", "proc", "proc", {}}};
  auto p = plan(spec, rootfs);
  ASSERT_TRUE(p);
  fs::remove(rootfs);  // gone between plan and start
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, ENOENT);
  EXPECT_NE(std::string(o.err.what).find(rootfs), std::string::npos) << o.err.what;
}

TEST_F(RootfsTest, BadMountFailsWithTheDestinationNamed) {
  test::Bundle b;
  Spec spec = default_spec_of(b);
  spec.mounts.push_back({"/weird", "nosuchfs", "none", {}});
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, ENODEV);
  EXPECT_STREQ(o.err.what, "mount nosuchfs on /weird");
}

}  // namespace
}  // namespace stack::rt
