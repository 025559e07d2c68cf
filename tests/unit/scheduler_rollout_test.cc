// Rolling updates (scheduler/rollout.h) driven together with reconcile() in a
// small discrete-time world: tasks per (slot, incarnation) so that a slot
// can hold an old and a new task (start-first), each config's containers
// healthy or not as the test says, time advancing to the next thing that
// matters. What is checked is what a client of the service would see: how
// many replicas serve at every instant, which config they run, and when
// each batch began.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "scheduler/health.h"
#include "scheduler/reconcile.h"
#include "scheduler/restart.h"
#include "scheduler/rollout.h"
#include "tests/unit/scheduler_fixture.h"

namespace {

using namespace stack::sched;
using namespace stack::sched::fixture;

struct Behaviour {
  bool healthy = true;  // its probes pass
  Ms exits_after = -1;  // exits 1 after running this long (-1: runs until stopped)
};

class World {
 public:
  static constexpr TimeMs t0 = 1'700'000'000'000;
  ServiceSpec web = svc("web", 4);
  std::map<std::string, Behaviour> configs;  // config hash -> how its containers behave
  std::vector<ReplicaStatus> tasks;
  std::optional<Rollout> rollout;
  std::vector<std::string> events;
  std::vector<std::string> log;  // "<ms> create 3" ...
  TimeMs now = t0;
  int min_serving = 1 << 30;  // the fewest replicas serving at any instant after the start
  uint64_t serial = 0;

  World() {
    web.health = exec_check();
    web.health.interval = 500;
    web.health.retries = 2;
    web.health.start_interval = 100;
    web.restart.mode = RestartMode::Always;
    web.update = UpdatePolicy{};
    web.update->monitor = 1000;
  }

  // The current task per slot.
  SlotMap current() const {
    SlotMap m;
    for (const ReplicaStatus& r : tasks)
      if (!m.count(r.slot) || m[r.slot]->incarnation < r.incarnation) m[r.slot] = &r;
    return m;
  }

  int serving() const {
    int n = 0;
    for (const ReplicaStatus& r : tasks)
      n += r.state == ReplicaState::Running && r.health.health == Health::Healthy;
    return n;
  }

  // Serving replicas that run `hash`.
  int serving(const std::string& hash) const {
    int n = 0;
    for (const ReplicaStatus& r : tasks)
      n += r.state == ReplicaState::Running && r.health.health == Health::Healthy && r.config_hash == hash;
    return n;
  }

  // Passes until nothing is left to do or `until` (ms after t0).
  void run(Ms until, bool count_serving = true) {
    for (int step = 0; step < 20000 && now <= t0 + until; step++) {
      SlotMap cur = current();
      ObservedStack observed{tasks, {}};
      std::optional<TimeMs> wake;
      if (!rollout && web.update && has_stale_tasks(web, cur)) rollout = start_rollout(web, false, false, ++serial, now);
      if (rollout) {
        std::vector<int> slots;
        for (int i = 1; i <= web.replicas; i++) slots.push_back(i);
        RolloutStep st = rollout_step(web, slots, cur, *rollout, now);
        rollout = st.next;
        for (auto& e : st.events) events.push_back(std::to_string(now - t0) + " " + e);
        if (st.replacing) observed.replaceable["web"] = *st.replacing;
        wake = st.wake_at;
      }
      Decision d = reconcile(StackSpec{"w", {web}}, observed, StackGoal::Up, now);
      for (const Action& a : d.actions) apply(a);
      if (count_serving && now > t0) min_serving = std::min(min_serving, serving());
      if (!d.actions.empty() || advance()) continue;  // what is due now first
      std::optional<TimeMs> next = d.wake_at;
      auto consider = [&](std::optional<TimeMs> t) {
        if (t && *t > now && (!next || *t < *next)) next = t;
      };
      consider(wake);
      for (const ReplicaStatus& r : tasks) {
        if (r.state == ReplicaState::Running && r.health.next_probe_at) consider(r.health.next_probe_at);
        if (r.state == ReplicaState::Stopping) consider(r.stop_requested_at + 50);
        Behaviour b = configs[r.config_hash];
        if (r.state == ReplicaState::Running && b.exits_after >= 0) consider(r.started_at + b.exits_after);
      }
      if (!next) return;
      now = *next;
    }
  }

  // The time of the first log line `what` at or after `from` (-1: none).
  Ms when(const std::string& what, Ms from = 0) const {
    for (const std::string& line : log) {
      size_t space = line.find(' ');
      Ms at = std::stoll(line.substr(0, space));
      if (at >= from && line.substr(space + 1) == what) return at;
    }
    return -1;
  }

 private:
  ReplicaStatus* task(const Action& a) {
    for (ReplicaStatus& r : tasks)
      if (r.slot == a.slot && r.incarnation == a.incarnation) return &r;
    return nullptr;
  }

  void start(ReplicaStatus& r) {
    r.state = ReplicaState::Running;
    r.started_at = now;
    r.health = health_on_start(web.health, now);
  }

  void apply(const Action& a) {
    log.push_back(std::to_string(now - t0) + " " + to_string(a.kind) + " " + std::to_string(a.slot));
    switch (a.kind) {
      case ActionKind::Create: {
        int inc = 0;
        for (const ReplicaStatus& r : tasks)
          if (r.slot == a.slot) inc = std::max(inc, r.incarnation);
        ReplicaStatus r = replica("web", a.slot, ReplicaState::Created);
        r.incarnation = inc + 1;
        r.container_id = "c" + std::to_string(a.slot) + "-" + std::to_string(r.incarnation);
        r.config_hash = web.config_hash;
        start(r);
        tasks.push_back(r);
        break;
      }
      case ActionKind::Restart:
        if (ReplicaStatus* r = task(a)) {
          if (a.policy_restart) note_restart(web.restart, *r, now);
          start(*r);
        }
        break;
      case ActionKind::Stop:
        if (ReplicaStatus* r = task(a)) {
          r->state = ReplicaState::Stopping;
          r->stop_requested_at = now;
        }
        break;
      case ActionKind::Kill:
        break;
      case ActionKind::Remove:
        tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                                   [&](const ReplicaStatus& r) { return r.slot == a.slot && r.incarnation == a.incarnation; }),
                    tasks.end());
        break;
    }
  }

  // Exits and probes due now; whether anything happened.
  bool advance() {
    bool changed = false;
    for (ReplicaStatus& r : tasks) {
      const ReplicaStatus before = r;
      Behaviour b = configs[r.config_hash];
      if (r.state == ReplicaState::Stopping && now >= r.stop_requested_at + 50) {
        r.state = ReplicaState::Exited;
        r.exit_code = 143;
        r.finished_at = now;
      }
      if (r.state == ReplicaState::Running && b.exits_after >= 0 && now >= r.started_at + b.exits_after) {
        r.state = ReplicaState::Exited;
        r.exit_code = 1;
        r.finished_at = now;
        r.health.next_probe_at = 0;
      }
      if (r.state == ReplicaState::Running && health_probe_due(web.health, r.health, now))
        r.health = health_on_result(web.health, r.health, r.started_at, {now, now, b.healthy ? 0 : 1, ""});
      changed = changed || r.state != before.state || r.health.health != before.health.health ||
                r.health.next_probe_at != before.health.next_probe_at;
    }
    return changed;
  }
};

// Brings 4 replicas of h1 up and healthy, then changes the config to h2.
World updated(UpdatePolicy policy, Behaviour h2 = {}) {
  World w;
  w.web.update = policy;
  w.configs["h1"] = {};
  w.configs["h2"] = h2;
  w.run(2000, false);
  EXPECT_EQ(w.serving("h1"), 4);
  w.web.config_hash = "h2";
  return w;
}

TEST(SchedulerRollout, StopFirstReplacesParallelismAtATimeAfterEachBatchRanForMonitor) {
  UpdatePolicy p;
  p.parallelism = 2;
  p.monitor = 1000;
  World w = updated(p);
  w.run(20000);
  EXPECT_EQ(w.serving("h2"), 4);
  ASSERT_TRUE(w.rollout);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Completed);
  EXPECT_EQ(w.rollout->batch_no, 2);
  // Two serve throughout: the batch of two is all that is ever down.
  EXPECT_EQ(w.min_serving, 2);
  // Slots 3 and 4 are stopped only once 1 and 2 ran their monitor period.
  Ms batch1 = w.when("create 1", 1);  // after the first up's creates at 0
  Ms batch2 = w.when("stop 3");
  ASSERT_GT(batch1, 0);
  EXPECT_GE(batch2, batch1 + 1000);
  EXPECT_LT(w.when("stop 1"), batch1);
  EXPECT_EQ(w.events.front().substr(w.events.front().find(' ') + 1), "batch 1 of 2: replacing replicas 1, 2");
}

TEST(SchedulerRollout, StartFirstKeepsEveryReplicaServing) {
  UpdatePolicy p;
  p.parallelism = 1;
  p.start_first = true;
  p.monitor = 500;
  World w = updated(p);
  w.run(30000);
  EXPECT_EQ(w.serving("h2"), 4);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Completed);
  EXPECT_EQ(w.rollout->batch_no, 4);
  EXPECT_GE(w.min_serving, 4);  // the old one of a slot stops only once its successor serves
  // Each slot's old task was stopped once its new one started (and, above,
  // served: the simulated probes answer at once).
  for (int slot = 1; slot <= 4; slot++)
    EXPECT_LE(w.when("create " + std::to_string(slot), 1), w.when("stop " + std::to_string(slot)));
  EXPECT_EQ(w.tasks.size(), 4u);  // superseded tasks removed
}

TEST(SchedulerRollout, DelayWaitsBetweenBatches) {
  UpdatePolicy p;
  p.parallelism = 2;
  p.monitor = 0;
  p.delay = 3000;
  World w = updated(p);
  w.run(30000);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Completed);
  EXPECT_GE(w.when("stop 3"), w.when("create 1", 1) + 3000);
}

TEST(SchedulerRollout, AnUnhealthyNewVersionPausesTheUpdateAndTheRestKeepServing) {
  UpdatePolicy p;
  p.parallelism = 1;
  p.monitor = 1000;
  World w = updated(p, {.healthy = false});
  w.run(30000);
  ASSERT_TRUE(w.rollout);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Paused);
  EXPECT_EQ(w.rollout->failed, (std::vector<int>{1}));
  EXPECT_NE(w.rollout->message.find("update paused: replica 1 "), std::string::npos) << w.rollout->message;
  EXPECT_EQ(w.serving("h1"), 3);  // slots 2..4 were never touched
  EXPECT_EQ(w.when("stop 2"), -1);
}

TEST(SchedulerRollout, ANewVersionThatExitsAsksForRollbackWhichThenRestoresTheOldOne) {
  UpdatePolicy p;
  p.parallelism = 2;
  p.start_first = true;
  p.failure_action = FailureAction::Rollback;
  p.monitor = 1000;
  World w = updated(p, {.healthy = false, .exits_after = 300});  // never serves, then exits
  w.run(30000);
  ASSERT_TRUE(w.rollout);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::RollbackWanted);
  EXPECT_NE(w.rollout->message.find("update failed, rolling back: replica 1 exited (1)"), std::string::npos)
      << w.rollout->message << " / " << ::testing::PrintToString(w.events);
  // Start-first: the old replicas of the batch still serve.
  EXPECT_EQ(w.serving("h1"), 4);
  EXPECT_EQ(w.min_serving, 4);
  // What the daemon does for RollbackWanted: the previous spec, a rollback rollout.
  w.web.config_hash = "h1";
  w.web.rollback.monitor = 0;
  w.rollout = start_rollout(w.web, true, true, ++w.serial, w.now);
  w.run(60000);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Completed);
  EXPECT_EQ(w.rollout->message, "rolled back");
  EXPECT_EQ(w.serving("h1"), 4);
  EXPECT_EQ(w.tasks.size(), 4u);
}

TEST(SchedulerRollout, FailuresWithinMaxFailureRatioDoNotStopTheUpdate) {
  UpdatePolicy p;
  p.parallelism = 4;
  p.monitor = 500;
  p.max_failure_ratio = 0.5;
  World w;
  w.web.update = p;
  w.configs["h1"] = {};
  w.run(2000, false);
  w.web.config_hash = "h2";
  w.configs["h2"] = {.healthy = false};
  // Continue on any failure: all four fail, it goes on and completes.
  w.web.update->failure_action = FailureAction::Continue;
  w.run(30000);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Completed);
  EXPECT_EQ(w.rollout->failed.size(), 4u);
  EXPECT_NE(w.rollout->message.find("4 failed"), std::string::npos) << w.rollout->message;
}

TEST(SchedulerRollout, TheRatioIsComparedWithFailuresOverReplicas) {
  UpdatePolicy p;
  p.parallelism = 1;
  p.monitor = 500;
  p.max_failure_ratio = 0.25;  // one of four may fail; a second pauses
  World w = updated(p, {.healthy = false});
  w.run(60000);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Paused);
  EXPECT_EQ(w.rollout->failed, (std::vector<int>{1, 2}));
  EXPECT_EQ(w.serving("h1"), 2);
}

TEST(SchedulerRollout, AStaleTaskTheUserStoppedIsSkipped) {
  UpdatePolicy p;
  p.parallelism = 0;  // all at once
  p.monitor = 0;
  World w = updated(p);
  for (ReplicaStatus& r : w.tasks)
    if (r.slot == 4) {
      r.state = ReplicaState::Exited;
      r.stopped_by_user = true;
    }
  w.run(20000);
  EXPECT_EQ(w.rollout->phase, RolloutPhase::Completed);
  EXPECT_EQ(w.serving("h2"), 3);
  EXPECT_EQ(w.current()[4]->config_hash, "h1");
}

TEST(SchedulerRollout, APausedRolloutGatesEverythingAndACompletedOneNothing) {
  World w;
  w.web.config_hash = "h2";
  ReplicaStatus old = replica("web", 1, ReplicaState::Running, Health::Healthy);
  SlotMap cur{{1, &old}};
  Rollout r = start_rollout(w.web, false, false, 1, 5000);
  r.phase = RolloutPhase::Paused;
  RolloutStep st = rollout_step(w.web, {1}, cur, r, 6000);
  ASSERT_TRUE(st.replacing);
  EXPECT_TRUE(st.replacing->slots.empty());
  r.phase = RolloutPhase::Completed;
  EXPECT_FALSE(rollout_step(w.web, {1}, cur, r, 6000).replacing);
  EXPECT_TRUE(has_stale_tasks(w.web, cur));
  w.web.config_hash = "h1";
  EXPECT_FALSE(has_stale_tasks(w.web, cur));
}

}  // namespace
