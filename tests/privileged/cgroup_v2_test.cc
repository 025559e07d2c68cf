// The v2 backend against the real kernel, on a cgroup2 mount of its own. On
// a hybrid host (our CI) that hierarchy has no controllers (they are bound to
// v1), so the tests of limits skip with that reason and the rest exercise
// mkdir, cgroup.procs, cgroup.freeze/events, cgroup.kill and the delegation
// of whatever controller cgroup2 does have (hugetlb there).
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/cgroup_v2.h"
#include "tests/privileged/cgroup_test_support.h"
#include "tests/support/bundle.h"

namespace stack::rt {
namespace {

using namespace cgtest;


// The v2 backend on a cgroup2 mount of our own: mounted fresh at a temporary
// directory when the kernel lets us (the same hierarchy as the host's, seen
// from a mount point no code hardcodes), else the host's cgroup2 mount.
class CgroupV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    char tmpl[] = "/tmp/stack-cg2-XXXXXX";
    if (::mkdtemp(tmpl)) {
      mount_dir_ = tmpl;
      if (::mount("cgroup2", tmpl, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
        mounted_ = true;
        mount_point_ = tmpl;
      }
    }
    if (!mounted_) {
      auto mounts = read_cgroup_mounts();
      auto v2 = mounts ? select_v2_mount(*mounts) : std::nullopt;
      if (!v2) GTEST_SKIP() << "no cgroup2 mount and mounting one failed: " << std::strerror(errno);
      mount_point_ = v2->mount_point;
    }
    root_ = unique_root();
    auto sc = cgroupfs::read(mount_point_ + "/cgroup.subtree_control");
    root_subtree_ = sc ? *sc : "";
    mgr_ = std::make_unique<CgroupV2Manager>(mount_point_, root_ + "/c");
    // Probe: a kernel or sandbox that refuses us is a skip, not a failure.
    if (::mkdir((mount_point_ + root_).c_str(), 0755) != 0)
      GTEST_SKIP() << "cannot mkdir in cgroup2 at " << mount_point_ << ": " << std::strerror(errno);
  }
  void TearDown() override {
    if (mgr_) (void)mgr_->destroy();
    if (!root_.empty()) {
      scrub(root_);
      if (mounted_) (void)cgroupfs::remove_tree(mount_point_ + root_);
      // Give back controllers we enabled at the root; EBUSY while another
      // test still uses one is fine, that test's TearDown retries.
      auto now = cgroupfs::read(mount_point_ + "/cgroup.subtree_control");
      const auto before = words(root_subtree_);
      for (const auto& c : words(now ? *now : ""))
        if (std::find(before.begin(), before.end(), c) == before.end())
          (void)cgroupfs::write(mount_point_ + "/cgroup.subtree_control", "-" + c);
    }
    if (mounted_) ::umount2(mount_dir_.c_str(), MNT_DETACH);
    if (!mount_dir_.empty()) ::rmdir(mount_dir_.c_str());
  }
  // Skips unless every named controller can be enabled for our cgroup.
  bool have_controllers(const std::vector<std::string>& names, std::string* missing) {
    auto avail = cgroupfs::read(mount_point_ + "/cgroup.controllers");
    const auto have = words(avail ? *avail : "");
    for (const auto& n : names)
      if (std::find(have.begin(), have.end(), n) == have.end()) {
        std::string list;
        for (const auto& h : have) list += (list.empty() ? "" : " ") + h;
        *missing = "cgroup2 controller \"" + n + "\" not in " + mount_point_ + "/cgroup.controllers (\"" + list +
                   "\")" +
                   (detect_cgroup_layout() == CgroupLayout::Hybrid
                        ? ": on this hybrid host the controllers are bound to the v1 hierarchies"
                        : "");
        return false;
      }
    return true;
  }

  std::string mount_dir_, mount_point_, root_, root_subtree_;
  bool mounted_ = false;
  std::unique_ptr<CgroupV2Manager> mgr_;
};

TEST_F(CgroupV2Test, CreateAddPidAndDestroyWithCgroupKill) {
  auto c = mgr_->create(Resources{});
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_TRUE(dir_exists(mgr_->dir()));
  if (!cgroupfs::exists(mgr_->dir() + "/cgroup.kill")) GTEST_SKIP() << "no cgroup.kill (kernel < 5.14)";
  expect_destroy_cleans_up(*mgr_, false);
}

TEST_F(CgroupV2Test, AddedChildIsListed) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  Child c([](int) {
    ::pause();
    return 0;
  });
  auto a = mgr_->add_pid(c.pid());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  auto pids = mgr_->pids();
  ASSERT_TRUE(pids.has_value());
  EXPECT_EQ(*pids, std::vector<pid_t>{c.pid()});
  EXPECT_EQ(slurp(mgr_->procs_files().at(0)), std::to_string(c.pid()));
  std::string self = slurp("/proc/" + std::to_string(c.pid()) + "/cgroup");
  EXPECT_TRUE(has_line(self, "0::" + root_ + "/c")) << self;
  auto st = mgr_->stats();  // readable even without controllers
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

TEST_F(CgroupV2Test, FreezeStopsAndThawResumes) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  if (!cgroupfs::exists(mgr_->dir() + "/cgroup.freeze")) GTEST_SKIP() << "no cgroup.freeze (kernel < 5.2)";
  expect_freeze_thaw(*mgr_, mgr_->dir() + "/cgroup.events",
                     [](const std::string& s) { return s.find("frozen 1") != std::string::npos; });
}

TEST_F(CgroupV2Test, DestroyKillsAFrozenCgroup) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  if (!cgroupfs::exists(mgr_->dir() + "/cgroup.freeze")) GTEST_SKIP() << "no cgroup.freeze";
  expect_destroy_cleans_up(*mgr_, true);
}

TEST_F(CgroupV2Test, UnifiedKeysThatAreNotFileNamesAreRefused) {
  for (const char* bad : {"../cgroup.procs", "a/b", "..", ""}) {
    Resources r;
    r.unified[bad] = "1";
    auto c = mgr_->create(r);
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_EQ(c.error().code, EINVAL) << c.error().message();
    EXPECT_FALSE(dir_exists(mgr_->dir())) << "made " << mgr_->dir() << " for a refused spec";
  }
}

TEST_F(CgroupV2Test, LimitWithoutItsControllerIsAnErrorNotSilentlyIgnored) {
  std::string missing;
  if (have_controllers({"memory"}, &missing)) GTEST_SKIP() << "memory controller available here";
  Resources r;
  r.memory = MemoryResources{32 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  auto c = mgr_->create(r);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, EOPNOTSUPP);
  EXPECT_NE(c.error().message().find("\"memory\""), std::string::npos) << c.error().message();
}

// Ancestors delegate the controller a unified key needs, and the value lands.
// Uses whichever controller this host's cgroup2 offers: hugetlb is the one
// left to cgroup2 on a hybrid host.
TEST_F(CgroupV2Test, UnifiedKeyEnablesItsControllerInAncestorsAndIsWritten) {
  std::string missing, key, value, expect;
  if (have_controllers({"pids"}, &missing)) {
    key = "pids.max", value = "7", expect = "7";
  } else if (have_controllers({"hugetlb"}, &missing) && cgroupfs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
    key = "hugetlb.2MB.max", value = "4194304", expect = "4194304";
  } else {
    GTEST_SKIP() << "neither pids nor hugetlb (2 MB pages) in " << mount_point_ << "/cgroup.controllers";
  }
  Resources r;
  r.unified[key] = value;
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  const std::string controller = key.substr(0, key.find('.'));
  for (const auto& dir : {mount_point_, mount_point_ + root_}) {
    auto on = words(slurp(dir + "/cgroup.subtree_control"));
    EXPECT_NE(std::find(on.begin(), on.end(), controller), on.end()) << dir << " does not delegate " << controller;
  }
  EXPECT_EQ(slurp(mgr_->dir() + "/" + key), expect);
  // The leaf keeps its subtree_control empty: processes live there.
  EXPECT_EQ(slurp(mgr_->dir() + "/cgroup.subtree_control"), "");
  Child ch([](int) {
    ::pause();
    return 0;
  });
  auto a = mgr_->add_pid(ch.pid());
  EXPECT_TRUE(a.has_value()) << a.error().message();
}

TEST_F(CgroupV2Test, CreateWritesLimitsTheKernelHolds) {
  std::string missing;
  if (!have_controllers({"memory", "cpu", "pids"}, &missing)) GTEST_SKIP() << missing;
  Resources r;
  r.memory = MemoryResources{32 << 20, 16 << 20, 48 << 20, std::nullopt, std::nullopt};
  r.cpu = CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.pids = PidsResources{10};
  r.unified["memory.high"] = "30000000";
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  const std::string d = mgr_->dir();
  EXPECT_EQ(slurp(d + "/memory.max"), "33554432");
  EXPECT_EQ(slurp(d + "/memory.low"), "16777216");
  if (cgroupfs::exists(d + "/memory.swap.max")) {
    EXPECT_EQ(slurp(d + "/memory.swap.max"), "16777216");
  }
  EXPECT_EQ(slurp(d + "/memory.high"), "29999104");  // page-rounded by the kernel
  EXPECT_EQ(slurp(d + "/cpu.max"), "50000 100000");
  EXPECT_EQ(slurp(d + "/cpu.weight"), "20");
  EXPECT_EQ(slurp(d + "/pids.max"), "10");
  auto st = mgr_->stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(st->memory_limit, 32 << 20);
  EXPECT_EQ(st->pids_limit, 10);
}

TEST_F(CgroupV2Test, PidsLimitStopsForks) {
  std::string missing;
  if (!have_controllers({"pids"}, &missing)) GTEST_SKIP() << missing;
  expect_pids_limit_enforced(*mgr_);
}

TEST_F(CgroupV2Test, MemoryLimitOomKills) {
  std::string missing;
  if (!have_controllers({"memory"}, &missing)) GTEST_SKIP() << missing;
  expect_oom_kill(*mgr_);
}


}  // namespace
}  // namespace stack::rt
