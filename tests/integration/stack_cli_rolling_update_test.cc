// Rolling updates through `stack up` as a user of the service sees them:
// four replicas of a small web server behind a published port, requests
// made in a loop while the update runs, and what those requests got. The
// server stops the way a well-behaved one does: on SIGTERM it finishes what
// it serves (a second) and exits, after stackd took it out of the port's
// pool. Rollback by failure_action and by hand, pause, and a stackd killed
// in the middle of an update.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/http_load.h"
#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/loopback_port.h"

namespace stack::test {
namespace {

class StackRollingUpdate : public StackdFixture {
 protected:
  // `version`: what the server answers; `listen`: its port in the container
  // (the health check probes 3000, so another port is a version that never
  // becomes healthy); `update`: deploy.update_config's flow mapping.
  std::string web(const std::string& version, const std::string& update, int replicas = 4,
                  const std::string& listen = "3000") {
    return write_stack_file("roll", "name: roll\n"
                                    "services:\n"
                                    "  web:\n"
                                    "    image: stack-demo/busybox:1\n"
                                    "    command: [sh, -c, 'mkdir -p /www; echo $$V > /www/index.html; "
                                    "httpd -f -p $$P -h /www & pid=$$!; trap \"sleep 1; kill $$pid; exit 0\" TERM; "
                                    "wait $$pid']\n"
                                    "    environment: {V: " + version + ", P: \"" + listen + "\"}\n"
                                    "    ports: [\"" + std::to_string(port_) + ":3000\"]\n"
                                    "    x-healthcheck:\n"
                                    "      http: {port: 3000, path: /}\n"
                                    "      interval: 1s\n"
                                    "      retries: 2\n"
                                    "    deploy:\n"
                                    "      replicas: " + std::to_string(replicas) + "\n"
                                    "      update_config: " + update + "\n");
  }

  void TearDown() override {
    load_.stop();
    StackdFixture::TearDown();
  }

  std::string served_by(const std::string& file, int index) {
    auto r = stack({"exec", "-T", "-f", file, "--index", std::to_string(index), "web", "cat", "/www/index.html"});
    return r.status == 0 ? r.out.substr(0, r.out.find('\n')) : "";
  }

  static int count(const std::vector<std::string>& v, const std::string& what) {
    return static_cast<int>(std::count(v.begin(), v.end(), what));
  }

  int port_ = free_loopback_port();
  HttpLoad load_{[this] { return http_get(port_); }};
};

TEST_F(StackRollingUpdate, StartFirstReplacesEveryReplicaWithoutAFailedRequest) {
  ASSERT_GT(port_, 0);
  const std::string update = "{parallelism: 1, order: start-first, monitor: 1s}";
  auto up = stack({"up", "-d", "--wait", "-f", web("v1", update)});
  ASSERT_EQ(up.status, 0) << up.err;
  ASSERT_EQ(http_get(port_), "v1\n");
  load_.start();
  ASSERT_TRUE(wait_for([&] {
    return load_.answers().size() >= 5;
  }));
  auto update_up = stack({"up", "-d", "-f", web("v2", update)});
  ASSERT_EQ(update_up.status, 0) << update_up.err;
  // Progress, batch by batch.
  EXPECT_NE(update_up.out.find("Service web  Batch 1 of 4: replacing replica 1"), std::string::npos) << update_up.out;
  EXPECT_NE(update_up.out.find("Service web  Batch 4 of 4: replacing replica 4"), std::string::npos) << update_up.out;
  EXPECT_NE(update_up.out.find("Service web  Updated"), std::string::npos) << update_up.out;
  ASSERT_TRUE(wait_for([&] {
    auto seen = load_.answers();
    return seen.size() >= 5 && seen.back() == "v2";
  }));
  auto seen = load_.stop();
  EXPECT_EQ(count(seen, "FAILED"), 0) << ::testing::PrintToString(seen);
  EXPECT_EQ(seen.front(), "v1");
  EXPECT_EQ(seen.back(), "v2");
  EXPECT_EQ(static_cast<size_t>(count(seen, "v1") + count(seen, "v2")), seen.size());
  for (int i = 1; i <= 4; i++) EXPECT_EQ(served_by(web("v2", update), i), "v2") << "replica " << i;
  // Four replicas and no leftover of the old ones.
  auto all = ps({"-f", web("v2", update)});
  EXPECT_EQ(all.size(), 4u) << all.dump();
  EXPECT_EQ(stack({"down", "-f", web("v2", update)}).status, 0);
}

TEST_F(StackRollingUpdate, AVersionThatFailsItsHealthCheckIsRolledBackAndTheOldOneKeepsServing) {
  ASSERT_GT(port_, 0);
  const std::string update = "{parallelism: 2, order: start-first, monitor: 1s, failure_action: rollback}";
  ASSERT_EQ(stack({"up", "-d", "--wait", "-f", web("v1", update)}).status, 0);
  load_.start();
  // v2 listens where the check does not look: it never becomes healthy.
  auto bad = stack({"up", "-d", "-f", web("v2", update, 4, "3001")});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("service web: the update failed and was rolled back (update failed, rolling back: replica 1 "),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.out.find("Service web  Rolled back"), std::string::npos) << bad.out;
  auto seen = load_.stop();
  EXPECT_EQ(count(seen, "FAILED"), 0) << ::testing::PrintToString(seen);
  EXPECT_EQ(static_cast<size_t>(count(seen, "v1")), seen.size()) << ::testing::PrintToString(seen);
  const std::string v1 = web("v1", update);
  for (int i = 1; i <= 4; i++) EXPECT_EQ(served_by(v1, i), "v1") << "replica " << i;
  auto all = ps({"-f", v1});
  EXPECT_EQ(all.size(), 4u) << all.dump();
  for (auto& r : all) EXPECT_EQ(r.value("health", ""), "healthy") << r.dump();
  // The stack's definition is v1 again: an up of v1 changes nothing.
  auto again = stack({"up", "-d", "--wait", "-f", v1});
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out.find("Batch"), std::string::npos) << again.out;
  EXPECT_EQ(stack({"down", "-f", v1}).status, 0);
}

TEST_F(StackRollingUpdate, APausedUpdateStopsWhereItFailedAndRollbackByHandRestoresTheRest) {
  ASSERT_GT(port_, 0);
  const std::string update = "{parallelism: 1, monitor: 1s}";  // stop-first, failure_action pause
  ASSERT_EQ(stack({"up", "-d", "--wait", "-f", web("v1", update)}).status, 0);
  const std::string bad_file = web("v2", update, 4, "3001");
  auto bad = stack({"up", "-d", "-f", bad_file});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("service web: update paused: replica 1 "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("`stack up` resumes it, `stack rollback web` returns to the previous definition"),
            std::string::npos)
      << bad.err;
  // Replica 1 runs v2 (unhealthy, out of the pool); 2..4 were not touched.
  EXPECT_EQ(served_by(bad_file, 1), "v2");
  for (int i = 2; i <= 4; i++) EXPECT_EQ(served_by(bad_file, i), "v1") << "replica " << i;
  for (int i = 0; i < 6; i++) EXPECT_EQ(http_get(port_), "v1\n");
  // `stack up` again resumes it with the next replica, which fails too.
  auto resumed = stack({"up", "-d", "-f", bad_file});
  EXPECT_NE(resumed.status, 0);
  EXPECT_NE(resumed.err.find("update paused: replica 2 "), std::string::npos) << resumed.err;
  EXPECT_EQ(served_by(bad_file, 2), "v2");
  EXPECT_EQ(served_by(bad_file, 3), "v1");
  // By hand: back to v1 everywhere.
  auto rb = stack({"-f", bad_file, "rollback", "web"});
  EXPECT_EQ(rb.status, 0) << rb.err;
  EXPECT_NE(rb.out.find("Service web  Rolled back"), std::string::npos) << rb.out;
  for (int i = 1; i <= 4; i++) EXPECT_EQ(served_by(bad_file, i), "v1") << "replica " << i;
  // A second rollback undoes the first (Swarm's PreviousSpec): v2 again,
  // which pauses as before.
  auto rb2 = stack({"-f", bad_file, "rollback", "web"});
  EXPECT_NE(rb2.status, 0);
  EXPECT_NE(rb2.err.find("rollback paused: replica 1 "), std::string::npos) << rb2.err;
  EXPECT_EQ(stack({"down", "-f", bad_file}).status, 0);
}

TEST_F(StackRollingUpdate, RollbackWithoutAPreviousDefinitionSaysSo) {
  ASSERT_GT(port_, 0);
  const std::string file = web("v1", "{parallelism: 1}", 1);
  ASSERT_EQ(stack({"up", "-d", "--wait", "-f", file}).status, 0);
  auto rb = stack({"-f", file, "rollback", "web"});
  EXPECT_NE(rb.status, 0);
  EXPECT_NE(rb.err.find("service web has no previous definition to roll back to"), std::string::npos) << rb.err;
  auto none = stack({"-f", file, "rollback", "nope"});
  EXPECT_NE(none.status, 0);
  EXPECT_NE(none.err.find("rollback: no such service: nope"), std::string::npos) << none.err;
  EXPECT_EQ(served_by(file, 1), "v1");
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

TEST_F(StackRollingUpdate, AnUpdateInFlightGoesOnAfterStackdIsKilled) {
  ASSERT_GT(port_, 0);
  const std::string update = "{parallelism: 1, delay: 5s, monitor: 0s}";
  ASSERT_EQ(stack({"up", "-d", "--wait", "-f", web("v1", update, 2)}).status, 0);
  const std::string v2 = web("v2", update, 2);
  std::thread updating([&] { (void)stack({"up", "-d", "-f", v2}); });
  // Replica 1 is v2 and replica 2 waits out the delay: stackd dies there.
  bool midway = wait_for([&] { return served_by(v2, 1) == "v2"; });
  EXPECT_EQ(served_by(v2, 2), "v1");
  stop_daemon(SIGKILL);
  updating.join();
  ASSERT_TRUE(midway);
  start_daemon();
  ASSERT_TRUE(wait_for([&] { return served_by(v2, 2) == "v2"; })) << read_file(dir_.path() + "/stackd.log");
  EXPECT_EQ(served_by(v2, 1), "v2");
  // Done: an up of the same file has nothing left to do.
  auto again = stack({"up", "-d", "--wait", "-f", v2});
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out.find("Batch"), std::string::npos) << again.out;
  EXPECT_EQ(stack({"down", "-f", v2}).status, 0);
}

}  // namespace
}  // namespace stack::test
