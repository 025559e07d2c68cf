// Resource fields of a service, end to end: `stack up`, then what the
// kernel holds for the replica's process, read from the host.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/cgroup_rt.h"
#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

// "Cpus_allowed_list" of /proc/<pid>/status.
std::string cpus_allowed(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Cpus_allowed_list:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 18));
  return "";
}

// The CPU weight file of the process's cgroup, as the host sees it: v1's
// cpu.shares under the cpu controller's mount, else v2's cpu.weight.
std::string cpu_weight(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string v2_path;
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) v2_path = path;
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "cpu") {
        for (const std::string& mount : {"/sys/fs/cgroup/" + controllers, std::string("/sys/fs/cgroup/cpu")}) {
          std::ifstream f(mount + path + "/cpu.shares");
          std::string v;
          if (f >> v) return "shares " + v;
        }
      }
  }
  std::ifstream f("/sys/fs/cgroup" + v2_path + "/cpu.weight");
  std::string v;
  return f >> v ? "weight " + v : "";
}

// A file of the process's cgroup v1 `controller` hierarchy, as the host
// sees it ("" when the controller is not mounted alone or the file is absent).
std::string cgroup_v1_file(int pid, const std::string& controller, const std::string& file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == controller) {
        std::ifstream f("/sys/fs/cgroup/" + controllers + path + "/" + file);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
      }
  }
  return "";
}

// The first whole disk the host has ("" = none): a throttle needs a real
// block device, used or not.
std::string some_disk() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/block", ec)) {
    std::ifstream dev(e.path() / "dev");
    std::string numbers;
    if (dev >> numbers && std::filesystem::exists("/dev/" + e.path().filename().string()))
      return e.path().filename().string() + " " + numbers;
  }
  return "";
}

using StackResources = StackdFixture;

// The rest of the cgroup fields, on a cgroup v1 host (this one; the v2 tier
// runs where the device machine lends a v2 host).
TEST_F(StackResources, TuningFieldsReachTheReplicasCgroup) {
  if (cgroup_v1_file(1, "memory", "memory.swappiness").empty()) GTEST_SKIP() << "no cgroup v1 memory hierarchy";
  const std::string disk = some_disk();
  ASSERT_FALSE(disk.empty()) << "no block device under /sys/block";
  const std::string disk_name = disk.substr(0, disk.find(' ')), disk_numbers = disk.substr(disk.find(' ') + 1);
  const std::string file = write_stack_file("tune", R"yaml(name: tune
services:
  tuned:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    mem_limit: 64m
    mem_reservation: 32m
    memswap_limit: 128m
    mem_swappiness: 0
    oom_kill_disable: true
    cpu_period: 50000
    cpu_quota: 25000
    device_cgroup_rules: ["c 4:1 rw"]
    blkio_config:
      device_read_bps: [{path: /dev/)yaml" + disk_name + R"yaml(, rate: 1mb}]
      device_write_iops: [{path: /dev/)yaml" + disk_name + R"yaml(, rate: 100}]
  plain:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("not supported"), std::string::npos) << up.err;
  const auto list = ps({"-f", file});
  const int tuned = replica(list, "tune-tuned-1").value("pid", 0), plain = replica(list, "tune-plain-1").value("pid", 0);
  ASSERT_GT(tuned, 0) << list.dump();
  ASSERT_GT(plain, 0) << list.dump();

  EXPECT_EQ(cgroup_v1_file(tuned, "memory", "memory.soft_limit_in_bytes"), "33554432\n");
  EXPECT_EQ(cgroup_v1_file(tuned, "memory", "memory.memsw.limit_in_bytes"), "134217728\n");
  EXPECT_EQ(cgroup_v1_file(tuned, "memory", "memory.swappiness"), "0\n");
  EXPECT_NE(cgroup_v1_file(tuned, "memory", "memory.oom_control").find("oom_kill_disable 1"), std::string::npos);
  EXPECT_EQ(cgroup_v1_file(tuned, "cpu", "cpu.cfs_period_us"), "50000\n");
  EXPECT_EQ(cgroup_v1_file(tuned, "cpu", "cpu.cfs_quota_us"), "25000\n");
  EXPECT_NE(cgroup_v1_file(tuned, "devices", "devices.list").find("c 4:1 rw"), std::string::npos)
      << cgroup_v1_file(tuned, "devices", "devices.list");
  EXPECT_EQ(cgroup_v1_file(tuned, "blkio", "blkio.throttle.read_bps_device"), disk_numbers + " 1048576\n");
  EXPECT_EQ(cgroup_v1_file(tuned, "blkio", "blkio.throttle.write_iops_device"), disk_numbers + " 100\n");
  // The untuned replica keeps the defaults.
  EXPECT_NE(cgroup_v1_file(plain, "memory", "memory.oom_control").find("oom_kill_disable 0"), std::string::npos);
  EXPECT_EQ(cgroup_v1_file(plain, "blkio", "blkio.throttle.read_bps_device"), "");
  EXPECT_EQ(cgroup_v1_file(plain, "devices", "devices.list").find("c 4:1 rw"), std::string::npos);

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

TEST_F(StackResources, CpuSharesAndCpusetReachTheReplicasCgroup) {
  const std::string file = write_stack_file("cpu", R"yaml(name: cpu
services:
  pinned:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    cpu_shares: 512
    cpuset: "0"
  free:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("cpu_shares"), std::string::npos) << "not an ignored field any more: " << up.err;
  const auto list = ps({"-f", file});
  const int pinned = replica(list, "cpu-pinned-1").value("pid", 0), free = replica(list, "cpu-free-1").value("pid", 0);
  ASSERT_GT(pinned, 0) << list.dump();
  ASSERT_GT(free, 0) << list.dump();

  EXPECT_EQ(cpus_allowed(pinned), "0");
  EXPECT_EQ(cpus_allowed(free), cpus_allowed(1)) << "unpinned: every CPU the host gives";
  const std::string weight = cpu_weight(pinned);
  EXPECT_TRUE(weight == "shares 512" || weight == "weight 20") << weight;  // 512 shares = weight 20 on v2
  EXPECT_NE(cpu_weight(free), weight) << "the default weight";

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

// The process's path in its cgroup v1 `controller` hierarchy ("" = none).
std::string cgroup_v1_path(int pid, const std::string& controller) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    std::stringstream list(line.substr(a + 1, b - a - 1));
    for (std::string c; std::getline(list, c, ',');)
      if (c == controller) return line.substr(b + 1);
  }
  return "";
}

// A stackd that grants stack's cgroup a real-time budget (--cpu-rt-runtime).
class StackRealtime : public StackdFixture {
 protected:
  std::vector<std::string> daemon_flags() override { return {"--cpu-rt-runtime", "20000"}; }
  // The runtime keeps a budgeted /stack (another container's delete must not
  // take the budget away): give it back so the host is left as found.
  void TearDown() override {
    StackdFixture::TearDown();
    (void)stack::rt::set_cgroup_rt_runtime("/stack", 0);
    auto m = stack::rt::make_cgroup_manager("/stack", "");
    if (m)
      for (const auto& h : (*m)->hierarchies()) ::rmdir(h.dir.c_str());
  }
};

// cgroup_parent puts the replica's cgroup under that parent (the default:
// /stack); cpu_rt_runtime and cpu_rt_period reach the replica's cgroup
// within the budget stackd granted, and more than that is refused with why.
TEST_F(StackRealtime, CgroupParentAndRealTimeFields) {
  if (cgroup_v1_file(1, "cpu", "cpu.rt_runtime_us").empty()) GTEST_SKIP() << "no cgroup v1 real-time cpu controller";
  const std::string parent = "/stack-it-" + unique_id("p");
  const std::string file = write_stack_file("rt", R"yaml(name: rt
services:
  placed:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    cgroup_parent: )yaml" + parent + R"yaml(
  realtime:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    cpu_rt_runtime: 10ms
    cpu_rt_period: 1000000
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("not supported"), std::string::npos) << up.err;
  const auto list = ps({"-f", file});
  const int placed = replica(list, "rt-placed-1").value("pid", 0), realtime = replica(list, "rt-realtime-1").value("pid", 0);
  ASSERT_GT(placed, 0) << list.dump();
  ASSERT_GT(realtime, 0) << list.dump();
  const std::string placed_id = replica(list, "rt-placed-1").value("container_id", "");
  for (const char* controller : {"memory", "cpu", "pids"})
    EXPECT_EQ(cgroup_v1_path(placed, controller), parent + "/" + placed_id) << controller;
  EXPECT_EQ(cgroup_v1_path(realtime, "memory").rfind("/stack/", 0), 0u) << "the default parent";
  EXPECT_EQ(cgroup_v1_file(realtime, "cpu", "cpu.rt_runtime_us"), "10000\n");
  EXPECT_EQ(cgroup_v1_file(realtime, "cpu", "cpu.rt_period_us"), "1000000\n");
  EXPECT_EQ(cgroup_v1_file(placed, "cpu", "cpu.rt_runtime_us"), "0\n") << "none asked for";

  // More than stack's budget (20000 us): refused, and nothing is left.
  const std::string greedy = write_stack_file("greedy", R"yaml(name: greedy
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    cpu_rt_runtime: 100000
)yaml");
  auto refused = stack({"up", "-d", "--wait", "-f", greedy});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("cpu_rt_runtime 100000 us needs that much real-time budget in its parent cgroup /stack, "
                             "which has 20000 us"),
            std::string::npos)
      << refused.err;
  EXPECT_TRUE(ps({"-f", greedy}).empty());

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
  // The replica's cgroup went with it; the parent, as Docker leaves it, is the test's to remove.
  for (const char* h : {"memory", "cpu", "pids", "cpuset", "blkio", "devices", "freezer", "cpuacct", "net_cls", "perf_event",
                        "hugetlb", "net_prio", "rdma", "misc"}) {
    const std::string dir = std::string("/sys/fs/cgroup/") + h + parent;
    EXPECT_FALSE(std::filesystem::exists(dir + "/" + placed_id)) << dir;
    ::rmdir(dir.c_str());
  }
  ::rmdir(("/sys/fs/cgroup/unified" + parent).c_str());
  ::rmdir(("/sys/fs/cgroup/systemd" + parent).c_str());
}

}  // namespace
}  // namespace stack::test
