// logging: end to end: json-file rotated at max-size into max-file files
// (what `stack logs` reads), and the none driver keeping nothing while the
// service still runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

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

// compress: the rotated files are gzipped as Docker names them
// (container.log.N.gz), and `stack logs` reads through them: every line kept
// is shown once, in order, with no gap.
TEST_F(StackLogging, CompressedRotatedFilesAreGzippedAndStillRead) {
  const std::string file = write_stack_file("zlogs", R"yaml(name: zlogs
services:
  chatty:
    image: stack-demo/busybox:1
    command: [sh, -c, "i=0; while [ $$i -lt 400 ]; do echo line-$$i-padding-padding-padding; i=$$((i+1)); done; echo done; sleep 1000"]
    logging:
      options: {max-size: 4k, max-file: "3", compress: "true"}
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("compress"), std::string::npos) << "no longer warned: " << up.err;
  const std::string dir =
      root() + "/containers/" + replica(ps({"-f", file}), "zlogs-chatty-1").value("container_id", "");
  std::string out;
  ASSERT_TRUE(wait_for([&] {
    out = stack({"-f", file, "logs", "chatty"}).out;
    return out.find("done") != std::string::npos;
  })) << out;
  for (const char* kept : {"/container.log.1.gz", "/container.log.2.gz"}) {
    ASSERT_TRUE(fs::exists(dir + kept)) << kept;
    EXPECT_EQ(read_file(dir + kept).substr(0, 2), std::string("\x1f\x8b")) << kept << " is gzip";
  }
  EXPECT_FALSE(fs::exists(dir + "/container.log.1")) << "the plain rotated file is gone";
  EXPECT_FALSE(fs::exists(dir + "/container.log.3.gz")) << "max-file counts the current file";
  // Lines from the oldest kept one on, each once and in order, to the end.
  std::vector<int> seen;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (auto at = line.find("line-"); at != std::string::npos) seen.push_back(std::stoi(line.substr(at + 5)));
  ASSERT_FALSE(seen.empty()) << out;
  EXPECT_GT(seen.front(), 0) << "the oldest lines rotated away";
  EXPECT_EQ(seen.back(), 399);
  for (size_t i = 1; i < seen.size(); i++) EXPECT_EQ(seen[i], seen[i - 1] + 1) << "at " << seen[i - 1];
  // More than the current file holds: the gzipped ones were read.
  const std::string current = read_file(dir + "/container.log");
  EXPECT_GT(seen.size(), static_cast<size_t>(std::count(current.begin(), current.end(), '\n')) + 20) << out;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

}  // namespace
}  // namespace stack::test
