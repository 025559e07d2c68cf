// The container filesystem in the other modes: user namespaces (locked
// flags, bound devices), --no-pivot, root propagation, and errors.
// See tests/support/rootfs_harness.h for how each test runs.
#include "tests/support/rootfs_harness.h"

namespace stack::rt {
namespace {

using namespace rootfs_harness;

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
