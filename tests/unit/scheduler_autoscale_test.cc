// autoscale() (scheduler/autoscale.h) as a table: proposals from the ready
// replicas' load, the tolerance band, stabilization windows, steps per
// period and the bounds, with time passed in.
#include <gtest/gtest.h>

#include "scheduler/autoscale.h"

namespace {

using namespace stack::sched;

AutoscaleSpec cpu70(int min = 1, int max = 10) {
  AutoscaleSpec s;
  s.min = min;
  s.max = max;
  s.cpu = 70;
  return s;
}

std::vector<ReplicaLoad> at_cpu(std::vector<double> cpus, bool ready = true) {
  std::vector<ReplicaLoad> out;
  for (double c : cpus) out.push_back({ready, c, 0, 0});
  return out;
}

constexpr TimeMs t0 = 1'700'000'000'000;

TEST(SchedulerAutoscale, ProposalIsCurrentTimesTheRatioRoundedUp) {
  struct Row {
    int current;
    std::vector<double> cpu;
    int want;
  };
  for (const Row& r : std::vector<Row>{
           {2, {91, 91}, 3},      // 2 x 1.3 = 2.6 -> 3
           {2, {140, 140}, 4},    // 2 x 2 = 4
           {4, {75, 73, 70, 68}, 4},  // 71.5 / 70: within 10%
           {2, {350, 350}, 6},    // 2 x 5 = 10, but at most 4 added per period
       }) {
    AutoscaleDecision d = autoscale(cpu70(), r.current, at_cpu(r.cpu), {}, t0);
    EXPECT_EQ(d.desired, r.want) << r.current << " replicas";
  }
  AutoscaleDecision d = autoscale(cpu70(), 2, at_cpu({91, 91}), {}, t0);
  EXPECT_EQ(d.reason, "cpu 91% > 70%: 2 -> 3");
}

TEST(SchedulerAutoscale, UnreadyReplicasDoNotCount) {
  std::vector<ReplicaLoad> load = at_cpu({140});
  load.push_back({false, 0, 0, 0});  // starting: its 0% must not pull the average down
  EXPECT_EQ(autoscale(cpu70(), 2, load, {}, t0).desired, 4);
  EXPECT_EQ(autoscale(cpu70(), 2, at_cpu({500, 500}, false), {}, t0).desired, 2);  // none ready: stays
}

TEST(SchedulerAutoscale, TheLargestProposalOverTheTargetsWins) {
  AutoscaleSpec s = cpu70();
  s.rps = 100;
  std::vector<ReplicaLoad> load = {{true, 35, 0, 300}, {true, 35, 0, 300}};  // cpu wants 1, rps wants 6
  AutoscaleDecision d = autoscale(s, 2, load, {}, t0);
  EXPECT_EQ(d.desired, 6);
  EXPECT_EQ(d.reason, "requests/s 300 > 100: 2 -> 6");
}

TEST(SchedulerAutoscale, ScaleDownWaitsOutItsStabilizationWindow) {
  AutoscaleSpec s = cpu70();
  s.down.stabilization = 300000;
  AutoscaleState st;
  // Busy at t0: 4 replicas are right.
  AutoscaleDecision d = autoscale(s, 4, at_cpu({70, 70, 70, 70}), st, t0);
  EXPECT_EQ(d.desired, 4);
  st = d.next;
  // Idle from then on: nothing goes until 5 minutes after the busy one.
  for (Ms after : {60000, 180000, 299000}) {
    d = autoscale(s, 4, at_cpu({10, 10, 10, 10}), st, t0 + after);
    EXPECT_EQ(d.desired, 4) << after;
    st = d.next;
  }
  d = autoscale(s, 4, at_cpu({10, 10, 10, 10}), st, t0 + 301000);
  EXPECT_EQ(d.desired, 3);  // one per 60 s period
  EXPECT_EQ(d.reason, "cpu 10% < 70%: 4 -> 3");
  st = d.next;
  EXPECT_EQ(autoscale(s, 3, at_cpu({10, 10, 10}), st, t0 + 330000).desired, 3);  // within the period
  EXPECT_EQ(autoscale(s, 3, at_cpu({10, 10, 10}), st, t0 + 362000).desired, 2);
}

TEST(SchedulerAutoscale, ScaleUpIsLimitedPerPeriod) {
  AutoscaleSpec s = cpu70(1, 20);
  s.up.max_step = 2;
  s.up.period = 15000;
  AutoscaleState st;
  AutoscaleDecision d = autoscale(s, 2, at_cpu({350, 350}), st, t0);
  EXPECT_EQ(d.desired, 4);
  st = d.next;
  EXPECT_EQ(autoscale(s, 4, at_cpu({350, 350, 350, 350}), st, t0 + 5000).desired, 4);   // 2 added in this period
  EXPECT_EQ(autoscale(s, 4, at_cpu({350, 350, 350, 350}), st, t0 + 15001).desired, 6);  // a new period
}

TEST(SchedulerAutoscale, AScaleUpStabilizationTakesTheSmallestRecentRecommendation) {
  AutoscaleSpec s = cpu70();
  s.up.stabilization = 30000;
  AutoscaleState st = autoscale(s, 2, at_cpu({70, 70}), {}, t0).next;  // 2 recommended
  AutoscaleDecision d = autoscale(s, 2, at_cpu({140, 140}), st, t0 + 10000);
  EXPECT_EQ(d.desired, 2);  // a spike shorter than the window
  d = autoscale(s, 2, at_cpu({140, 140}), d.next, t0 + 31000);
  EXPECT_EQ(d.desired, 4);
}

TEST(SchedulerAutoscale, MinAndMaxHoldWhateverTheLoad) {
  EXPECT_EQ(autoscale(cpu70(2, 3), 3, at_cpu({500, 500, 500}), {}, t0).desired, 3);
  AutoscaleSpec s = cpu70(2, 3);
  s.down.stabilization = 0;
  EXPECT_EQ(autoscale(s, 2, at_cpu({1, 1}), {}, t0).desired, 2);
  AutoscaleDecision d = autoscale(cpu70(3, 5), 1, at_cpu({70}), {}, t0);  // a new min applies at once
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.reason, "below min 3: 1 -> 3");
}

TEST(SchedulerAutoscale, OldHistoryIsForgotten) {
  AutoscaleSpec s = cpu70();
  AutoscaleState st;
  for (int i = 0; i < 100; i++) st = autoscale(s, 2, at_cpu({70, 70}), st, t0 + i * 15000).next;
  EXPECT_LE(st.recommendations.size(), 21u);  // the 300 s window at one per 15 s
  EXPECT_TRUE(st.changes.empty());
}

}  // namespace
