// Health-check state machine: start period grace, retries, probe schedule,
// the 5-entry log.
#include <gtest/gtest.h>

#include "scheduler/health.h"
#include "scheduler/reconcile.h"

namespace {

using namespace stack::sched;

HealthSpec probe_spec(Ms interval, int retries, Ms start_period, Ms start_interval) {
  HealthSpec s;
  s.kind = ProbeKind::Exec;
  s.exec = {"/bin/true"};
  s.interval = interval;
  s.retries = retries;
  s.start_period = start_period;
  s.start_interval = start_interval;
  return s;
}

ProbeResult result(TimeMs start, int code, std::string output = "") {
  return {start, start + 5, code, std::move(output)};
}

TEST(SchedulerHealth, NoCheckMeansNoStatusAndNoProbes) {
  HealthSpec none;
  HealthStatus s = health_on_start(none, 1000);
  EXPECT_EQ(s.health, Health::None);
  EXPECT_EQ(s.next_probe_at, 0);
  EXPECT_FALSE(health_probe_due(none, s, 1'000'000));
}

TEST(SchedulerHealth, FirstProbeIsOneIntervalAfterStart) {
  struct Case {
    Ms start_period, start_interval;
    TimeMs first_probe;
  } cases[] = {
      {0, 5000, 1000 + 30000},     // no start period: interval
      {60000, 5000, 1000 + 5000},  // start period: start_interval
      {60000, 0, 1000 + 30000},    // start_interval 0: interval
  };
  for (const Case& c : cases) {
    HealthSpec spec = probe_spec(30000, 3, c.start_period, c.start_interval);
    HealthStatus s = health_on_start(spec, 1000);
    EXPECT_EQ(s.health, Health::Starting);
    EXPECT_EQ(s.next_probe_at, c.first_probe) << c.start_period << "/" << c.start_interval;
    EXPECT_FALSE(health_probe_due(spec, s, c.first_probe - 1));
    EXPECT_TRUE(health_probe_due(spec, s, c.first_probe));
  }
}

// A sequence of probe results (time since start, exit code) and the status
// after each one.
struct Step {
  Ms at;
  int code;
  Health health;
  int streak;
  Ms next_in;  // next_probe_at - (probe end)
};

void run_steps(const HealthSpec& spec, const std::vector<Step>& steps) {
  const TimeMs started = 10000;
  HealthStatus s = health_on_start(spec, started);
  for (const Step& step : steps) {
    s = health_on_result(spec, s, started, result(started + step.at, step.code));
    EXPECT_EQ(s.health, step.health) << "at +" << step.at << ": " << to_string(s.health);
    EXPECT_EQ(s.failing_streak, step.streak) << "at +" << step.at;
    EXPECT_EQ(s.next_probe_at - (started + step.at + 5), step.next_in) << "at +" << step.at;
  }
}

TEST(SchedulerHealth, FailuresInsideTheStartPeriodDoNotCount) {
  // start_period 10 s, start_interval 1 s, interval 5 s, retries 2.
  run_steps(probe_spec(5000, 2, 10000, 1000),
            {
                {1000, 1, Health::Starting, 0, 1000},
                {2000, 1, Health::Starting, 0, 1000},
                {9000, 1, Health::Starting, 0, 1000},
                {10000, 1, Health::Starting, 1, 5000},  // the period is over: counts
                {15000, 1, Health::Unhealthy, 2, 5000},
                {20000, 0, Health::Healthy, 0, 5000},  // one success heals
                {25000, 1, Health::Healthy, 1, 5000},
                {30000, 0, Health::Healthy, 0, 5000},  // and resets the streak
            });
}

TEST(SchedulerHealth, ASuccessInsideTheStartPeriodMakesItHealthyAtOnce) {
  run_steps(probe_spec(5000, 3, 60000, 1000),
            {
                {1000, 1, Health::Starting, 0, 1000},
                {2000, 0, Health::Healthy, 0, 5000},  // healthy: back to interval
                {7000, 1, Health::Healthy, 1, 5000},  // failures count now
                {12000, 1, Health::Healthy, 2, 5000},
                {17000, 1, Health::Unhealthy, 3, 5000},
            });
}

TEST(SchedulerHealth, WithoutStartPeriodRetriesConsecutiveFailuresMakeItUnhealthy) {
  run_steps(probe_spec(2000, 3, 0, 500), {
                                             {2000, 1, Health::Starting, 1, 2000},
                                             {4000, 7, Health::Starting, 2, 2000},
                                             {6000, 1, Health::Unhealthy, 3, 2000},
                                             {8000, 1, Health::Unhealthy, 4, 2000},
                                         });
}

TEST(SchedulerHealth, ZeroRetriesMeansDockersDefaultOfThree) {
  run_steps(probe_spec(1000, 0, 0, 0), {
                                           {1000, 1, Health::Starting, 1, 1000},
                                           {2000, 1, Health::Starting, 2, 1000},
                                           {3000, 1, Health::Unhealthy, 3, 1000},
                                       });
}

TEST(SchedulerHealth, KeepsTheLastFiveResultsWithOutputCappedAt4KiB) {
  HealthSpec spec = probe_spec(1000, 3, 0, 0);
  HealthStatus s = health_on_start(spec, 0);
  for (int i = 1; i <= 8; i++)
    s = health_on_result(spec, s, 0, result(i * 1000, 0, std::to_string(i)));
  ASSERT_EQ(s.log.size(), 5u);
  EXPECT_EQ(s.log.front().output, "4");
  EXPECT_EQ(s.log.back().output, "8");
  s = health_on_result(spec, s, 0, result(9000, 1, std::string(10000, 'x')));
  EXPECT_EQ(s.log.back().output.size(), 4096u);
  EXPECT_EQ(s.log.back().exit_code, 1);
}

TEST(SchedulerHealth, ProbeDueFollowsNextProbeAt) {
  HealthSpec spec = probe_spec(3000, 3, 0, 0);
  HealthStatus s = health_on_start(spec, 0);
  s = health_on_result(spec, s, 0, {3000, 3100, 0, ""});
  EXPECT_EQ(s.next_probe_at, 6100);  // from the end of the probe
  EXPECT_FALSE(health_probe_due(spec, s, 6099));
  EXPECT_TRUE(health_probe_due(spec, s, 6100));
}

}  // namespace
