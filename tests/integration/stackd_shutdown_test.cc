// What bench/soak_kill9.sh found: stackd exits promptly on SIGTERM while a
// request waits for its stack to converge (`stack scale` waits in its API
// connection's thread until the scale is done, for a replica that ignores
// SIGTERM its stop grace period; the server joined that thread before the
// supervisors were told to stop, so stackd sat on a futex all that time) or
// while an exec's process runs on; and a half-created container's runtime
// state dir does not stay for ever.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

class StackdShutdown : public StackdFixture {};

TEST_F(StackdShutdown, SigtermWhileAScaleWaitsForAStopGracePeriodExitsPromptly) {
  std::string file = dir_.path() + "/grace.yaml";
  {
    // busybox sleep as pid 1 ignores SIGTERM: only the SIGKILL after the
    // grace period ends it.
    std::ofstream f(file);
    f << "name: grace\nservices:\n  worker:\n    image: stack-demo/busybox:1\n"
         "    command: [\"sleep\", \"100000\"]\n    stop_grace_period: 30s\n";
  }
  auto up = stack({"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;

  CmdResult scaled;
  std::thread scaler([&] { scaled = stack({"-f", file, "scale", "worker=0"}); });
  bool stopping = wait_for([&] { return replica(ps({"-f", file}), "grace-worker-1").value("state", "") == "stopping"; },
                           std::chrono::seconds(30));
  if (!stopping) {
    scaler.join();
    FAIL() << "worker never went to stopping: " << stack({"-f", file, "ps", "-a"}).out;
  }

  bool exited = terminate_daemon_within(std::chrono::seconds(10));
  scaler.join();
  EXPECT_TRUE(exited) << "stackd still running 10 s after SIGTERM (the scale waits out the 30 s grace)";
  EXPECT_NE(scaled.status, 0) << "the interrupted scale reports that it did not finish";

  // The scale was stored before the wait: the next daemon adopts the stack
  // and carries it out (the worker goes once its grace period is over).
  start_daemon();
  auto w = replica(ps({"-f", file}), "grace-worker-1");
  EXPECT_EQ(w.value("state", ""), "stopping") << w.dump();
}

// A relay of `stack exec` waited for the process to end, however long it
// ran, and the server joins that thread too.
TEST_F(StackdShutdown, SigtermWhileAnExecRunsExitsPromptly) {
  std::string file = dir_.path() + "/exec.yaml";
  {
    std::ofstream f(file);
    f << "name: ex\nservices:\n  worker:\n    image: stack-demo/busybox:1\n"
         "    command: [\"sleep\", \"100000\"]\n    stop_grace_period: 1s\n";
  }
  auto up = stack({"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;
  CmdResult exec;
  std::thread execer([&] { exec = stack({"-f", file, "exec", "-T", "worker", "sleep", "60"}); });
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the relay runs
  bool exited = terminate_daemon_within(std::chrono::seconds(10));
  execer.join();
  EXPECT_TRUE(exited) << "stackd still running 10 s after SIGTERM (the exec runs 60 s)";
  EXPECT_NE(exec.status, 0);
  start_daemon();
}

// A create killed half-way (its shim SIGKILLed before the container's state
// was saved, e.g. by a restore that removed it while it started) leaves a
// runtime state dir with config.json and no state.json. Found by
// bench/soak_kill9.sh: delete_container() refused it ("still being
// created") and the dir stayed for ever. The next stackd removes it.
TEST_F(StackdShutdown, RestoreRemovesAHalfCreatedContainersStateDir) {
  std::string file = dir_.path() + "/half.yaml";
  {
    std::ofstream f(file);
    f << "name: half\nservices:\n  worker:\n    image: stack-demo/busybox:1\n"
         "    command: [\"sleep\", \"100000\"]\n    restart: always\n";
  }
  auto up = stack({"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;
  auto before = replica(ps({"-f", file}), "half-worker-1");
  std::string id = before.value("container_id", "");
  ASSERT_FALSE(id.empty()) << before.dump();
  stop_daemon(SIGKILL);

  // What a shim killed inside create leaves: no shim, no process, a state
  // dir with only config.json.
  std::string state = run_dir_ + "/runtime/" + id;
  int shim = 0;
  std::ifstream(state + "/shim.pid") >> shim;
  ASSERT_GT(shim, 0);
  ::kill(shim, SIGKILL);
  ::kill(before.value("pid", 0), SIGKILL);
  ASSERT_TRUE(wait_for([&] { return ::kill(shim, 0) != 0; }, std::chrono::seconds(10)));
  std::filesystem::remove(state + "/state.json");
  std::filesystem::remove(state + "/shim.pid");
  std::ofstream(state + "/config.json") << "{}";

  start_daemon();
  EXPECT_FALSE(std::filesystem::exists(state)) << "the half-created container's state dir is left";
  EXPECT_TRUE(wait_for([&] {
    auto r = replica(ps({"-f", file}), "half-worker-1");
    return r.value("state", "") == "running" && r.value("container_id", "") != id;
  })) << stack({"-f", file, "ps", "-a"}).out;
}

}  // namespace
}  // namespace stack::test
