// Pure parts of the cgroup module: linux.cgroupsPath resolution, the v1 -> v2
// value conversions, mountinfo parsing and hierarchy selection, v1 device
// rule formatting; and which files with which values the v2 backend writes
// and reads, against a fake cgroup2 tree of plain files in a temporary
// directory (our CI host is hybrid, so its real cgroup2 has no controllers
// for the privileged tier to check limits on).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/cgroup_v1.h"
#include "runtime/kernel/cgroup_v2.h"

namespace stack::rt {
namespace {

std::string resolved(const std::string& path, const std::string& id = "abc") {
  auto r = resolve_cgroup_path(path, id);
  EXPECT_TRUE(r.has_value()) << path << ": " << r.error().message();
  return r ? *r : "";
}

void expect_refused(const std::string& path, const std::string& id = "abc") {
  auto r = resolve_cgroup_path(path, id);
  ASSERT_FALSE(r.has_value()) << path << " resolved to " << *r;
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_FALSE(r.error().context.empty());
}

TEST(CgroupPath, EmptyMeansStackSlashId) { EXPECT_EQ(resolved("", "web-1"), "/stack/web-1"); }

TEST(CgroupPath, AbsoluteIsUsedAsIsAndNormalised) {
  EXPECT_EQ(resolved("/a/b"), "/a/b");
  EXPECT_EQ(resolved("/a//b/"), "/a/b");
  EXPECT_EQ(resolved("/kubepods/pod1/ctr"), "/kubepods/pod1/ctr");
}

TEST(CgroupPath, RelativeGoesUnderStack) {
  EXPECT_EQ(resolved("a/b"), "/stack/a/b");
  EXPECT_EQ(resolved("ctr"), "/stack/ctr");
  // One colon is not the systemd form; colons are legal in cgroup names.
  EXPECT_EQ(resolved("a:b"), "/stack/a:b");
}

TEST(CgroupPath, SystemdStyleMapsToSliceScope) {
  EXPECT_EQ(resolved("system.slice:docker:abc"), "/system.slice/docker-abc.scope");
  EXPECT_EQ(resolved(":docker:abc"), "/system.slice/docker-abc.scope");
  EXPECT_EQ(resolved("machine.slice::abc"), "/machine.slice/abc.scope");
}

TEST(CgroupPath, RefusesPathsThatEscapeOrHitTheRoot) {
  expect_refused("/");
  expect_refused("//");
  expect_refused("/a/../b");
  expect_refused("../x");
  expect_refused("/a/./b");
  expect_refused("system.slice:docker:");  // no name
  expect_refused("a/b:docker:abc");        // '/' inside a systemd part
  expect_refused("", "");                  // no id to name it after
  expect_refused("", "a/b");
  expect_refused("", "..");
}

TEST(CgroupValues, SharesToWeightMatchesRunc) {
  EXPECT_EQ(cpu_shares_to_weight(0), 0u);  // unset stays unset
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39u);  // the v1 default
  EXPECT_EQ(cpu_shares_to_weight(512), 20u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(cpu_shares_to_weight(1), 1u);           // clamped like the kernel does on v1
  EXPECT_EQ(cpu_shares_to_weight(1u << 30), 10000u);
}

TEST(CgroupValues, SwapConversionMatchesRunc) {
  auto v = [](int64_t swap, int64_t limit) {
    auto r = memory_swap_to_v2(swap, limit);
    EXPECT_TRUE(r.has_value()) << swap << "/" << limit;
    return r ? *r : -42;
  };
  EXPECT_EQ(v(0, -1), -1);                        // unlimited memory: unlimited swap
  EXPECT_EQ(v(-1, 100 << 20), -1);                // explicit unlimited swap
  EXPECT_EQ(v(0, 100 << 20), 0);                  // unset
  EXPECT_EQ(v(300 << 20, 100 << 20), 200 << 20);  // memory+swap - memory
  EXPECT_EQ(v(100 << 20, 100 << 20), 0);          // no swap at all
  EXPECT_FALSE(memory_swap_to_v2(50 << 20, 100 << 20).has_value());  // below the limit
  EXPECT_FALSE(memory_swap_to_v2(100 << 20, 0).has_value());        // swap without a limit
  EXPECT_FALSE(memory_swap_to_v2(100 << 20, -1).has_value());
}

// A hybrid host like ours plus a comounted cpu,cpuacct seen twice (a bind
// mount elsewhere first) and a mount point with an escaped space.
const char* kMountinfo =
    "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "50 23 0:29 / /mnt/other rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "60 23 0:38 /sub /tmp/my\\040cg rw - cgroup2 none rw\n";

TEST(CgroupMounts, ParsesV1ControllersAndV2Mounts) {
  auto mounts = parse_cgroup_mounts(kMountinfo);
  ASSERT_EQ(mounts.size(), 7u);  // proc and tmpfs are not cgroups
  EXPECT_EQ(mounts[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(mounts[2].controllers, (std::vector<std::string>{"cpuset"}));  // clone_children is an option
  EXPECT_EQ(mounts[4].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_TRUE(mounts[5].v2);
  EXPECT_TRUE(mounts[5].controllers.empty());
  EXPECT_EQ(mounts[6].mount_point, "/tmp/my cg");
  EXPECT_EQ(mounts[6].root, "/sub");
}

TEST(CgroupMounts, OneMountPerV1HierarchyPreferringSysFsCgroup) {
  auto v1 = select_v1_hierarchies(parse_cgroup_mounts(kMountinfo));
  ASSERT_EQ(v1.size(), 4u);
  EXPECT_EQ(v1[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct");  // not /mnt/other, same device
  EXPECT_EQ(v1[1].mount_point, "/sys/fs/cgroup/cpuset");
  EXPECT_EQ(v1[2].mount_point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(v1[3].mount_point, "/sys/fs/cgroup/systemd");
}

TEST(CgroupMounts, PicksTheCanonicalCgroup2Mount) {
  auto mounts = parse_cgroup_mounts(kMountinfo);
  auto v2 = select_v2_mount(mounts);
  ASSERT_TRUE(v2.has_value());
  EXPECT_EQ(v2->mount_point, "/sys/fs/cgroup/unified");
  auto pure = parse_cgroup_mounts(
      "60 23 0:38 / /tmp/x rw - cgroup2 none rw\n"
      "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(select_v2_mount(pure).has_value());
  EXPECT_EQ(select_v2_mount(pure)->mount_point, "/sys/fs/cgroup");
  EXPECT_FALSE(select_v2_mount(parse_cgroup_mounts("22 1 0:21 / /proc rw - proc proc rw\n")).has_value());
}

TEST(CgroupFiles, KeyedValues) {
  const std::string events = "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n";
  EXPECT_EQ(cgroupfs::keyed_value(events, "oom"), 2u);
  EXPECT_EQ(cgroupfs::keyed_value(events, "oom_kill"), 1u);
  EXPECT_FALSE(cgroupfs::keyed_value(events, "oom_group_kill").has_value());
}

TEST(CgroupDevices, V1RuleStrings) {
  auto s = [](DeviceCgroupRule r) {
    auto v = CgroupV1Manager::device_rule_string(r);
    EXPECT_TRUE(v.has_value());
    return v ? *v : "";
  };
  EXPECT_EQ(s({false, "a", std::nullopt, std::nullopt, "rwm"}), "a");
  EXPECT_EQ(s({false, "", std::nullopt, std::nullopt, ""}), "a");
  EXPECT_EQ(s({true, "c", 1, 3, "rwm"}), "c 1:3 rwm");
  EXPECT_EQ(s({true, "c", std::nullopt, std::nullopt, "m"}), "c *:* m");
  EXPECT_EQ(s({true, "b", 8, std::nullopt, ""}), "b 8:* rwm");
  EXPECT_EQ(s({true, "c", 136, -1, "rw"}), "c 136:* rw");
  EXPECT_FALSE(CgroupV1Manager::device_rule_string({true, "x", 1, 3, "rwm"}).has_value());
  EXPECT_FALSE(CgroupV1Manager::device_rule_string({true, "c", 1, 3, "rwx"}).has_value());
}

// A cgroup2 mount root with every controller delegated and "/stack/c" below
// it, each interface file an empty regular file. Removed on destruction.
class FakeCgroup2 : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stack-fakecg2-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::filesystem::create_directories(leaf());
    put(root_ + "/cgroup.controllers", "cpuset cpu io memory pids\n");
    put(root_ + "/stack/cgroup.controllers", "cpuset cpu io memory pids\n");
    put(leaf() + "/cgroup.controllers", "cpuset cpu io memory pids\n");
    for (const auto& d : {root_, root_ + "/stack", leaf()}) put(d + "/cgroup.subtree_control", "");
    for (const char* f : {"memory.max", "memory.low", "memory.swap.max", "memory.high", "cpu.weight", "cpu.max",
                          "cpuset.cpus", "cpuset.mems", "pids.max", "cgroup.procs"})
      put(leaf() + "/" + f, "");
  }
  void TearDown() override {
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  std::string leaf() const { return root_ + "/stack/c"; }
  static void put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  std::string get(const std::string& name) const {
    std::ifstream in(leaf() + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  CgroupV2Manager manager() const { return CgroupV2Manager(root_, "/stack/c"); }

  std::string root_;
};

TEST_F(FakeCgroup2, WritesEveryLimitToItsV2File) {
  Resources r;
  r.memory = MemoryResources{32 << 20, 16 << 20, 48 << 20, 60, true};  // swappiness, oom: no v2 files
  r.cpu = CpuResources{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids = PidsResources{10};
  // Device rules are a BPF program on v2, which needs a real cgroup:
  // tests/privileged/device_filter_test.cc.
  r.unified["memory.high"] = "30000000";
  auto m = manager();
  auto c = m.create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(get("memory.max"), "33554432");
  EXPECT_EQ(get("memory.low"), "16777216");
  EXPECT_EQ(get("memory.swap.max"), "16777216");  // memory+swap 48 MiB - memory 32 MiB
  EXPECT_EQ(get("memory.high"), "30000000");
  EXPECT_EQ(get("cpu.weight"), "39");
  EXPECT_EQ(get("cpu.max"), "50000 100000");
  EXPECT_EQ(get("cpuset.cpus"), "0-1");
  EXPECT_EQ(get("cpuset.mems"), "0");
  EXPECT_EQ(get("pids.max"), "10");
  EXPECT_EQ(get("cgroup.subtree_control"), "") << "the leaf must not delegate: processes live there";
}

TEST_F(FakeCgroup2, UnlimitedValuesAreMax) {
  Resources r;
  r.memory = MemoryResources{-1, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  r.cpu = CpuResources{};
  r.cpu->quota = -1;
  r.cpu->period = 100000;
  r.pids = PidsResources{0};
  auto m = manager();
  ASSERT_TRUE(m.create(r).has_value());
  EXPECT_EQ(get("memory.max"), "max");
  EXPECT_EQ(get("memory.swap.max"), "max");
  EXPECT_EQ(get("cpu.max"), "max 100000");
  EXPECT_EQ(get("pids.max"), "max");
}

TEST_F(FakeCgroup2, SwapEqualToMemoryMeansNoSwapAndToleratesMissingSwapAccounting) {
  Resources r;
  r.memory = MemoryResources{16 << 20, std::nullopt, 16 << 20, std::nullopt, std::nullopt};
  auto m = manager();
  ASSERT_TRUE(m.create(r).has_value());
  EXPECT_EQ(get("memory.swap.max"), "0");
  // Without swap accounting "no swap" holds anyway: not an error...
  std::filesystem::remove(leaf() + "/memory.swap.max");
  auto again = m.apply(r);
  EXPECT_TRUE(again.has_value()) << again.error().message();
  // ...but a real swap allowance cannot be enforced: an error naming the file.
  r.memory->swap = 64 << 20;
  auto swap = m.apply(r);
  ASSERT_FALSE(swap.has_value());
  EXPECT_EQ(swap.error().code, ENOENT);
  EXPECT_NE(swap.error().message().find("memory.swap.max"), std::string::npos) << swap.error().message();
}

TEST_F(FakeCgroup2, RefusesWhatV2CannotExpress) {
  auto m = manager();
  Resources rt;
  rt.cpu = CpuResources{};
  rt.cpu->realtime_runtime = 1000;
  auto a = m.apply(rt);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, EINVAL);
  Resources swap_below;
  swap_below.memory = MemoryResources{32 << 20, std::nullopt, 16 << 20, std::nullopt, std::nullopt};
  auto b = m.apply(swap_below);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, EINVAL);
  EXPECT_EQ(get("memory.max"), "") << "nothing written for a refused spec";
}

TEST_F(FakeCgroup2, MissingControllerIsNamed) {
  put(root_ + "/cgroup.controllers", "cpu pids\n");
  Resources r;
  r.memory = MemoryResources{32 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  auto m = manager();
  auto c = m.create(r);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, EOPNOTSUPP);
  EXPECT_NE(c.error().message().find("\"memory\""), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("cpu pids"), std::string::npos) << c.error().message();
}

TEST_F(FakeCgroup2, StatsReadV2Files) {
  put(leaf() + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  put(leaf() + "/memory.current", "4096\n");
  put(leaf() + "/memory.peak", "8192\n");
  put(leaf() + "/memory.max", "max\n");
  put(leaf() + "/memory.stat", "anon 1024\nfile 3072\nactive_file 1024\ninactive_file 2048\n");
  put(leaf() + "/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
  put(leaf() + "/pids.current", "3\n");
  put(leaf() + "/pids.max", "20\n");
  auto st = manager().stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(st->cpu_usage_ns, 1'500'000u);
  EXPECT_EQ(st->memory_usage, 4096u);
  EXPECT_EQ(st->memory_max_usage, 8192u);
  EXPECT_EQ(st->memory_inactive_file, 2048u);
  EXPECT_FALSE(st->memory_limit.has_value());
  EXPECT_EQ(st->oom_kills, 1u);
  EXPECT_EQ(st->oom_events, 2u);
  EXPECT_EQ(st->pids_current, 3u);
  EXPECT_EQ(st->pids_limit, 20);
}

}  // namespace
}  // namespace stack::rt
