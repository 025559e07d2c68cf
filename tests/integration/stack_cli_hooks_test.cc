// post_start and pre_stop end to end: the hook runs inside the replica with
// its own user and environment after the start (its effect is seen by
// exec), pre_stop runs before the stop signal (it writes to a bind mount the
// test reads after the stop), and a failing post_start fails the start with
// the hook's status and output.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using StackHooks = StackdFixture;

TEST_F(StackHooks, PostStartAndPreStopRunInsideTheReplica) {
  std::filesystem::create_directories(dir_.path() + "/out");
  const std::string file = write_stack_file("hk", R"yaml(name: hk
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, "trap 'echo term-seen >> /out/order; exit 0' TERM; while true; do sleep 0.2; done"]
    volumes: ["./out:/out"]
    post_start:
      - command: sh -c 'echo "$$GREETING from $$(id -u)" > /tmp/started'
        user: nobody
        environment: {GREETING: hello}
    pre_stop:
      - command: [sh, -c, "echo pre-stop-$$WHO >> /out/order"]
        environment: [WHO=hook]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_TRUE(up.err.empty()) << up.err;
  EXPECT_EQ(stack({"exec", "-T", "-f", file, "app", "cat", "/tmp/started"}).out, "hello from 65534\n");

  auto stop = stack({"stop", "-f", file});
  ASSERT_EQ(stop.status, 0) << stop.err;
  // The hook first, then the stop signal the command traps.
  EXPECT_TRUE(wait_for([&] { return slurp(dir_.path() + "/out/order") == "pre-stop-hook\nterm-seen\n"; },
                       std::chrono::seconds(20)))
      << slurp(dir_.path() + "/out/order");
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

TEST_F(StackHooks, AFailingPostStartFailsTheStart) {
  const std::string file = write_stack_file("hkf", R"yaml(name: hkf
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    post_start:
      - command: sh -c 'echo no-database; exit 3'
)yaml");
  auto up = stack({"up", "-d", "--wait", "--wait-timeout", "20", "-f", file});
  EXPECT_NE(up.status, 0);
  EXPECT_NE(up.err.find("post_start[0] (sh -c echo no-database; exit 3): exited with status 3: no-database"),
            std::string::npos)
      << up.err;
  (void)stack({"down", "-f", file});
}

}  // namespace
}  // namespace stack::test
