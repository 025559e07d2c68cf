#include "tests/support/rootfs_harness.h"

namespace stack::rt::rootfs_harness {

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
std::string read_all(const std::string& path, size_t limit) {
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
Outcome run_contained(const RootfsPlan& plan, const Probe& probe, bool user_ns,
                      const std::string& locked_tmpfs) {
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
    // Only the rootfs tests' own temp dirs (bundles: stack-test-*, their
    // host dirs: stack-rootfs-*): tests running beside them in parallel
    // mount under their own prefixes (netns under stack-nm-*, overlays
    // under stack-node-*), and those are not leaks of this test.
    if (mnt == "/" || under("/proc") || under("/sys") || under("/dev") || mnt.rfind("/stack-", 0) == 0 ||
        mnt.rfind("/tmp/stack-test-", 0) == 0 || mnt.rfind("/tmp/stack-rootfs-", 0) == 0)
      out += line + "\n";
  }
  return out;
}


}  // namespace stack::rt::rootfs_harness
