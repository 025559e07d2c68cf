// CVE regression tests (security issue 10): mounts and writes that an image
// or a shared volume could steer onto or away from the container's /proc.
//   CVE-2019-19921  a volume whose mount point is a symlink to /proc covers
//                   the container's procfs;
//   CVE-2023-27561  /proc itself a symlink: proc lands where the symlink
//                   pointed, later lookups of /proc/sys land elsewhere;
//   CVE-2025-52881  the runtime's own writes to /proc files (sysctls)
//                   redirected by a mount over them.
// Each test shows the naive operation reaching the attacker's file first
// (the positive control, in a scratch mount namespace), then ours refusing.
#include <cstdio>

#include "runtime/kernel/safe_path.h"
#include "tests/support/cve_fixture.h"

namespace stack::rt {
namespace {

using namespace rootfs_harness;
using test::in_scratch_mount_ns;
using test::read_file;

// The runtime's bind of `source` on an fd resolved inside `rootfs`: what
// every runtime since the 2019 fixes does, minus the check of what is there.
int bind_in_root(const std::string& rootfs, const std::string& dest, const std::string& source) {
  auto target = open_in_root(rootfs, dest, CreateMode::kNone);
  if (!target) return 1;
  return ::mount(source.c_str(), fd_path(target->get()).c_str(), nullptr, MS_BIND, nullptr) == 0 ? 0 : 2;
}

// ---------------------------------------------------------- CVE-2019-19921

class CVE_2019_19921 : public CveTest {
 protected:
  // A volume holding a fake procfs: what a malicious image copies into it.
  void make_fake_proc(const std::string& vol) {
    fs::create_directories(vol + "/sys/net/ipv4");
    std::ofstream(vol + "/sys/net/ipv4/ip_unprivileged_port_start") << "decoy";
  }
};

TEST_F(CVE_2019_19921, AVolumeOnASymlinkToProcCannotCoverTheContainersProcfs) {
  test::Bundle b;
  test::TempDir vol("stack-rootfs-vol");
  make_fake_proc(vol.path());
  const std::string fake = vol.path() + "/sys/net/ipv4/ip_unprivileged_port_start";
  fs::create_directory_symlink("/proc", b.rootfs() + "/evil");

  // Positive control: resolving the destination inside the root is not
  // enough. /evil leads to the container's /proc, the volume covers its
  // procfs, and the runtime's sysctl write lands in the volume's file.
  int control = in_scratch_mount_ns([&] {
    const std::string proc = b.rootfs() + "/proc";
    if (::mount("proc", proc.c_str(), "proc", 0, nullptr) != 0) return 10;
    if (int rc = bind_in_root(b.rootfs(), "/evil", vol.path())) return 10 + rc;
    std::ofstream(proc + "/sys/net/ipv4/ip_unprivileged_port_start") << "1024";
    return test::fs_type(proc) == PROC_SUPER_MAGIC ? 20 : 0;
  });
  ASSERT_EQ(control, 0);
  EXPECT_EQ(read_file(fake), "1024") << "the control's write should have reached the volume";
  std::ofstream(fake) << "decoy";

  Spec spec = spec_of(b, [&](Spec& s) {
    s.mounts.push_back({"/evil", "bind", vol.path(), {"rbind"}});
    s.linux.sysctl["net.ipv4.ip_unprivileged_port_start"] = "1024";
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, EPERM) << o.err.what;
  EXPECT_TRUE(test::contains(o.err.what, "mount on /evil: it resolves into /proc")) << o.err.what;
  EXPECT_EQ(read_file(fake), "decoy");
}

TEST_F(CVE_2019_19921, TheUserSeesWhyTheVolumeWasRefused) {
  test::Bundle b;
  test::TempDir vol("stack-rootfs-vol");
  make_fake_proc(vol.path());
  fs::create_directory_symlink("../proc", b.rootfs() + "/evil");
  b.config["mounts"].push_back({{"destination", "/evil"}, {"type", "bind"}, {"source", vol.path()},
                                {"options", {"rbind"}}});
  test::CmdResult r = runtime_run(b, {"true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("mount on /evil: it resolves into /proc, where only proc may be mounted"), std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(vol.path() + "/sys/net/ipv4/ip_unprivileged_port_start"), "decoy");
}

TEST_F(CVE_2019_19921, DestinationsInsideProcAreForProcOrTheLxcfsFiles) {
  test::Bundle b;
  test::TempDir vol("stack-rootfs-vol");
  std::ofstream(vol.path() + "/cpuinfo") << "lxcfs view";
  // The first form: a volume (an image VOLUME) at /proc itself.
  for (const char* dest : {"/proc", "/proc/sys", "/proc/self/attr"}) {
    Spec spec = spec_of(b, [&](Spec& s) { s.mounts.push_back({dest, "bind", vol.path(), {"rbind"}}); });
    RootfsOptions o;
    o.rootfs = b.rootfs();
    auto p = plan_rootfs(spec, o);
    ASSERT_FALSE(p) << dest;
    EXPECT_EQ(p.error().code, EPERM);
    EXPECT_NE(p.error().message().find("cannot be mounted because it is"), std::string::npos) << p.error().message();
  }
  // The host's procfs bound as /proc is still accepted, as runc does.
  Spec host_proc = spec_of(b, [](Spec& s) {
    std::erase_if(s.mounts, [](const Mount& m) { return m.destination == "/proc"; });
    s.mounts.insert(s.mounts.begin(), Mount{"/proc", "bind", "/proc", {"rbind"}});
  });
  EXPECT_TRUE(plan(host_proc, b.rootfs()));
  // And what lxcfs replaces still works.
  Spec spec = spec_of(b, [&](Spec& s) {
    s.mounts.push_back({"/proc/cpuinfo", "bind", vol.path() + "/cpuinfo", {"bind", "ro"}});
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [](Facts& f) { f["cpuinfo"] = read_all("/proc/cpuinfo"); });
  EXPECT_EQ(o.facts["cpuinfo"], "lxcfs view");
}

// ---------------------------------------------------------- CVE-2023-27561

class CVE_2023_27561 : public CveTest {
 protected:
  // /proc -> /evil/level1, as in the runc report; /evil/decoy has a fake sys.
  void symlink_proc(const std::string& rootfs) {
    fs::remove_all(rootfs + "/proc");
    fs::create_directories(rootfs + "/evil/level1");
    fs::create_directories(rootfs + "/evil/decoy/sys");
    fs::create_directory_symlink("/evil/level1", rootfs + "/proc");
  }
};

TEST_F(CVE_2023_27561, ASymlinkedProcIsRefusedBeforeAnythingIsMounted) {
  test::Bundle b;
  symlink_proc(b.rootfs());

  // Positive control: following the symlink (inside the root) for the proc
  // mount, then once more for the read-only /proc/sys. The attacker swaps
  // the symlink in between (a container sharing the volume swaps a
  // directory on the path); the second lookup finds the decoy, and the real
  // /proc/sys stays writable.
  int control = in_scratch_mount_ns([&] {
    auto proc = open_in_root(b.rootfs(), "/proc", CreateMode::kNone);
    if (!proc || ::mount("proc", fd_path(proc->get()).c_str(), "proc", 0, nullptr) != 0) return 10;
    const std::string tmp = b.rootfs() + "/evil/next";
    ::symlink("/evil/decoy", tmp.c_str());
    if (::rename(tmp.c_str(), (b.rootfs() + "/proc").c_str()) != 0) return 11;
    auto sys = open_in_root(b.rootfs(), "/proc/sys", CreateMode::kNone);
    if (!sys) return 12;
    struct statfs s {};
    ::fstatfs(sys->get(), &s);
    const bool decoy = s.f_type != PROC_SUPER_MAGIC;
    const bool real_writable = !readonly_mount(b.rootfs() + "/evil/level1/sys");
    return decoy && real_writable ? 0 : 20;
  });
  EXPECT_EQ(control, 0);
  fs::remove(b.rootfs() + "/proc");
  fs::create_directory_symlink("/evil/level1", b.rootfs() + "/proc");

  auto p = plan(spec_of(b), b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, ELOOP) << o.err.what;
  EXPECT_TRUE(test::contains(o.err.what, "proc must be mounted on an ordinary directory, not through a symlink: /proc"))
      << o.err.what;
}

TEST_F(CVE_2023_27561, ASymlinkedSysIsRefusedToo) {
  test::Bundle b;
  fs::remove_all(b.rootfs() + "/sys");
  fs::create_directories(b.rootfs() + "/evil/sys");
  fs::create_directory_symlink("evil/sys", b.rootfs() + "/sys");
  auto p = plan(spec_of(b), b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, ELOOP) << o.err.what;
  EXPECT_TRUE(test::contains(o.err.what, "sysfs must be mounted on an ordinary directory")) << o.err.what;
}

TEST_F(CVE_2023_27561, TheUserSeesWhyTheImageWasRefused) {
  test::Bundle b;
  symlink_proc(b.rootfs());
  test::CmdResult r = runtime_run(b, {"true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("proc must be mounted on an ordinary directory, not through a symlink: /proc"),
            std::string::npos)
      << r.err;
}

// ---------------------------------------------------------- CVE-2025-52881

class CVE_2025_52881 : public CveTest {};

TEST_F(CVE_2025_52881, ASysctlWriteIsNotRedirectedByAMountOverTheFile) {
  test::Bundle b;
  test::TempDir host("stack-rootfs-decoy");
  const std::string decoy = host.path() + "/ns_last_pid";
  std::ofstream(decoy) << "decoy";

  // Positive control: writing the sysctl by path after a bind over the
  // procfs file (here from the spec; a racing volume does it in the attack)
  // writes the host file instead of the kernel's value.
  int control = in_scratch_mount_ns([&] {
    if (::mount(decoy.c_str(), "/proc/sys/kernel/ns_last_pid", nullptr, MS_BIND, nullptr) != 0) return 10;
    std::ofstream("/proc/sys/kernel/ns_last_pid") << "4242";
    return 0;
  });
  ASSERT_EQ(control, 0);
  EXPECT_EQ(read_file(decoy), "4242") << "the control's write should have reached the host file";
  std::ofstream(decoy) << "decoy";

  // /proc/sys/kernel/ns_last_pid is one of the files a bind may cover (as
  // lxcfs does), so only the write's own check stands in the way.
  Spec spec = spec_of(b, [&](Spec& s) {
    s.mounts.push_back({"/proc/sys/kernel/ns_last_pid", "bind", decoy, {"bind"}});
    s.linux.sysctl["kernel.ns_last_pid"] = "4242";
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, EXDEV) << o.err.what;
  EXPECT_TRUE(test::contains(o.err.what, "write sysctl kernel.ns_last_pid: open /proc/sys/kernel/ns_last_pid"))
      << o.err.what;
  EXPECT_EQ(read_file(decoy), "decoy");

  b.config["mounts"].push_back({{"destination", "/proc/sys/kernel/ns_last_pid"}, {"type", "bind"},
                                {"source", decoy}, {"options", {"bind"}}});
  b.config["linux"]["sysctl"] = {{"kernel.ns_last_pid", "4242"}};
  test::CmdResult r = runtime_run(b, {"true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("write sysctl kernel.ns_last_pid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Invalid cross-device link"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(decoy), "decoy");
}

TEST_F(CVE_2025_52881, ASysctlNeedsARealProcfsAtProc) {
  test::Bundle b;
  // An image with a fake /proc tree and a spec without a proc mount: a
  // write by path lands in the image's file and reports success.
  fs::create_directories(b.rootfs() + "/proc/sys/net/ipv4");
  const std::string fake = b.rootfs() + "/proc/sys/net/ipv4/ip_unprivileged_port_start";
  std::ofstream(fake) << "fake";
  Spec spec = spec_of(b, [](Spec& s) {
    std::erase_if(s.mounts, [](const Mount& m) { return m.destination == "/proc"; });
    s.linux.masked_paths.clear();
    s.linux.readonly_paths.clear();
    s.linux.sysctl["net.ipv4.ip_unprivileged_port_start"] = "80";
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, EXDEV) << o.err.what;
  EXPECT_TRUE(test::contains(o.err.what, "/proc is not the root of a procfs mount")) << o.err.what;
  EXPECT_EQ(read_file(fake), "fake");
}

TEST_F(CVE_2025_52881, MasksAreNotMisdirectedByAFakeProc) {
  test::Bundle b;
  // Masking mounts through /proc/self/fd/N. An image /proc whose self/fd/N
  // are plain symlinks to /decoy (and a spec without a proc mount) sends
  // those mounts to /decoy and leaves the masked directory readable.
  fs::create_directories(b.rootfs() + "/proc/self/fd");
  for (int fd = 0; fd < 64; ++fd) fs::create_symlink("/decoy", b.rootfs() + "/proc/self/fd/" + std::to_string(fd));
  fs::create_directories(b.rootfs() + "/decoy");
  fs::create_directories(b.rootfs() + "/srv/secret");
  std::ofstream(b.rootfs() + "/srv/secret/key") << "k";

  // Positive control: the mask by /proc/self/fd name, inside that root.
  int control = in_scratch_mount_ns([&] {
    if (::chroot(b.rootfs().c_str()) != 0 || ::chdir("/") != 0) return 10;
    UniqueFd target(::open("/srv/secret", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!target || ::mount("tmpfs", fd_path(target.get()).c_str(), "tmpfs", MS_RDONLY, nullptr) != 0) return 11;
    return fs::exists("/srv/secret/key") && test::fs_type("/decoy") == TMPFS_MAGIC ? 0 : 20;
  });
  EXPECT_EQ(control, 0) << "the control's mask should have landed on /decoy";

  Spec spec = spec_of(b, [](Spec& s) {
    std::erase_if(s.mounts, [](const Mount& m) { return m.destination == "/proc"; });
    s.linux.masked_paths = {"/srv/secret"};
    s.linux.readonly_paths.clear();
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_contained(*p, [](Facts&) {});
  EXPECT_EQ(o.rc, EXDEV) << o.err.what;
  EXPECT_TRUE(test::contains(o.err.what, "/proc is not the root of a procfs mount")) << o.err.what;
}

TEST_F(CVE_2025_52881, VerifiedSysctlWritesStillReachTheKernel) {
  test::Bundle b;
  const std::string host_before = read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  Spec spec = spec_of(b, [](Spec& s) { s.linux.sysctl["net.ipv4.ip_unprivileged_port_start"] = "80"; });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, [](Facts& f) { f["port"] = read_all("/proc/sys/net/ipv4/ip_unprivileged_port_start"); });
  EXPECT_EQ(o.facts["port"], "80\\n");
  EXPECT_EQ(read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start"), host_before);
}

}  // namespace
}  // namespace stack::rt
