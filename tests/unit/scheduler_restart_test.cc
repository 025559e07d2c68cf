// Restart policy decisions: which exits restart under which policy, give-up
// counts (with and without a window), fixed delay and Docker's backoff.
#include <gtest/gtest.h>

#include "scheduler/backoff.h"
#include "scheduler/restart.h"

namespace {

using namespace stack::sched;

RestartSpec policy(RestartMode mode, std::optional<int> max = std::nullopt) {
  RestartSpec s;
  s.mode = mode;
  s.max_attempts = max;
  return s;
}

// A replica that ran [started, finished) and exited with `code`.
ReplicaStatus exited(int code, TimeMs started = 1000, TimeMs finished = 1050) {
  ReplicaStatus r;
  r.service = "web";
  r.state = ReplicaState::Exited;
  r.exit_code = code;
  r.started_at = started;
  r.finished_at = finished;
  return r;
}

struct Case {
  const char* name;
  RestartMode mode;
  int exit_code;
  bool oom;
  bool unhealthy;
  bool by_user;
  bool restart;
};

TEST(SchedulerRestart, WhichExitsRestartUnderWhichPolicy) {
  const Case cases[] = {
      {"no, failure", RestartMode::No, 1, false, false, false, false},
      {"no, oom", RestartMode::No, 137, true, false, false, false},
      {"always, success", RestartMode::Always, 0, false, false, false, true},
      {"always, failure", RestartMode::Always, 2, false, false, false, true},
      {"always, stopped by user", RestartMode::Always, 143, false, false, true, false},
      {"unless-stopped, success", RestartMode::UnlessStopped, 0, false, false, false, true},
      {"unless-stopped, stopped by user", RestartMode::UnlessStopped, 0, false, false, true, false},
      {"on-failure, success", RestartMode::OnFailure, 0, false, false, false, false},
      {"on-failure, failure", RestartMode::OnFailure, 1, false, false, false, true},
      {"on-failure, oom with code 0", RestartMode::OnFailure, 0, true, false, false, true},
      {"on-failure, unhealthy with code 0", RestartMode::OnFailure, 0, false, true, false, true},
      {"on-failure, failure, stopped by user", RestartMode::OnFailure, 1, false, false, true,
       false},
  };
  for (const Case& c : cases) {
    ReplicaStatus r = exited(c.exit_code);
    r.oom_killed = c.oom;
    r.stopped_by_user = c.by_user;
    if (c.unhealthy) r.health.health = Health::Unhealthy;
    RestartDecision d = restart_decision(policy(c.mode), r);
    EXPECT_EQ(d.restart, c.restart) << c.name << ": " << d.reason;
    EXPECT_FALSE(d.reason.empty()) << c.name;
    if (c.by_user) {
      EXPECT_NE(d.reason.find("stopped by user"), std::string::npos) << d.reason;
    }
    if (c.oom) {
      EXPECT_NE(d.reason.find("oom-killed"), std::string::npos) << d.reason;
    }
  }
}

TEST(SchedulerRestart, BackoffDoublesFromInitialToTheCapAcrossShortRuns) {
  RestartSpec spec = policy(RestartMode::Always);
  spec.backoff_initial = 100;
  spec.backoff_cap = 1000;
  ReplicaStatus r = exited(1);
  const Ms expected[] = {100, 200, 400, 800, 1000, 1000, 1000};
  TimeMs t = 1000;
  for (Ms want : expected) {
    r.started_at = t;
    r.finished_at = t + 50;  // a short run
    RestartDecision d = restart_decision(spec, r);
    ASSERT_TRUE(d.restart);
    EXPECT_EQ(d.at - r.finished_at, want) << "restart " << r.restart_count + 1;
    note_restart(spec, r, d.at);
    t = d.at;
  }
  EXPECT_EQ(r.restart_count, 7);
}

TEST(SchedulerRestart, AStableRunResetsTheBackoffStreak) {
  RestartSpec spec = policy(RestartMode::OnFailure);
  ReplicaStatus r = exited(1);
  r.restart_streak = 6;  // 100 * 2^6 = 6400 were it not reset
  r.started_at = 1000;
  r.finished_at = 1000 + spec.stable_after - 1;
  EXPECT_EQ(restart_decision(spec, r).at - r.finished_at, 6400);
  r.finished_at = 1000 + spec.stable_after;  // ran exactly stable_after
  RestartDecision d = restart_decision(spec, r);
  EXPECT_EQ(d.at - r.finished_at, spec.backoff_initial);
  EXPECT_EQ(d.next_streak, 1);
}

TEST(SchedulerRestart, OnFailureWithMaxGivesUpAfterThatManyRestarts) {
  RestartSpec spec = policy(RestartMode::OnFailure, 2);
  ReplicaStatus r = exited(3);
  for (int i = 0; i < 2; i++) {
    RestartDecision d = restart_decision(spec, r);
    ASSERT_TRUE(d.restart) << i << ": " << d.reason;
    EXPECT_NE(d.reason.find("(" + std::to_string(i + 1) + "/2"), std::string::npos) << d.reason;
    note_restart(spec, r, d.at);
    r.finished_at = d.at + 10;
  }
  RestartDecision d = restart_decision(spec, r);
  EXPECT_FALSE(d.restart);
  EXPECT_NE(d.reason.find("gave up after 2 restarts"), std::string::npos) << d.reason;
  EXPECT_EQ(r.restart_count, 2);
}

TEST(SchedulerRestart, MaxAttemptsZeroMeansUnlimited) {
  RestartSpec spec = policy(RestartMode::OnFailure, 0);
  ReplicaStatus r = exited(1);
  r.restart_count = 1000;
  EXPECT_TRUE(restart_decision(spec, r).restart);
}

TEST(SchedulerRestart, WindowCountsOnlyRestartsWithinIt) {
  RestartSpec spec = policy(RestartMode::Always, 2);
  spec.window = 10000;
  ReplicaStatus r = exited(1);
  note_restart(spec, r, 1000);
  note_restart(spec, r, 2000);
  r.finished_at = 3000;  // both restarts within 10 s before this exit
  RestartDecision d = restart_decision(spec, r);
  EXPECT_FALSE(d.restart);
  EXPECT_NE(d.reason.find("within 10000 ms"), std::string::npos) << d.reason;
  r.finished_at = 11500;  // the restart at 1000 has left the window
  EXPECT_TRUE(restart_decision(spec, r).restart);
  r.finished_at = 12500;  // both have
  d = restart_decision(spec, r);
  EXPECT_TRUE(d.restart);
  EXPECT_NE(d.reason.find("(1/2"), std::string::npos) << d.reason;
  EXPECT_EQ(r.restart_count, 2);  // the window, not the total, decided
}

TEST(SchedulerRestart, NoteRestartKeepsOnlyTheTimesTheWindowCanUse) {
  RestartSpec spec = policy(RestartMode::Always, 3);
  ReplicaStatus r = exited(1);
  for (TimeMs t = 1; t <= 10; t++) note_restart(spec, r, t * 100);
  EXPECT_EQ(r.restart_times, (std::vector<TimeMs>{800, 900, 1000}));
  EXPECT_EQ(r.restart_count, 10);
}

TEST(SchedulerRestart, FixedDelayOverridesBackoff) {
  RestartSpec spec = policy(RestartMode::Always);
  spec.delay = 5000;
  ReplicaStatus r = exited(0);
  r.restart_streak = 9;
  RestartDecision d = restart_decision(spec, r);
  EXPECT_TRUE(d.restart);
  EXPECT_EQ(d.at, r.finished_at + 5000);
}

TEST(SchedulerRestart, BackoffDelayIsCappedAndNeverOverflows) {
  EXPECT_EQ(backoff_delay(100, 60000, 0), 100);
  EXPECT_EQ(backoff_delay(100, 60000, 3), 800);
  EXPECT_EQ(backoff_delay(100, 60000, 10), 60000);
  EXPECT_EQ(backoff_delay(100, 60000, 1000000), 60000);
  EXPECT_EQ(backoff_delay(100, 60000, -5), 100);
}

// backoff.h (steady_clock face) and restart_decision (TimeMs face) agree.
TEST(SchedulerRestart, SteadyClockBackoffMatchesTheDecision) {
  using namespace std::chrono_literals;
  Backoff b({100ms, 1s, 10s});
  RestartSpec spec = policy(RestartMode::Always);
  spec.backoff_cap = 1000;
  ReplicaStatus r = exited(1);
  auto t0 = std::chrono::steady_clock::time_point{};
  for (int i = 0; i < 8; i++) {
    RestartDecision d = restart_decision(spec, r);
    EXPECT_EQ(b.on_exit(t0, t0 + 50ms).count(), d.at - r.finished_at) << i;
    note_restart(spec, r, d.at);
  }
}

}  // namespace
