// x-autoscale through `stack up` as its user sees it: replicas added when
// the replicas' CPU or request rate is above the target, removed when it is
// below, every change an `autoscale` event with its reason, `stack
// autoscale` showing the reading, `stack scale` holding the count and `up`
// keeping what autoscaling reached. stackd reads every 500 ms here
// (--autoscale-interval) so that the windows are short; the rules
// themselves are table-tested in tests/unit/scheduler_autoscale_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/http_load.h"
#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/bundle.h"
#include "tests/support/loopback_port.h"

namespace stack::test {
namespace {

using nlohmann::json;

class StackAutoscale : public StackdFixture {
 protected:
  std::vector<std::string> daemon_flags() override { return {"--autoscale-interval", "500ms"}; }

  // Replicas that spin within cpus: 0.2 while /flag/burn exists (a volume
  // they share: the test turns the load on and off for all at once), so each
  // uses all of its CPU: 100% against a 50% target, twice what one replica
  // should. Without the file they idle.
  std::string busy() {
    return write_stack_file("as", "name: as\n"
                                  "services:\n"
                                  "  busy:\n"
                                  "    image: stack-demo/busybox:1\n"
                                  "    command: [sh, -c, 'while :; do [ -f /flag/burn ] || sleep 1; done']\n"
                                  "    volumes: [flag:/flag]\n"
                                  "    cpus: 0.2\n"
                                  "    x-autoscale: {min: 1, max: 3, cpu: 50%,\n"
                                  "                  scale_up: {stabilization: 0s, max_step: 4, period: 1s},\n"
                                  "                  scale_down: {stabilization: 0s, max_step: 4, period: 1s}}\n"
                                  "volumes:\n"
                                  "  flag: {}\n");
  }
  int load(const std::string& file, bool on) {
    return stack({"exec", "-T", "-f", file, "busy", on ? "touch" : "rm", "/flag/burn"}).status;
  }

  // A web server behind a published port that answers with its replica's
  // hostname, stops as a well-behaved server does (finishes for a second
  // on SIGTERM), and is healthy once it answers.
  std::string web(int replicas, const std::string& autoscale) {
    return write_stack_file("asweb", "name: asweb\n"
                                     "services:\n"
                                     "  web:\n"
                                     "    image: stack-demo/busybox:1\n"
                                     "    command: [sh, -c, 'mkdir -p /www; hostname > /www/index.html; "
                                     "httpd -f -p 3000 -h /www & pid=$$!; trap \"sleep 1; kill $$pid; exit 0\" TERM; "
                                     "wait $$pid']\n"
                                     "    ports: [\"" + std::to_string(port_) + ":3000\"]\n"
                                     "    x-healthcheck:\n"
                                     "      http: {port: 3000, path: /}\n"
                                     "      interval: 1s\n"
                                     "    deploy: {replicas: " + std::to_string(replicas) + "}\n"
                                     "    x-autoscale: " + autoscale + "\n");
  }

  int running(const std::string& file, const std::string& service) {
    int n = 0;
    for (const auto& r : ps({"-f", file}))
      if (r.value("service", "") == service && r.value("state", "") == "running") n++;
    return n;
  }

  json autoscale_view(const std::string& file, const std::string& service) {
    auto r = stack({"-f", file, "autoscale", "--format", "json"});
    auto j = json::parse(r.out, nullptr, false);
    if (r.status != 0 || !j.is_array()) return json::object();
    for (const auto& row : j)
      if (row.value("service", "") == service) return row;
    return json::object();
  }

  // The reasons of the stack's autoscale events so far, oldest first.
  std::vector<std::string> autoscale_reasons(const std::string& file) {
    auto out = run({"timeout", "2", binary("stack"), "--host", "unix://" + socket(), "-f", file, "events", "--json",
                    "--since", "1h"})
                   .out;
    std::vector<std::string> reasons;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      auto e = json::parse(line, nullptr, false);
      if (e.is_discarded() || e.value("type", "") != "autoscale") continue;
      const json attrs = e.value("attrs", json::object());
      reasons.push_back(e.value("service", "") + ": " + attrs.value("reason", ""));
    }
    return reasons;
  }

  void TearDown() override {
    load_.stop();
    StackdFixture::TearDown();
  }

  int port_ = free_loopback_port();
  HttpLoad load_{[this] { return http_get(port_); }};
};

// Busy replicas: 1 -> 2 -> 3 (the max), each step an event with the CPU
// reading that caused it; `up` again keeps the 3 (and `plan` agrees); once
// the load stops, back to the min; `stack scale` holds the idle service at
// 2 until the next `up` lets it go back to 1.
TEST_F(StackAutoscale, CpuLoadScalesUpToMaxAndBackToMinAndScaleHoldsTheCount) {
  const std::string file = busy();
  auto up = stack({"up", "-d", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("x-autoscale"), std::string::npos) << "no longer warned as not applied: " << up.err;
  ASSERT_EQ(load(file, true), 0);
  ASSERT_TRUE(wait_for([&] { return running(file, "busy") == 3; })) << ps({"-f", file}).dump();

  auto reasons = autoscale_reasons(file);
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons.front().rfind("busy: cpu ", 0), 0u) << reasons.front();
  EXPECT_NE(reasons.front().find("% > 50%: 1 -> "), std::string::npos) << reasons.front();
  EXPECT_NE(reasons.back().find(" -> 3"), std::string::npos) << reasons.back();
  json view = autoscale_view(file, "busy");
  EXPECT_EQ(view.value("replicas", 0), 3) << view.dump();
  EXPECT_EQ(view.value("min", 0), 1);
  EXPECT_EQ(view.value("max", 0), 3);
  ASSERT_TRUE(view.contains("reading")) << view.dump();
  EXPECT_GT(view["reading"].value("cpu", 0.0), 50.0) << view.dump();
  auto table = stack({"-f", file, "autoscale"});
  EXPECT_NE(table.out.find("3 (1..3)"), std::string::npos) << table.out;

  // `up` with the same file keeps what autoscaling reached: replicas: 1
  // (the default) is where a new stack starts, not where it goes back to.
  auto again = stack({"up", "-d", "-f", file});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(running(file, "busy"), 3);
  auto plan = stack({"plan", "-f", file});
  EXPECT_EQ(plan.status, 0) << "plan sees a change where up makes none: " << plan.out;
  // Never above max, however busy: still 3 after a few more readings.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(running(file, "busy"), 3);

  // The load stops: back to the min.
  ASSERT_EQ(load(file, false), 0);
  ASSERT_TRUE(wait_for([&] { return running(file, "busy") == 1; })) << ps({"-f", file}).dump();
  reasons = autoscale_reasons(file);
  EXPECT_NE(reasons.back().find("-> 1"), std::string::npos) << reasons.back();

  // scale holds it at 2 (min = max = 2 until the next up), idle as it is.
  auto scaled = stack({"scale", "-f", file, "busy=2"});
  ASSERT_EQ(scaled.status, 0) << scaled.err;
  EXPECT_EQ(running(file, "busy"), 2);
  view = autoscale_view(file, "busy");
  EXPECT_EQ(view.value("min", 0), 2) << view.dump();
  EXPECT_EQ(view.value("max", 0), 2) << view.dump();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // six readings, each near 0%
  EXPECT_EQ(running(file, "busy"), 2) << ps({"-f", file}).dump();
  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  EXPECT_TRUE(wait_for([&] { return running(file, "busy") == 1; })) << ps({"-f", file}).dump();
}

// Requests per second above the target add a replica, which then serves its
// share; no request fails on the way.
TEST_F(StackAutoscale, RequestsPerSecondAboveTheTargetAddAReplicaThatServes) {
  ASSERT_GT(port_, 0);
  const std::string file =
      web(1, "{min: 1, max: 2, requests_per_second: 5, scale_up: {stabilization: 0s, period: 1s}}");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  load_.start();
  ASSERT_TRUE(wait_for([&] {
    auto seen = load_.answers();
    return std::set<std::string>(seen.begin(), seen.end()).size() >= 2;
  })) << ps({"-f", file}).dump();
  // Read while the requests still come: the reading covers the last window.
  json view = autoscale_view(file, "web");
  auto seen = load_.stop();
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "FAILED"), 0);
  EXPECT_EQ(running(file, "web"), 2);
  auto reasons = autoscale_reasons(file);
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons.front().rfind("web: requests/s ", 0), 0u) << reasons.front();
  EXPECT_NE(reasons.front().find(" > 5: 1 -> 2"), std::string::npos) << reasons.front();
  ASSERT_TRUE(view.contains("reading")) << view.dump();
  EXPECT_GT(view["reading"].value("rps", 0.0), 5.0) << view.dump();
}

// Idle replicas go down to min while requests keep coming: the replicas that
// go leave the port's pool before their stop signal, so none fails.
TEST_F(StackAutoscale, IdleReplicasScaleDownToMinWithoutAFailedRequest) {
  ASSERT_GT(port_, 0);
  const std::string file =
      web(3, "{min: 1, max: 3, cpu: 50%, scale_down: {stabilization: 0s, max_step: 2, period: 1s}}");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  load_.start();
  ASSERT_TRUE(wait_for([&] { return running(file, "web") == 1; })) << ps({"-f", file}).dump();
  // Requests after the last replica left.
  const size_t after = load_.answers().size();
  ASSERT_TRUE(wait_for([&] { return load_.answers().size() >= after + 20; }));
  auto seen = load_.stop();
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "FAILED"), 0) << ::testing::PrintToString(seen);
  auto reasons = autoscale_reasons(file);
  ASSERT_FALSE(reasons.empty());
  EXPECT_NE(reasons.back().find("3 -> 1"), std::string::npos) << reasons.back();
}

// A reading interval that is not a duration (or under 100 ms) keeps stackd
// from starting, naming the flag, before it makes anything.
TEST(StackdAutoscaleInterval, ABadIntervalKeepsStackdFromStarting) {
  TempDir dir{"autoscale-flag"};
  for (const char* bad : {"often", "10ms", "-5s"}) {
    auto r = run({binary("stackd"), "--foreground", "--root", dir.path() + "/root", "--socket", dir.path() + "/s.sock",
                  "--runtime-root", dir.path() + "/runtime", "--autoscale-interval", bad});
    EXPECT_NE(r.status, 0) << bad;
    EXPECT_NE(r.err.find(std::string("--autoscale-interval ") + bad + ": expected a duration of at least 100ms"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/root")) << bad;
  }
}

}  // namespace
}  // namespace stack::test
