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

TEST(SchedulerHealth, TheNormalScheduleStartsOneIntervalAfterStart) {
  // Docker's first probe: one start_interval (inside a start period) or one
  // interval after start. Before it, the readiness phase probes at once.
  struct Case {
    Ms start_period, start_interval;
    TimeMs first_scheduled;
  } cases[] = {
      {0, 5000, 1000 + 30000},     // no start period: interval
      {60000, 5000, 1000 + 5000},  // start period: start_interval
      {60000, 0, 1000 + 30000},    // start_interval 0: interval
  };
  for (const Case& c : cases) {
    HealthSpec spec = probe_spec(30000, 3, c.start_period, c.start_interval);
    HealthStatus s = health_on_start(spec, 1000);
    EXPECT_EQ(s.health, Health::Starting);
    EXPECT_EQ(s.first_scheduled_at, c.first_scheduled) << c.start_period << "/" << c.start_interval;
    EXPECT_EQ(s.next_probe_at, 1000) << "the readiness phase begins at once";
    EXPECT_FALSE(health_probe_due(spec, s, 999));
    EXPECT_TRUE(health_probe_due(spec, s, 1000));
  }
}

// Issue 11: a replica ready after 2 s used to wait for the first probe at
// 30 s before it got traffic. Quick probes until the normal schedule's
// first one: a success makes it Healthy at once, failures never count.
TEST(SchedulerHealth, AReplicaIsHealthyAsSoonAsItPassesAQuickProbe) {
  HealthSpec spec = probe_spec(30000, 3, 0, 5000);  // Docker's defaults, no start period
  const TimeMs started = 10000;
  HealthStatus s = health_on_start(spec, started);
  TimeMs t = s.next_probe_at;
  std::vector<Ms> delays;
  // The app listens 2 s after start; each probe takes 5 ms.
  while (t - started < 2000) {
    s = health_on_result(spec, s, started, result(t, 1, "connection refused"));
    ASSERT_EQ(s.health, Health::Starting) << "a failure before the first scheduled probe is not counted";
    ASSERT_EQ(s.failing_streak, 0);
    delays.push_back(s.next_probe_at - (t + 5));
    t = s.next_probe_at;
  }
  s = health_on_result(spec, s, started, result(t, 0));
  EXPECT_EQ(s.health, Health::Healthy);
  // Healthy within one quick delay (200 ms) plus one probe of being ready.
  EXPECT_LE(t - (started + 2000), 205);
  ASSERT_GE(delays.size(), 5u);
  EXPECT_EQ((std::vector<Ms>(delays.begin(), delays.begin() + 5)), (std::vector<Ms>{25, 50, 100, 200, 200}));
  // Healthy: Docker's interval from now on.
  EXPECT_EQ(s.next_probe_at, t + 5 + 30000);
}

TEST(SchedulerHealth, QuickProbesNeverOutpaceAShortIntervalNorPassTheFirstScheduledProbe) {
  // interval 100 ms: the quick delays are capped by it.
  EXPECT_EQ(readiness_delay(probe_spec(100, 3, 0, 0), 10), 100);
  EXPECT_EQ(readiness_delay(probe_spec(30000, 3, 60000, 40), 10), 40);
  // interval 150 ms, start 0: the phase ends at +150 whatever the delays say.
  HealthSpec spec = probe_spec(150, 3, 0, 0);
  HealthStatus s = health_on_start(spec, 0);
  EXPECT_EQ(s.first_scheduled_at, 150);
  s = health_on_result(spec, s, 0, {0, 140, 1, ""});
  EXPECT_EQ(s.next_probe_at, 150);
}

TEST(SchedulerHealth, FromTheFirstScheduledProbeOnDockersRulesApply) {
  // A replica that never passes: the quick phase counts nothing, then
  // `retries` failures on the normal schedule make it Unhealthy.
  HealthSpec spec = probe_spec(1000, 2, 0, 0);
  HealthStatus s = health_on_start(spec, 0);
  TimeMs t = 0;
  int quick = 0;
  while (t < s.first_scheduled_at) {
    s = health_on_result(spec, s, 0, result(t, 1));
    t = s.next_probe_at;
    quick++;
  }
  EXPECT_GT(quick, 3);
  EXPECT_EQ(s.failing_streak, 0);
  EXPECT_EQ(t, 1000);
  s = health_on_result(spec, s, 0, result(1000, 1));
  EXPECT_EQ(s.health, Health::Starting);
  EXPECT_EQ(s.failing_streak, 1);
  EXPECT_EQ(s.next_probe_at, 1005 + 1000);
  s = health_on_result(spec, s, 0, result(2005, 1));
  EXPECT_EQ(s.health, Health::Unhealthy);
}

TEST(SchedulerHealth, ARestoredStatusWithoutAReadinessPhaseKeepsDockersSchedule) {
  // A status saved before the readiness phase existed (first_scheduled_at
  // 0): its results count as Docker counts them.
  HealthSpec spec = probe_spec(1000, 1, 0, 0);
  HealthStatus s;
  s.health = Health::Starting;
  s.next_probe_at = 1000;
  s = health_on_result(spec, s, 0, result(1000, 1));
  EXPECT_EQ(s.health, Health::Unhealthy);
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
