// The parent half of the rootfs module: path cleaning, in-root resolution
// (no privileges needed: plain directories and symlinks in a temp dir), the
// host cgroup v1 layout parser, device planning and plan_rootfs validation.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/kernel/devices.h"
#include "runtime/kernel/rootfs.h"
#include "runtime/kernel/rootfs_cgroup.h"
#include "runtime/kernel/safe_path.h"
#include "tests/support/bundle.h"

namespace fs = std::filesystem;

namespace stack::rt {
namespace {

TEST(CleanContainerPath, Normalises) {
  EXPECT_EQ(clean_container_path("/proc"), "/proc");
  EXPECT_EQ(clean_container_path("//a/./b/../c/"), "/a/c");
  EXPECT_EQ(clean_container_path("relative/dir"), "/relative/dir");
  EXPECT_EQ(clean_container_path(""), "/");
  EXPECT_EQ(clean_container_path("."), "/");
  EXPECT_EQ(clean_container_path("/../../etc"), "/etc");
  EXPECT_EQ(clean_container_path("a/../../.."), "/");
}

TEST(SplitContainerPath, ParentAndName) {
  EXPECT_EQ(split_container_path("/dev/null"), std::make_pair(std::string("/dev"), std::string("null")));
  EXPECT_EQ(split_container_path("/null"), std::make_pair(std::string("/"), std::string("null")));
  EXPECT_EQ(split_container_path("/dev/net/tun"),
            std::make_pair(std::string("/dev/net"), std::string("tun")));
}

TEST(FdPath, FormatsTheProcLink) {
  EXPECT_STREQ(fd_path(0).c_str(), "/proc/self/fd/0");
  EXPECT_STREQ(fd_path(1234).c_str(), "/proc/self/fd/1234");
}

class InRoot : public ::testing::Test {
 protected:
  test::TempDir outside{"stack-safepath-out"};
  test::TempDir dir{"stack-safepath"};
  std::string root() const { return dir.path(); }
};

bool same_file(int fd, const std::string& path) {
  struct stat a {}, b {};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

TEST_F(InRoot, CreatesMissingDirectoriesAndFiles) {
  auto d = open_in_root(root(), "/a/b/c", CreateMode::kDirectory);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(fs::is_directory(root() + "/a/b/c"));
  EXPECT_TRUE(same_file(d->get(), root() + "/a/b/c"));

  auto f = open_in_root(root(), "x/y/file", CreateMode::kFile);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_TRUE(fs::is_regular_file(root() + "/x/y/file"));
  EXPECT_EQ(fs::file_size(root() + "/x/y/file"), 0u);

  // Existing paths are opened, not recreated.
  auto again = open_in_root(root(), "/a/b/c", CreateMode::kDirectory);
  ASSERT_TRUE(again);
  EXPECT_TRUE(same_file(again->get(), root() + "/a/b/c"));
}

TEST_F(InRoot, MissingWithoutCreateIsEnoent) {
  auto r = open_in_root(root(), "/nope/deeper", CreateMode::kNone);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOENT);
  EXPECT_FALSE(fs::exists(root() + "/nope"));
}

TEST_F(InRoot, AbsoluteSymlinkToSlashStaysInside) {
  // rootfs/etc -> "/" : "/etc/escape" must be rootfs/escape.
  fs::create_directory_symlink("/", root() + "/etc");
  std::string name = "stack-escape-" + std::to_string(::getpid());
  auto r = open_in_root(root(), "/etc/" + name, CreateMode::kDirectory);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(fs::is_directory(root() + "/" + name));
  EXPECT_TRUE(same_file(r->get(), root() + "/" + name));
  EXPECT_FALSE(fs::exists("/" + name));
  std::error_code ec;
  fs::remove("/" + name, ec);  // only there if the code under test is broken
}

TEST_F(InRoot, RelativeDotDotSymlinkStaysInside) {
  // rootfs/sub/link -> ../../../../../../../../tmp: ".." stops at the root,
  // so this is rootfs/tmp, never the host's /tmp.
  fs::create_directory(root() + "/sub");
  fs::create_directory(root() + "/tmp");
  fs::create_directory_symlink("../../../../../../../../tmp", root() + "/sub/link");
  std::string name = "stack-escape2-" + std::to_string(::getpid());
  auto r = open_in_root(root(), "/sub/link/" + name, CreateMode::kDirectory);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(fs::is_directory(root() + "/tmp/" + name));
  EXPECT_TRUE(same_file(r->get(), root() + "/tmp/" + name));
  EXPECT_FALSE(fs::exists("/tmp/" + name));
  std::error_code ec;
  fs::remove("/tmp/" + name, ec);  // only there if the code under test is broken
}

TEST_F(InRoot, SymlinkTargetMissingInsideTheRootIsNotCreatedOutside) {
  // The link names a directory that exists on the host but not in the root:
  // it dangles there, and we refuse rather than follow it out.
  fs::create_directory_symlink(outside.path(), root() + "/link");
  auto r = open_in_root(root(), "/link/escape3", CreateMode::kDirectory);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EEXIST);
  EXPECT_FALSE(fs::exists(outside.path() + "/escape3"));
}

TEST(InRootMagic, ProcMagicLinksAreRefused) {
  // /proc/self/cwd jumps to wherever the process is, not to a path: it must
  // never be followed from inside a root.
  auto r = open_in_root("/proc/self", "cwd", CreateMode::kNone);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().code == ELOOP || r.error().code == EXDEV) << r.error().message();
  // The ordinary symlink next to it (self -> <pid>) is fine.
  EXPECT_TRUE(open_in_root("/proc", "self/status", CreateMode::kNone));
}

TEST_F(InRoot, FileInTheWayIsENOTDIR) {
  std::ofstream(root() + "/file") << "x";
  auto r = open_in_root(root(), "/file/sub", CreateMode::kDirectory);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOTDIR);
}

TEST_F(InRoot, DanglingSymlinkIsNotFollowedToCreate) {
  fs::create_directory_symlink("/nowhere/at/all", root() + "/dangling");
  auto r = open_in_root(root(), "/dangling/x", CreateMode::kDirectory);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EEXIST);
  EXPECT_FALSE(fs::exists(root() + "/nowhere"));
}

constexpr const char* kHybridCgroup =
    "13:name=scratch_tool:/\n"
    "12:name=systemd:/user.slice\n"
    "4:memory:/process_api/abc\n"
    "3:cpu,cpuacct:/\n"
    "2:pids:/\n"
    "0::/\n";
constexpr const char* kHybridMountinfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupV1Layout, NamesHierarchiesAsTheHostDoes) {
  auto h = parse_cgroup_v1_hierarchies(kHybridCgroup, kHybridMountinfo);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].dir, "systemd");
  EXPECT_EQ(h[0].data, "name=systemd");
  EXPECT_TRUE(h[0].links.empty());
  EXPECT_EQ(h[1].dir, "memory");
  EXPECT_EQ(h[1].data, "memory");
  EXPECT_EQ(h[2].dir, "cpu,cpuacct");
  EXPECT_EQ(h[2].data, "cpu,cpuacct");
  EXPECT_EQ(h[2].links, (std::vector<std::string>{"cpu", "cpuacct"}));
  // pids and name=scratch_tool are joined but not mounted on this host: a
  // tool's private hierarchies, mounted only in its own mount namespace.
  // Left out, as runc leaves them (mounting them raced their removal).
}

TEST(CgroupV1Layout, PureV2HostHasNone) {
  EXPECT_TRUE(parse_cgroup_v1_hierarchies("0::/user.slice\n",
                                          "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
                  .empty());
}

TEST(Devices, DefaultsAreTheSixStandardNodes) {
  auto p = plan_devices({}, false, true);
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_EQ(p->nodes.size(), 6u);
  EXPECT_EQ(p->nodes[0].path, "/dev/null");
  EXPECT_EQ(p->nodes[0].mode, static_cast<mode_t>(S_IFCHR | 0666));
  EXPECT_EQ(p->nodes[0].rdev, makedev(1, 3));
  EXPECT_EQ(p->nodes[5].path, "/dev/tty");
  EXPECT_EQ(p->nodes[5].rdev, makedev(5, 0));
  EXPECT_TRUE(p->ptmx_symlink);
  EXPECT_FALSE(p->bind_from_host);
}

TEST(Devices, SpecEntriesAddAndOverride) {
  Device fuse;
  fuse.path = "/dev/fuse";
  fuse.type = "c";
  fuse.major = 10;
  fuse.minor = 229;
  fuse.file_mode = 0600;
  fuse.uid = 1000;
  fuse.gid = 1001;
  Device null_override;
  null_override.path = "/dev/null";
  null_override.type = "c";
  null_override.major = 1;
  null_override.minor = 3;
  null_override.file_mode = 0640;
  Device nested{"/dev/net/tun", "c", 10, 200};
  auto p = plan_devices({fuse, null_override, nested}, true, false);
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_EQ(p->nodes.size(), 8u);
  EXPECT_EQ(p->nodes[0].mode, static_cast<mode_t>(S_IFCHR | 0640));  // replaced in place
  EXPECT_EQ(p->nodes[6].path, "/dev/fuse");
  EXPECT_EQ(p->nodes[6].uid, 1000u);
  EXPECT_EQ(p->nodes[6].gid, 1001u);
  EXPECT_EQ(p->nodes[6].rdev, makedev(10, 229));
  EXPECT_EQ(p->nodes[7].dir, "/dev/net");
  EXPECT_EQ(p->nodes[7].name, "tun");
  EXPECT_EQ(p->nodes[7].mode, static_cast<mode_t>(S_IFCHR | 0666));
  EXPECT_TRUE(p->bind_from_host);
  EXPECT_FALSE(p->ptmx_symlink);
}

TEST(Devices, BadTypeIsNamed) {
  Device d{"/dev/x", "z", 1, 1};
  auto p = plan_devices({Device{"/dev/ok", "b", 8, 0}, d}, false, false);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, EINVAL);
  EXPECT_NE(p.error().message().find("linux.devices[1]"), std::string::npos) << p.error().message();
}

Spec minimal_spec() {
  Spec s;
  s.mounts = {{"/proc", "proc", "proc", {}}};
  return s;
}

TEST(PlanRootfs, MissingRootfsIsNamed) {
  RootfsOptions o;
  o.rootfs = "/nonexistent/stack-rootfs-" + std::to_string(::getpid());
  auto p = plan_rootfs(minimal_spec(), o);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ENOENT);
  EXPECT_NE(p.error().message().find(o.rootfs), std::string::npos) << p.error().message();
}

TEST(PlanRootfs, RootfsThatIsAFileIsRefused) {
  test::TempDir d;
  std::ofstream(d.path() + "/file") << "x";
  RootfsOptions o;
  o.rootfs = d.path() + "/file";
  auto p = plan_rootfs(minimal_spec(), o);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ENOTDIR);
  EXPECT_NE(p.error().message().find(o.rootfs), std::string::npos);
}

TEST(PlanRootfs, AcceptsTheDefaultStyleSpecAndRelativeDestinations) {
  test::TempDir d;
  Spec s = minimal_spec();
  s.mounts.push_back({"relative/dir", "tmpfs", "tmpfs", {"size=1m"}});
  s.mounts.push_back({"/data", "", d.path(), {"rbind", "ro"}});
  s.linux.rootfs_propagation = "rprivate";
  RootfsOptions o;
  o.rootfs = d.path();
  auto p = plan_rootfs(s, o);
  EXPECT_TRUE(p) << (p ? "" : p.error().message());
}

TEST(PlanRootfs, ErrorsNameTheMount) {
  test::TempDir d;
  RootfsOptions o;
  o.rootfs = d.path();

  Spec notype = minimal_spec();
  notype.mounts.push_back({"/x", "", "something", {"ro"}});
  auto a = plan_rootfs(notype, o);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("mounts[1]"), std::string::npos) << a.error().message();

  Spec idmap = minimal_spec();
  idmap.mounts.push_back({"/y", "bind", d.path(), {"rbind", "idmap"}});
  auto b = plan_rootfs(idmap, o);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("mounts[1] (/y)"), std::string::npos) << b.error().message();
  EXPECT_NE(b.error().message().find("idmap"), std::string::npos);

  Spec prop = minimal_spec();
  prop.linux.rootfs_propagation = "bogus";
  auto c = plan_rootfs(prop, o);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("rootfsPropagation"), std::string::npos);

  Spec nosrc = minimal_spec();
  nosrc.mounts.push_back({"/z", "bind", "", {"rbind"}});
  EXPECT_FALSE(plan_rootfs(nosrc, o));
}

}  // namespace
}  // namespace stack::rt
