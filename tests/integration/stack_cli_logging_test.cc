// logging: end to end: json-file rotated at max-size into max-file files
// (what `stack logs` reads), and the none driver keeping nothing while the
// service still runs.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

using StackLogging = StackdFixture;

TEST_F(StackLogging, JsonFileRotatesAsAskedAndNoneKeepsNothing) {
  const std::string file = write_stack_file("logs", R"yaml(name: logs
services:
  chatty:
    image: stack-demo/busybox:1
    command: [sh, -c, "i=0; while [ $$i -lt 400 ]; do echo line-$$i-padding-padding-padding; i=$$((i+1)); done; echo done; sleep 1000"]
    logging:
      driver: json-file
      options: {max-size: 4k, max-file: "2"}
  quiet:
    image: stack-demo/busybox:1
    command: [sh, -c, "echo not-kept; sleep 1000"]
    logging: {driver: none}
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("logging"), std::string::npos) << up.err;
  const auto list = ps({"-f", file});
  const std::string chatty = root() + "/containers/" + replica(list, "logs-chatty-1").value("container_id", "");
  const std::string quiet = root() + "/containers/" + replica(list, "logs-quiet-1").value("container_id", "");

  std::string out;
  ASSERT_TRUE(wait_for([&] {
    out = stack({"-f", file, "logs", "chatty"}).out;
    return out.find("done") != std::string::npos;
  })) << out;
  // Two files of about 4 KiB: the current one and .1; older output is gone.
  EXPECT_TRUE(fs::exists(chatty + "/container.log.1"));
  EXPECT_FALSE(fs::exists(chatty + "/container.log.2"));
  EXPECT_LE(fs::file_size(chatty + "/container.log"), 4096u);
  EXPECT_LE(fs::file_size(chatty + "/container.log.1"), 4096u);
  EXPECT_EQ(out.find("line-0-"), std::string::npos) << "rotated away";
  EXPECT_NE(out.find("line-399-"), std::string::npos);

  // none: the service runs, nothing is written or shown.
  EXPECT_EQ(replica(list, "logs-quiet-1").value("state", ""), "running") << list.dump();
  auto q = stack({"-f", file, "logs", "quiet"});
  EXPECT_EQ(q.out.find("not-kept"), std::string::npos) << q.out;
  EXPECT_FALSE(fs::exists(quiet + "/container.log"));

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

}  // namespace
}  // namespace stack::test
