// Resource fields of a service, end to end: `stack up`, then what the
// kernel holds for the replica's process, read from the host.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

using StackResources = StackdFixture;

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

}  // namespace
}  // namespace stack::test
