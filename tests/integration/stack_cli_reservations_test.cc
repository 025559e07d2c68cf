// deploy.resources.reservations on one host: replicas are held to what the
// host has (Swarm's accounting; Compose alone ignores it), a replica that
// does not fit stays pending with the reason, and the memory reservation is
// also the replica's soft limit, as Compose applies it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

// The soft limit of the process's cgroup v1 memory hierarchy, or v2's
// memory.low ("" when neither is readable).
std::string memory_soft_limit(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string v2_path;
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) v2_path = path;
    if (controllers == "memory") {
      std::ifstream f("/sys/fs/cgroup/memory" + path + "/memory.soft_limit_in_bytes");
      std::string v;
      if (f >> v) return v;
    }
  }
  std::ifstream f("/sys/fs/cgroup" + v2_path + "/memory.low");
  std::string v;
  return f >> v ? v : "";
}

using StackReservations = StackdFixture;

TEST_F(StackReservations, AReplicaThatDoesNotFitTheHostWaitsWithItsReason) {
  // Each replica reserves 60% of the host's memory: one fits, two do not.
  const uint64_t host = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t mib = host / (1024 * 1024) * 6 / 10;
  const std::string file = write_stack_file("resv", R"yaml(name: resv
services:
  big:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    deploy:
      replicas: 2
      resources:
        reservations:
          memory: )yaml" + std::to_string(mib) + R"yaml(M
  small:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.out << up.err;
  EXPECT_EQ(up.err.find("reservations"), std::string::npos) << "not an ignored field any more: " << up.err;
  EXPECT_NE(up.out.find("Pending: no node satisfies"), std::string::npos) << up.out;

  auto list = ps({"-f", file});
  int running = 0, pending = 0, pid = 0;
  std::string reason;
  for (const auto& r : list) {
    if (r.value("service", "") != "big") continue;
    if (r.value("state", "") == "running") {
      running++;
      pid = r.value("pid", 0);
    }
    if (r.value("state", "") == "pending") {
      pending++;
      reason = r.value("reason", "");
    }
  }
  EXPECT_EQ(running, 1) << list.dump();
  EXPECT_EQ(pending, 1) << list.dump();
  EXPECT_NE(reason.find("of " + std::to_string(mib) + " MiB memory free"), std::string::npos) << reason;
  EXPECT_EQ(replica(list, "resv-small-1").value("state", ""), "running") << list.dump();
  auto table = stack({"-f", file, "ps"});
  EXPECT_NE(table.out.find("pending: no node satisfies"), std::string::npos) << table.out;

  // The reservation is the soft limit of the one that runs.
  ASSERT_GT(pid, 0) << list.dump();
  EXPECT_EQ(memory_soft_limit(pid), std::to_string(mib * 1024 * 1024));
  const int small = replica(list, "resv-small-1").value("pid", 0);
  EXPECT_NE(memory_soft_limit(small), std::to_string(mib * 1024 * 1024));

  // One replica fits: nothing waits any more.
  auto scale = stack({"-f", file, "scale", "big=1"});
  ASSERT_EQ(scale.status, 0) << scale.err;
  list = ps({"-f", file});
  for (const auto& r : list) EXPECT_NE(r.value("state", ""), "pending") << list.dump();

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

TEST_F(StackReservations, AMemoryReservationAboveTheLimitIsRefusedAtItsField) {
  const std::string file = write_stack_file("resv", R"yaml(name: resv
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      resources:
        limits:
          memory: 64M
        reservations:
          memory: 128M
)yaml");
  auto up = stack({"up", "-d", "-f", file});
  EXPECT_NE(up.status, 0);
  EXPECT_NE(up.err.find("deploy.resources.reservations.memory"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find(":10:"), std::string::npos) << up.err;
  EXPECT_TRUE(ps({"-f", file}).empty());
}

}  // namespace
}  // namespace stack::test
