// The real client we aim at: podman driving stack-runtime as its OCI runtime
// (`podman --runtime .../stack-runtime`). Skips when podman is not installed.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/bundle.h"

namespace fs = std::filesystem;
using stack::test::CmdResult;
using stack::test::run;

namespace {

// One image per test process: ctest runs each test as its own process, in
// parallel, and each imports and removes its image.
const std::string kImage = "localhost/stack-test-busybox-" + std::to_string(::getpid());

class Podman : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0 || !fs::exists("/usr/bin/podman")) return;
    // A busybox image made offline: `podman import` of a plain rootfs tar.
    stack::test::TempDir root("stack-podman-img");
    fs::create_directories(root.path() + "/bin");
    for (auto d : {"etc", "tmp", "proc", "sys", "dev"}) fs::create_directories(root.path() + "/" + d);
    fs::copy_file("/bin/busybox", root.path() + "/bin/busybox");
    CmdResult list = run({"/bin/busybox", "--list"});
    std::istringstream applets(list.out);
    for (std::string a; std::getline(applets, a);)
      if (!a.empty() && a != "busybox") fs::create_symlink("busybox", root.path() + "/bin/" + a);
    std::ofstream(root.path() + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(root.path() + "/etc/group") << "root:x:0:\n";
    std::string tar = root.path() + ".tar";
    run({"tar", "-C", root.path(), "-cf", tar, "."});
    CmdResult imp = run({"podman", "import", tar, kImage});
    fs::remove(tar);
    imported_ = imp.status == 0;
    import_err_ = imp.err;
  }
  static void TearDownTestSuite() {
    if (imported_) run({"podman", "rmi", "-f", kImage});
  }
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    if (!fs::exists("/usr/bin/podman")) GTEST_SKIP() << "podman is not installed";
    ASSERT_TRUE(imported_) << "podman import failed: " << import_err_;
  }
  CmdResult podman(std::vector<std::string> args) {
    std::vector<std::string> argv = {"podman", "--runtime", stack::test::binary("stack-runtime")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  // --network none everywhere: these tests are about the runtime, and
  // podman's default network would add netavark's firewall chains to the host.
  // This host's rlimits cannot be raised (no CAP_SYS_RESOURCE): podman's
  // defaults ask for more, so pin them as the project's notes say.
  const std::vector<std::string> ulimits = {"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};
  static inline bool imported_ = false;
  static inline std::string import_err_;
};

TEST_F(Podman, RunPrintsAndExitsWithTheContainersStatus) {
  std::vector<std::string> args = {"run", "--rm", "--network", "none"};
  args.insert(args.end(), ulimits.begin(), ulimits.end());
  args.insert(args.end(), {kImage, "sh", "-c", "echo hello-from-podman; exit 3"});
  CmdResult r = podman(args);
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(r.out, "hello-from-podman\n") << r.err;
}

TEST_F(Podman, DetachedContainerExecLogsStopRm) {
  std::string name = stack::test::unique_id("stack-podman");
  std::vector<std::string> args = {"run", "-d", "--network", "none", "--name", name};
  args.insert(args.end(), ulimits.begin(), ulimits.end());
  args.insert(args.end(), {kImage, "sh", "-c", "trap 'exit 0' TERM; echo started; while true; do sleep 1; done"});
  CmdResult r = podman(args);
  ASSERT_EQ(r.status, 0) << r.err;
  CmdResult ex = podman({"exec", name, "sh", "-c", "echo exec-$((40+2))"});
  EXPECT_EQ(ex.status, 0) << ex.err;
  EXPECT_EQ(ex.out, "exec-42\n");
  CmdResult ps = podman({"ps", "--filter", "name=" + name, "--format", "{{.Status}}"});
  EXPECT_EQ(ps.out.rfind("Up", 0), 0u) << ps.out << ps.err;
  CmdResult logs = podman({"logs", name});
  EXPECT_NE(logs.out.find("started"), std::string::npos) << logs.out << logs.err;
  CmdResult stop = podman({"stop", "-t", "10", name});
  EXPECT_EQ(stop.status, 0) << stop.err;
  CmdResult inspect = podman({"inspect", "--format", "{{.State.ExitCode}}", name});
  EXPECT_EQ(inspect.out, "0\n") << inspect.err;  // the TERM trap ran: graceful stop
  EXPECT_EQ(podman({"rm", name}).status, 0);
  EXPECT_EQ(podman({"ps", "-a", "--filter", "name=" + name, "--format", "{{.Names}}"}).out, "");
}

TEST_F(Podman, TerminalThroughTheConsoleSocket) {
  if (!fs::exists("/usr/bin/script")) GTEST_SKIP() << "script(1) is not installed";
  // script gives podman a terminal, so podman uses --console-socket.
  std::string cmd = "podman --runtime " + stack::test::binary("stack-runtime") +
                    " run --rm -t --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 " + kImage +
                    " sh -c 'tty; echo tty-ok'";
  CmdResult r = run({"script", "-qec", cmd, "/dev/null"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tty-ok"), std::string::npos) << r.out;
}

}  // namespace
