// What `up` without -d follows, and platform: a service with attach: false
// runs but its output is not printed; a service for another platform is
// refused with a message naming both platforms.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/pty_client.h"

namespace stack::test {
namespace {

using StackAttach = StackdFixture;

TEST_F(StackAttach, UpFollowsOnlyAttachedServices) {
  const std::string file = write_stack_file("att", R"yaml(name: att
services:
  shown:
    image: stack-demo/busybox:1
    command: [sh, -c, "sleep 1; echo from-shown"]
  hidden:
    image: stack-demo/busybox:1
    command: [sh, -c, "echo from-hidden; sleep 1"]
    attach: false
)yaml");
  // Attached until Ctrl-C, typed on its terminal once the output arrived,
  // which stops the stack (a fixed timer raced a slow start under load).
  PtyClient term(cli({"up", "-f", file}), 30, 100);
  ASSERT_TRUE(term.started());
  ASSERT_TRUE(term.wait_for_output("from-shown")) << term.output();
  term.type("\x03");
  EXPECT_EQ(term.wait_exit(), 0) << term.output();
  EXPECT_EQ(term.output().find("from-hidden"), std::string::npos) << term.output();
  // It ran all the same.
  const std::string hidden = stack({"-f", file, "logs", "hidden"}).out;
  EXPECT_NE(hidden.find("from-hidden"), std::string::npos) << hidden;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

TEST_F(StackAttach, AForeignPlatformIsRefusedNamingBoth) {
  struct utsname u {};
  ::uname(&u);
  if (std::string(u.machine) != "x86_64") GTEST_SKIP() << "the file names linux/amd64 as the native platform";
  const std::string file = write_stack_file("plat", R"yaml(name: plat
services:
  native:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    platform: linux/amd64
  foreign:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    platform: linux/s390x
)yaml");
  auto up = stack({"up", "-d", "--wait", "--wait-timeout", "20", "-f", file});
  EXPECT_NE(up.status, 0);
  EXPECT_EQ(up.err.find("not supported by stack yet"), std::string::npos) << "not an ignored field: " << up.err;
  EXPECT_NE(up.err.find("service foreign: platform linux/s390x cannot run on this linux/amd64 host"),
            std::string::npos)
      << up.err;
  // The failed up rolled back: nothing of the stack is left.
  EXPECT_TRUE(ps({"-f", file}).empty());
  // The native one alone runs.
  const std::string native = write_stack_file("plat2", R"yaml(name: plat2
services:
  native:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    platform: linux/amd64
)yaml");
  auto ok = stack({"up", "-d", "--wait", "-f", native});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(replica(ps({"-f", native}), "plat2-native-1").value("state", ""), "running");
  EXPECT_EQ(stack({"down", "-f", native}).status, 0);
}

}  // namespace
}  // namespace stack::test
