// The cgroup manager for this host's layout (make_cgroup_manager) against the
// real kernel: v1 files on our hybrid CI host, plus the unified tracking
// directory; v2 files on a pure v2 host. Every test works below a top-level
// cgroup unique to it ("/stack-test-<pid>-<n>/c"), which TearDown kills and
// removes in every hierarchy even when an assertion failed.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/device_filter.h"
#include "tests/privileged/cgroup_test_support.h"
#include "tests/support/bundle.h"

namespace stack::rt {
namespace {

using namespace cgtest;

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    root_ = unique_root();
    auto m = make_cgroup_manager(root_ + "/c", "unused");
    ASSERT_TRUE(m.has_value()) << m.error().message();
    mgr_ = std::move(*m);
  }
  void TearDown() override {
    if (root_.empty()) return;
    if (mgr_) (void)mgr_->destroy();
    scrub(root_);
  }
  std::string file(const std::string& controller, const std::string& name) const {
    return dir_for(*mgr_, controller) + "/" + name;
  }
  bool v2() const { return mgr_->layout() == CgroupLayout::V2; }

  std::string root_;
  std::unique_ptr<CgroupManager> mgr_;
};

TEST_F(CgroupTest, LayoutMatchesTheHost) {
  EXPECT_EQ(mgr_->layout(), detect_cgroup_layout());
  EXPECT_EQ(mgr_->path(), root_ + "/c");
  auto hs = mgr_->hierarchies();
  ASSERT_FALSE(hs.empty());
  const bool has_unified = std::any_of(hs.begin(), hs.end(), [](const auto& h) { return h.unified; });
  EXPECT_EQ(has_unified, detect_cgroup_layout() != CgroupLayout::V1);
  for (const auto& h : hs) EXPECT_EQ(h.dir, h.mount_point + root_ + "/c");
}

TEST_F(CgroupTest, CreateWritesLimitsTheKernelHolds) {
  Resources r;
  r.memory = MemoryResources{32 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  r.cpu = CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.pids = PidsResources{10};
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  if (v2()) {
    EXPECT_EQ(slurp(file("memory", "memory.max")), "33554432");
    EXPECT_EQ(slurp(file("cpu", "cpu.max")), "50000 100000");
    EXPECT_EQ(slurp(file("cpu", "cpu.weight")), "20");
    EXPECT_EQ(slurp(file("pids", "pids.max")), "10");
  } else {
    EXPECT_EQ(slurp(file("memory", "memory.limit_in_bytes")), "33554432");
    EXPECT_EQ(slurp(file("cpu", "cpu.cfs_quota_us")), "50000");
    EXPECT_EQ(slurp(file("cpu", "cpu.cfs_period_us")), "100000");
    EXPECT_EQ(slurp(file("cpu", "cpu.shares")), "512");
    EXPECT_EQ(slurp(file("pids", "pids.max")), "10");
  }
  auto st = mgr_->stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(st->memory_limit, 32 << 20);
  EXPECT_EQ(st->pids_limit, 10);
  EXPECT_EQ(st->pids_current, 0u);

  // `update`: raise memory, lift the pids limit, halve the quota.
  Resources u;
  u.memory = MemoryResources{64 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  u.cpu = CpuResources{};
  u.cpu->quota = 25000;
  u.pids = PidsResources{0};
  auto a = mgr_->apply(u);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  st = mgr_->stats();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->memory_limit, 64 << 20);
  EXPECT_FALSE(st->pids_limit.has_value());
  EXPECT_EQ(slurp(file("cpu", v2() ? "cpu.max" : "cpu.cfs_quota_us")), v2() ? "25000 100000" : "25000");
}

TEST_F(CgroupTest, CpusetIsInheritedSoProcessesCanJoinAndCanBeNarrowed) {
  if (v2()) GTEST_SKIP() << "v1 cpuset initialisation";
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  std::string host_cpus;
  for (const auto& h : mgr_->hierarchies())
    if (std::count(h.controllers.begin(), h.controllers.end(), "cpuset")) host_cpus = slurp(h.mount_point + "/cpuset.cpus");
  ASSERT_FALSE(host_cpus.empty());
  EXPECT_EQ(slurp(file("cpuset", "cpuset.cpus")), host_cpus);
  Resources r;
  r.cpu = CpuResources{};
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  auto a = mgr_->apply(r);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(slurp(file("cpuset", "cpuset.cpus")), "0");
  Child c([](int) {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(mgr_->add_pid(c.pid()).has_value());
  std::string status = slurp("/proc/" + std::to_string(c.pid()) + "/status");
  EXPECT_NE(status.find("Cpus_allowed_list:\t0\n"), std::string::npos) << status;
}

TEST_F(CgroupTest, DeviceRulesEndUpInDevicesListOrABpfProgram) {
  Resources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", std::nullopt, std::nullopt, "m"}};
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  for (const auto& h : mgr_->hierarchies()) {
    if (!h.unified) continue;
    // v2, and the unified side of a hybrid host: one device program.
    auto n = device_filter_count(h.dir);
    ASSERT_TRUE(n.has_value()) << n.error().message();
    EXPECT_EQ(*n, 1u) << h.dir;
  }
  if (v2()) return;
  std::string list = slurp(file("devices", "devices.list"));
  EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;
  EXPECT_NE(list.find("c *:* m"), std::string::npos) << list;
  EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << "still allow-all: " << list;
}

TEST_F(CgroupTest, UnifiedMapIsRefusedOnV1BeforeAnythingIsMade) {
  if (v2()) GTEST_SKIP() << "v1/hybrid only";
  Resources r;
  r.unified["memory.high"] = "1000000";
  auto c = mgr_->create(r);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, EINVAL);
  EXPECT_NE(c.error().message().find("unified"), std::string::npos) << c.error().message();
  for (const auto& h : mgr_->hierarchies()) EXPECT_FALSE(dir_exists(h.dir)) << h.dir;
}

TEST_F(CgroupTest, AddedChildIsListedInEveryHierarchy) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  Child c([](int) {
    ::pause();
    return 0;
  });
  auto a = mgr_->add_pid(c.pid());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  auto pids = mgr_->pids();
  ASSERT_TRUE(pids.has_value()) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{c.pid()});
  auto files = mgr_->procs_files();
  EXPECT_EQ(files.size(), mgr_->hierarchies().size());
  for (const auto& f : files) EXPECT_EQ(slurp(f), std::to_string(c.pid())) << f;
  // What the process itself (and tools like systemd) see.
  std::string self = slurp("/proc/" + std::to_string(c.pid()) + "/cgroup");
  if (!v2()) {
    EXPECT_TRUE(has_line_ending(self, ":memory:" + root_ + "/c")) << self;
  }
  if (mgr_->layout() != CgroupLayout::V1) {
    EXPECT_TRUE(has_line(self, "0::" + root_ + "/c")) << "not tracked in cgroup2: " << self;
  }
}

TEST_F(CgroupTest, PidsLimitStopsForks) { expect_pids_limit_enforced(*mgr_); }

TEST_F(CgroupTest, MemoryLimitOomKills) { expect_oom_kill(*mgr_); }

TEST_F(CgroupTest, FreezeStopsAndThawResumes) {
  if (v2())
    expect_freeze_thaw(*mgr_, file("", "cgroup.events"),
                       [](const std::string& s) { return s.find("frozen 1") != std::string::npos; });
  else
    expect_freeze_thaw(*mgr_, file("freezer", "freezer.state"), [](const std::string& s) { return s == "FROZEN"; });
}

TEST_F(CgroupTest, DestroyKillsAndRemovesEverything) { expect_destroy_cleans_up(*mgr_, false); }

TEST_F(CgroupTest, DestroyKillsAFrozenCgroup) { expect_destroy_cleans_up(*mgr_, true); }

TEST_F(CgroupTest, DestroyOfANeverCreatedCgroupSucceeds) {
  auto d = mgr_->destroy();
  EXPECT_TRUE(d.has_value()) << d.error().message();
}


}  // namespace
}  // namespace stack::rt
