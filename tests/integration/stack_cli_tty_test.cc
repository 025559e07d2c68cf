// tty, stdin_open, `stack attach` and `stack run -i/-t`, as a user at a
// terminal sees them: the main process on a pty (logged all the same), input
// typed into an attach, window sizes, the detach keys that leave the
// container running, and a one-off's terminal and exit code. Terminals are
// real: PtyClient (tests/support/pty_client.h) or script(1).
#include <signal.h>

#include <filesystem>

#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/pty_client.h"

namespace stack::test {
namespace {

class StackTty : public StackdFixture {
 protected:
  std::string logs(const std::string& file, const std::string& service) {
    return stack({"-f", file, "logs", service}).out;
  }
  // Shims of this daemon still alive (stackd's runtime root in their argv),
  // and attach sockets left on disk.
  size_t shims_left() {
    // A shim's argv: ... --root <run_dir>/runtime --id ...
    const std::string mark = std::string("--root") + '\0' + run_dir_ + "/runtime";
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
      if (read_file(it->path().string() + "/cmdline").find(mark) != std::string::npos) n++;
    return n;
  }
  // `down`, then no shim, attach socket or mount of the stack is left.
  void expect_down_leaves_nothing(const std::string& file, const HostSnapshot& clean) {
    EXPECT_EQ(stack({"down", "-f", file}).status, 0);
    EXPECT_EQ(shims_left(), 0u);
    EXPECT_FALSE(attach_sockets_left());
    EXPECT_EQ(snapshot(), clean);
  }
  bool attach_sockets_left() {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(run_dir_ + "/runtime", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->path().filename() == "attach.sock") return true;
    return false;
  }
};

// tty: true: the main process's stdio is a pty (tty names /dev/pts/N), and
// its output is still the log's, as stdout.
TEST_F(StackTty, ATtyServiceRunsOnAPtyAndIsLogged) {
  const std::string file = write_stack_file("ttylog", R"yaml(name: ttylog
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, "tty; [ -t 0 ] && echo stdin-is-a-tty; sleep 1000"]
    tty: true
)yaml");
  auto clean = snapshot();
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  ASSERT_TRUE(wait_for([&] { return logs(file, "app").find("stdin-is-a-tty") != std::string::npos; }))
      << logs(file, "app");
  EXPECT_NE(logs(file, "app").find("/dev/pts/"), std::string::npos);
  auto raw = read_file(root() + "/containers/" + ps({"-f", file})[0].value("container_id", "") + "/container.log");
  EXPECT_NE(raw.find("\"stream\":\"stdout\""), std::string::npos) << raw;
  EXPECT_EQ(raw.find("\"stream\":\"stderr\""), std::string::npos) << raw;
  expect_down_leaves_nothing(file, clean);
}

// stdin_open + tty: what an attach types reaches the process, window sizes
// follow the terminal, ctrl-p ctrl-q detaches and the container runs on with
// its stdin still open for the next attach.
TEST_F(StackTty, AttachTypesResizesAndDetaches) {
  const std::string file = write_stack_file("att", R"yaml(name: att
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, "while read l; do echo got-$$l; stty size; done"]
    tty: true
    stdin_open: true
)yaml");
  auto clean = snapshot();
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  {
    PtyClient term(cli({"-f", file, "attach", "app"}), 30, 100);
    ASSERT_TRUE(term.started());
    // Typed until it shows: keys typed before the attach is connected would
    // go to the CLI, which sends them once it is.
    term.type("hello\r");
    ASSERT_TRUE(term.wait_for_output("got-hello")) << term.output();
    ASSERT_TRUE(term.wait_for_output("30 100")) << term.output();
    term.resize(40, 120);
    // The resize frame and the keys after it travel in order.
    ASSERT_TRUE(wait_for([&] {
      term.type("size\r");
      return term.wait_for_output("40 120", std::chrono::seconds(2));
    })) << term.output();
    term.type("\x10\x11");  // ctrl-p ctrl-q
    EXPECT_EQ(term.wait_exit(), 0) << term.output();
  }
  auto r = replica(ps({"-f", file}), "att-app-1");
  EXPECT_EQ(r.value("state", ""), "running") << r.dump();
  {
    PtyClient again(cli({"-f", file, "attach", "app"}), 30, 100);
    again.type("third\r");
    EXPECT_TRUE(again.wait_for_output("got-third")) << again.output();
    again.type("\x10\x11");
    EXPECT_EQ(again.wait_exit(), 0) << again.output();
  }
  // What was typed is in the log as the terminal showed it.
  EXPECT_NE(logs(file, "app").find("got-third"), std::string::npos);
  expect_down_leaves_nothing(file, clean);
}

// stdin_open without a tty: input reaches the process through a pipe; its
// exit code is the attach's. The CLI's EOF does not close that stdin (the
// process exits on its own here).
TEST_F(StackTty, AttachWithoutTtyWritesToAnOpenStdin) {
  const std::string file = write_stack_file("pipe", R"yaml(name: pipe
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, "read l; echo got-$$l; exit 3"]
    stdin_open: true
)yaml");
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  auto a = stack({"-f", file, "attach", "app"}, "hello\n");
  EXPECT_EQ(a.status, 3) << a.out << a.err;
  EXPECT_EQ(a.out, "got-hello\n") << a.err;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

// The shim holds the stdio and the attach socket, not stackd: after a
// daemon crash the next stackd attaches to the same process.
TEST_F(StackTty, AttachReachesAProcessAcrossADaemonRestart) {
  const std::string file = write_stack_file("restart", R"yaml(name: restart
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, "read l; echo got-$$l; exit 5"]
    stdin_open: true
)yaml");
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  stop_daemon(SIGKILL);
  start_daemon(daemon_flags());
  ASSERT_TRUE(wait_for([&] { return replica(ps({"-f", file}), "restart-app-1").value("state", "") == "running"; }));
  auto a = stack({"-f", file, "attach", "app"}, "hello\n");
  EXPECT_EQ(a.status, 5) << a.out << a.err;
  EXPECT_EQ(a.out, "got-hello\n") << a.err;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

// Without stdin_open the process's stdin is not the attach's: with a tty,
// what is typed is dropped (as Docker's daemon drops it for a container
// without OpenStdin). The resize that follows it shows it was handled.
TEST_F(StackTty, AttachInputIsDroppedWithoutStdinOpen) {
  const std::string file = write_stack_file("closed", R"yaml(name: closed
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, "read l; echo got-$$l; sleep 1000"]
    tty: true
)yaml");
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  PtyClient term(cli({"-f", file, "attach", "app"}), 30, 100);
  term.type("hello\r");
  term.resize(33, 77);
  ASSERT_TRUE(wait_for([&] {
    return stack({"-f", file, "exec", "-T", "app", "stty", "-F", "/dev/pts/0", "size"}).out == "33 77\n";
  }));
  // A second round through the shim after it: its frames are in order.
  term.resize(34, 78);
  ASSERT_TRUE(wait_for([&] {
    return stack({"-f", file, "exec", "-T", "app", "stty", "-F", "/dev/pts/0", "size"}).out == "34 78\n";
  }));
  EXPECT_EQ(logs(file, "app").find("hello"), std::string::npos) << logs(file, "app");
  EXPECT_EQ(term.output().find("got-hello"), std::string::npos) << term.output();
  term.type("\x10\x11");
  EXPECT_EQ(term.wait_exit(), 0) << term.output();
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

// run -it (the default on a terminal): the one-off's main process has a
// pty, reads what is typed, and its exit code is the CLI's; --rm removes it.
TEST_F(StackTty, RunOnATerminalIsInteractive) {
  if (!std::filesystem::exists("/usr/bin/script")) GTEST_SKIP() << "no script(1)";
  const std::string file = write_stack_file("oneoff", R"yaml(name: oneoff
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
)yaml");
  auto clean = snapshot();
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  std::string cmd;
  for (const auto& a : cli({"-f", file, "run", "--rm", "app", "sh", "-c", "'tty; read l; echo got-$l; exit 4'"}))
    cmd += a + " ";
  auto tty = run({"script", "-qec", cmd, "/dev/null"}, "hello\n");
  EXPECT_EQ(tty.status, 4) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("/dev/pts/"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("got-hello"), std::string::npos) << tty.out;
  // --rm: the one-off is gone before the CLI exits; only the service's
  // replica is left on disk.
  size_t containers = 0;
  for (auto& e : std::filesystem::directory_iterator(root() + "/containers")) containers += e.is_directory();
  EXPECT_EQ(containers, 1u);
  expect_down_leaves_nothing(file, clean);
}

// run -i without a terminal: stdin is a pipe to the one-off, closed at the
// CLI's EOF (Docker's stdin_once), and output written before the daemon
// attached is not lost.
TEST_F(StackTty, RunWithStdinPipesItAndClosesAtEof) {
  const std::string file = write_stack_file("pipe1", R"yaml(name: pipe1
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
)yaml");
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  auto r = stack({"-f", file, "run", "-i", "-T", "--rm", "app", "sh", "-c", "echo early; cat; echo done-$?"}, "abc\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "early\nabc\ndone-0\n") << r.err;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

}  // namespace
}  // namespace stack::test
