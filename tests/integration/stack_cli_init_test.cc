// init: true end to end: stack-init is pid 1, the command its child; an
// orphan that exits is reaped (beside a service without init, where the
// same orphan stays a zombie under a pid 1 that never waits); `stack stop`'s
// SIGTERM reaches the command, which as pid 1 would have ignored it.
#include <gtest/gtest.h>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

using StackInit = StackdFixture;

TEST_F(StackInit, Pid1ReapsOrphansAndForwardsSignals) {
  // The subshell leaves `sleep 1` to pid 1 and exits; pid 1 is then either
  // stack-init or `sleep 1000` (exec'd by sh), which never waits.
  const std::string file = write_stack_file("ini", R"yaml(name: ini
services:
  with:
    image: stack-demo/busybox:1
    init: true
    command: [sh, -c, "(sleep 1 &); exec sleep 1000"]
    stop_grace_period: 60s
  without:
    image: stack-demo/busybox:1
    command: [sh, -c, "(sleep 1 &); exec sleep 1000"]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("init"), std::string::npos) << "no warning any more: " << up.err;
  auto in = [&](const std::string& svc, const std::string& script) {
    return stack({"exec", "-T", "-f", file, svc, "sh", "-c", script}).out;
  };
  EXPECT_EQ(in("with", "cat /proc/1/comm"), "stack-init\n");
  EXPECT_EQ(in("without", "cat /proc/1/comm"), "sleep\n");
  // Zombies: processes in state Z, after the orphan's second.
  const std::string zombies = "grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l";
  EXPECT_TRUE(wait_for([&] { return in("without", zombies) == "1\n"; }, std::chrono::seconds(20)))
      << "the control: no init, a zombie";
  EXPECT_EQ(in("with", zombies), "0\n");
  EXPECT_EQ(in("with", "ps -o comm | grep -c '^sleep'"), "1\n") << "the orphan is gone, the command runs";

  // SIGTERM reaches `sleep 1000` through stack-init: it dies of it at once
  // (143 = 128 + SIGTERM), long before the 60 s grace period's SIGKILL.
  auto stop = stack({"stop", "-f", file, "with"});
  ASSERT_EQ(stop.status, 0) << stop.err;
  const auto r = replica(ps({"-f", file}), "ini-with-1");
  EXPECT_EQ(r.value("exit_code", -1), 143) << r.dump();

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

}  // namespace
}  // namespace stack::test
