// The container filesystem from a spec: proc, dev, sys, binds, masked and
// read-only paths, devices, and symlinks in the image that try to escape.
// See tests/support/rootfs_harness.h for how each test runs.
#include "tests/support/rootfs_harness.h"

namespace stack::rt {
namespace {

using namespace rootfs_harness;

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

}  // namespace
}  // namespace stack::rt
