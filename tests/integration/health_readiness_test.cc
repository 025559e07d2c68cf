// Issue 11: a replica with a health check joins the published port's pool
// as soon as it passes a probe, not one `interval` after it started. The
// services here probe every hour: under Docker's schedule alone their first
// probe (and so their first request) would come after an hour; the
// readiness phase (scheduler/health.h) probes them from the start. The app
// stands in for a server that needs a few seconds before it listens.
#include <signal.h>

#include <fstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

class HealthReadiness : public StackdFixture {
 protected:
  // `check` is the service's health-check block (indented 4 spaces).
  std::string write_stack(const std::string& check) {
    const std::string file = dir_.path() + "/slow.yaml";
    std::ofstream(file) << "services:\n"
                           "  slow:\n"
                           "    image: stack-demo/busybox:1\n"
                           "    command: [\"sh\", \"-c\", \"sleep 2; mkdir -p /www; echo ready > /www/index.html; "
                           "exec httpd -f -p 3000 -h /www\"]\n"
                           "    ports: [\"18080:3000\"]\n"
                           "    restart: always\n"
                        << check;
    return file;
  }
};

constexpr const char* kHttpCheck =
    "    x-healthcheck:\n"
    "      http: {port: 3000, path: /}\n"
    "      interval: 1h\n"
    "      retries: 1\n";

constexpr const char* kExecCheck =
    "    healthcheck:\n"
    "      test: [\"CMD\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:3000/\"]\n"
    "      interval: 1h\n"
    "      retries: 1\n";

TEST_F(HealthReadiness, TheFirstRequestIsServedOnceTheAppListensNotAnIntervalLater) {
  for (const char* check : {kHttpCheck, kExecCheck}) {
    SCOPED_TRACE(check);
    const std::string file = write_stack(check);
    auto up = stack({"up", "-d", "-f", file});
    ASSERT_EQ(up.status, 0) << up.err;
    ASSERT_TRUE(wait_for([&] { return http_get(18080) == "ready\n"; }))
        << stack({"ps", "-a", "-f", file}).out << stack({"-f", file, "logs"}).out;
    auto r = replica(ps({"-f", file}), "slow-slow-1");
    EXPECT_EQ(r.value("health", ""), "healthy");
    // Probes failed for ~2 s while the app slept, with retries: 1: none of
    // them counted, so the slow starter was never restarted for it.
    EXPECT_EQ(r.value("restarts", -1), 0);
    ASSERT_EQ(stack({"down", "-f", file}).status, 0);
  }
}

TEST_F(HealthReadiness, AKilledReplicasReplacementGetsTrafficOnceItListens) {
  const std::string file = write_stack(kHttpCheck);
  auto up = stack({"up", "-d", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  ASSERT_TRUE(wait_for([&] { return http_get(18080) == "ready\n"; })) << stack({"ps", "-a", "-f", file}).out;
  int pid = replica(ps({"-f", file}), "slow-slow-1").value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(wait_for([&] {
    auto r = replica(ps({"-f", file}), "slow-slow-1");
    return r.value("restarts", 0) == 1 && r.value("state", "") == "running";
  })) << stack({"ps", "-a", "-f", file}).out;
  ASSERT_TRUE(wait_for([&] { return http_get(18080) == "ready\n"; }))
      << stack({"ps", "-a", "-f", file}).out << stack({"-f", file, "logs"}).out;
  EXPECT_EQ(replica(ps({"-f", file}), "slow-slow-1").value("health", ""), "healthy");
}

}  // namespace
}  // namespace stack::test
