// reconcile(): each rule of reconcile.h / reconcile.cc against hand-built
// observed states, and dependency_order().
#include <gtest/gtest.h>

#include "scheduler/deps.h"
#include "scheduler/reconcile.h"
#include "tests/unit/scheduler_fixture.h"

namespace {

using namespace stack::sched;
using namespace stack::sched::fixture;
using Lines = std::vector<std::string>;
using DC = DependencyCondition;

Decision run(const StackSpec& spec, std::vector<ReplicaStatus> observed, TimeMs now = 100000,
             StackGoal goal = StackGoal::Up) {
  return reconcile(spec, ObservedStack{std::move(observed)}, goal, now);
}

StackSpec chain() {  // web -> api -> db (healthy)
  StackSpec s{"demo",
              {svc("db"), svc("api", 1, {dep("db", DC::Healthy)}), svc("web", 1, {dep("api")})}};
  s.services[0].health = exec_check();
  return s;
}

TEST(SchedulerReconcile, ChainIsCreatedInOrderAsTheObservedStateAdvances) {
  StackSpec spec = chain();
  Decision d = run(spec, {});
  EXPECT_EQ(summary(d), (Lines{"create db 1"}));
  EXPECT_TRUE(mentions(d.blocked, "api waits for db (service_healthy): db-1 is not created yet"))
      << ::testing::PrintToString(d.blocked);
  EXPECT_TRUE(mentions(d.blocked, "web waits for api (service_started)"));

  ReplicaStatus db = replica("db", 1, ReplicaState::Running, Health::Starting);
  d = run(spec, {db});
  EXPECT_EQ(summary(d), Lines{});
  EXPECT_TRUE(mentions(d.blocked, "api waits for db (service_healthy): db-1 is starting"));

  db.health.health = Health::Healthy;
  d = run(spec, {db});
  EXPECT_EQ(summary(d), (Lines{"create api 1"}));

  ReplicaStatus api = replica("api", 1, ReplicaState::Running);
  d = run(spec, {db, api});
  EXPECT_EQ(summary(d), (Lines{"create web 1"}));
  EXPECT_TRUE(d.blocked.empty());

  d = run(spec, {db, api, replica("web", 1, ReplicaState::Running)});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_TRUE(d.blocked.empty());
  EXPECT_FALSE(d.wake_at);
}

TEST(SchedulerReconcile, ScaleOneToFiveToOne) {
  StackSpec spec{"demo", {svc("web", 5)}};
  std::vector<ReplicaStatus> obs{replica("web", 1, ReplicaState::Running)};
  EXPECT_EQ(summary(run(spec, obs)),
            (Lines{"create web 2", "create web 3", "create web 4", "create web 5"}));

  for (int slot = 2; slot <= 5; slot++) obs.push_back(replica("web", slot, ReplicaState::Running));
  EXPECT_TRUE(run(spec, obs).actions.empty());

  spec.services[0].replicas = 1;
  spec.services[0].stop_signal = "SIGQUIT";
  Decision d = run(spec, obs);
  EXPECT_EQ(summary(d), (Lines{"stop web 5", "stop web 4", "stop web 3", "stop web 2"}));
  for (const Action& a : d.actions) {
    EXPECT_EQ(a.signal, "SIGQUIT");
    EXPECT_EQ(a.reason, "scale down to 1");
    EXPECT_EQ(a.container_id, "web" + std::to_string(a.slot) + "-id");
  }

  for (int slot = 2; slot <= 5; slot++) obs[slot - 1] = exited_replica("web", slot, 143, 90000);
  EXPECT_EQ(summary(run(spec, obs)),
            (Lines{"remove web 5", "remove web 4", "remove web 3", "remove web 2"}));

  obs.resize(1);
  EXPECT_TRUE(run(spec, obs).actions.empty());
}

TEST(SchedulerReconcile, AChangedConfigIsReplacedStopFirst) {
  StackSpec spec{"demo", {svc("web")}};
  spec.services[0].config_hash = "h2";
  Decision d = run(spec, {replica("web", 1, ReplicaState::Running)});
  EXPECT_EQ(summary(d), (Lines{"stop web 1"}));
  EXPECT_EQ(d.actions[0].reason, "config changed");

  d = run(spec, {exited_replica("web", 1, 0, 90000)});
  EXPECT_EQ(summary(d), (Lines{"remove web 1", "create web 1"}));

  // The re-create is gated like any create.
  spec.services.push_back(svc("db"));
  spec.services[0].depends_on = {dep("db")};
  d = run(spec, {exited_replica("web", 1, 0, 90000), replica("db", 1, ReplicaState::Pending)});
  EXPECT_EQ(summary(d), (Lines{"remove web 1", "create db 1"}));
}

// A slot may hold several tasks (incarnations) for a moment: the highest is
// the slot's, the rules above see only it; older ones are stopped and
// removed, never restarted, whatever the goal.
TEST(SchedulerReconcile, ASupersededTaskIsStoppedThenRemovedAndTheCurrentOneIsKept) {
  StackSpec spec{"demo", {svc("web")}};
  spec.services[0].restart.mode = RestartMode::Always;
  ReplicaStatus old_task = replica("web", 1, ReplicaState::Running);
  old_task.container_id = "old";
  ReplicaStatus new_task = replica("web", 1, ReplicaState::Running);
  new_task.incarnation = 2;
  new_task.container_id = "new";
  for (auto observed : {std::vector<ReplicaStatus>{old_task, new_task}, std::vector<ReplicaStatus>{new_task, old_task}}) {
    Decision d = run(spec, observed);
    ASSERT_EQ(summary(d), (Lines{"stop web 1"}));
    EXPECT_EQ(d.actions[0].container_id, "old");
    EXPECT_EQ(d.actions[0].incarnation, 1);
    EXPECT_EQ(d.actions[0].reason, "superseded");
  }
  // Exited (even with a restart policy that would restart it): removed.
  ReplicaStatus exited_old = exited_replica("web", 1, 1, 90000);
  exited_old.container_id = "old";
  Decision d = run(spec, {exited_old, new_task});
  ASSERT_EQ(summary(d), (Lines{"remove web 1"}));
  EXPECT_EQ(d.actions[0].incarnation, 1);
  // The slot's own rules apply to the current task only: an exited current
  // task is restarted, the superseded one beside it removed.
  ReplicaStatus exited_new = exited_replica("web", 1, 1, 90000);
  exited_new.incarnation = 2;
  d = run(spec, {exited_old, exited_new}, 200000);
  ASSERT_EQ(summary(d), (Lines{"remove web 1", "restart web 1"}));
  EXPECT_EQ(d.actions[0].incarnation, 1);
  EXPECT_EQ(d.actions[1].incarnation, 2);
  // A superseded task past its stop grace is killed like any other.
  ReplicaStatus stopping_old = old_task;
  stopping_old.state = ReplicaState::Stopping;
  stopping_old.stop_requested_at = 1000;
  d = run(spec, {stopping_old, new_task}, 100000, StackGoal::Stopped);
  EXPECT_EQ(summary(d), (Lines{"kill web 1", "stop web 1"}));
  EXPECT_EQ(d.actions[0].container_id, "old");
  EXPECT_EQ(d.actions[1].container_id, "new");
}

TEST(SchedulerReconcile, StoppingPastTheGraceIsKilledUnderEveryGoal) {
  StackSpec spec{"demo", {svc("web")}};
  spec.services[0].stop_grace = 5000;
  ReplicaStatus r = replica("web", 1, ReplicaState::Stopping);
  r.stop_requested_at = 10000;
  for (StackGoal goal : {StackGoal::Up, StackGoal::Stopped, StackGoal::Down}) {
    Decision d = run(spec, {r}, 14999, goal);
    EXPECT_TRUE(d.actions.empty()) << to_string(goal);
    EXPECT_EQ(d.wake_at, 15000) << to_string(goal);
    d = run(spec, {r}, 15000, goal);
    EXPECT_EQ(summary(d), (Lines{"kill web 1"})) << to_string(goal);
    EXPECT_EQ(d.actions[0].reason, "stop grace 5000 ms expired");
  }
}

TEST(SchedulerReconcile, AnExitedReplicaRestartsWhenItsBackoffIsDue) {
  StackSpec spec{"demo", {svc("web")}};
  spec.services[0].restart.mode = RestartMode::Always;
  ReplicaStatus r = exited_replica("web", 1, 1, 5000);
  r.started_at = 4900;
  r.restart_streak = 2;  // 400 ms
  Decision d = run(spec, {r}, 5399);
  EXPECT_TRUE(d.actions.empty());
  EXPECT_EQ(d.wake_at, 5400);
  d = run(spec, {r}, 5400);
  ASSERT_EQ(summary(d), (Lines{"restart web 1"}));
  EXPECT_TRUE(d.actions[0].policy_restart);
  EXPECT_NE(d.actions[0].reason.find("exit 1, always"), std::string::npos) << d.actions[0].reason;
}

TEST(SchedulerReconcile, StoppedByUserIsNeverRestarted) {
  for (RestartMode mode :
       {RestartMode::Always, RestartMode::UnlessStopped, RestartMode::OnFailure}) {
    StackSpec spec{"demo", {svc("web")}};
    spec.services[0].restart.mode = mode;
    ReplicaStatus r = exited_replica("web", 1, 137, 5000);
    r.stopped_by_user = true;
    Decision d = run(spec, {r}, 1'000'000);
    EXPECT_TRUE(d.actions.empty()) << to_string(mode);
    EXPECT_FALSE(d.wake_at) << to_string(mode);
  }
}

TEST(SchedulerReconcile, OnFailureStopsRestartingAfterItsMaximum) {
  StackSpec spec{"demo", {svc("web")}};
  spec.services[0].restart.mode = RestartMode::OnFailure;
  spec.services[0].restart.max_attempts = 2;
  ReplicaStatus r = exited_replica("web", 1, 1, 5000);
  r.restart_count = 1;
  EXPECT_EQ(summary(run(spec, {r})), (Lines{"restart web 1"}));
  r.restart_count = 2;
  Decision d = run(spec, {r});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_FALSE(d.wake_at);
}

TEST(SchedulerReconcile, AnUnhealthyReplicaIsStoppedThenRestarted) {
  StackSpec spec{"demo", {svc("web")}};
  ServiceSpec& web = spec.services[0];
  web.health = exec_check();
  web.restart.mode = RestartMode::OnFailure;
  ReplicaStatus r = replica("web", 1, ReplicaState::Running, Health::Unhealthy);
  Decision d = run(spec, {r});
  ASSERT_EQ(summary(d), (Lines{"stop web 1"}));
  EXPECT_EQ(d.actions[0].reason, "unhealthy");

  // It exited 0 on SIGTERM after a long run, still marked Unhealthy: a
  // failure for on-failure, first backoff step.
  ReplicaStatus gone = exited_replica("web", 1, 0, 60000);
  gone.health.health = Health::Unhealthy;
  d = run(spec, {gone}, 60000);
  EXPECT_EQ(d.wake_at, 60100);
  d = run(spec, {gone}, 60100);
  ASSERT_EQ(summary(d), (Lines{"restart web 1"}));
  EXPECT_TRUE(d.actions[0].policy_restart);

  // Policy no: left running (Compose), and so is a service that opts out.
  web.restart.mode = RestartMode::No;
  EXPECT_TRUE(run(spec, {r}).actions.empty());
  web.restart.mode = RestartMode::Always;
  web.health.restart_unhealthy = false;
  EXPECT_TRUE(run(spec, {r}).actions.empty());
}

TEST(SchedulerReconcile, ARequiredDependencyThatFailedBlocksItsDependentsWithAReason) {
  StackSpec spec = chain();
  spec.services[1].depends_on[0].condition = DC::Started;
  ReplicaStatus db = exited_replica("db", 1, 1, 5000);  // restart: no
  Decision d = run(spec, {db});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_FALSE(d.wake_at);
  ASSERT_EQ(d.blocked.size(), 2u) << ::testing::PrintToString(d.blocked);
  EXPECT_EQ(
      d.blocked[0].rfind(
          "api blocked: needs db (service_started): db-1 exited (code 1) and will not restart", 0),
      0u)
      << d.blocked[0];
  EXPECT_EQ(
      d.blocked[1].rfind("web blocked: needs api (service_started): api is blocked (needs db", 0),
      0u)
      << d.blocked[1];

  // The same exit under on-failure is only a wait: it comes back.
  spec.services[0].restart.mode = RestartMode::OnFailure;
  d = run(spec, {db}, 5000);
  EXPECT_TRUE(
      mentions(d.blocked, "api waits for db (service_started): db-1 exited (code 1) and restarts"));
  EXPECT_EQ(d.wake_at, 5100);
}

TEST(SchedulerReconcile, CompletedSuccessfullyWaitsForACleanExit) {
  StackSpec spec{"demo",
                 {svc("migrate"), svc("app", 1, {dep("migrate", DC::CompletedSuccessfully)})}};
  spec.services[0].one_shot = true;
  Decision d = run(spec, {replica("migrate", 1, ReplicaState::Running)});
  EXPECT_TRUE(mentions(
      d.blocked,
      "app waits for migrate (service_completed_successfully): migrate-1 is still running"));
  EXPECT_EQ(summary(run(spec, {exited_replica("migrate", 1, 0, 5000)})), (Lines{"create app 1"}));
  d = run(spec, {exited_replica("migrate", 1, 2, 5000)});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_TRUE(mentions(d.blocked,
                       "app blocked: needs migrate (service_completed_successfully): migrate-1 "
                       "completed unsuccessfully (code 2)"))
      << ::testing::PrintToString(d.blocked);
}

TEST(SchedulerReconcile, ServiceStartedAcceptsAOneShotThatCompleted) {
  StackSpec spec{"demo", {svc("init"), svc("app", 1, {dep("init")})}};
  EXPECT_EQ(summary(run(spec, {exited_replica("init", 1, 0, 5000)})), (Lines{"create app 1"}));
}

TEST(SchedulerReconcile, ServiceHealthyWithoutAHealthCheckOnlyNeedsRunning) {
  StackSpec spec{"demo", {svc("db"), svc("api", 1, {dep("db", DC::Healthy)})}};
  EXPECT_EQ(summary(run(spec, {replica("db", 1, ReplicaState::Running)})), (Lines{"create api 1"}));
}

TEST(SchedulerReconcile, AnUnhealthyDependencyThatWillNotBeReplacedFails) {
  StackSpec spec = chain();
  spec.services[0].health.restart_unhealthy = false;
  Decision d = run(spec, {replica("db", 1, ReplicaState::Running, Health::Unhealthy)});
  EXPECT_TRUE(mentions(d.blocked, "api blocked: needs db (service_healthy): db-1 is unhealthy"));
  // With a restart policy it is replaced: api waits.
  spec.services[0].health.restart_unhealthy = true;
  spec.services[0].restart.mode = RestartMode::Always;
  d = run(spec, {replica("db", 1, ReplicaState::Running, Health::Unhealthy)});
  EXPECT_EQ(summary(d), (Lines{"stop db 1"}));
  EXPECT_TRUE(mentions(d.blocked,
                       "api waits for db (service_healthy): db-1 is unhealthy and being replaced"));
}

TEST(SchedulerReconcile, AnOptionalDependencyThatFailedIsSkippedWithAWarning) {
  StackSpec spec{
      "demo",
      {svc("cache"),
       svc("api", 1, {dep("cache", DC::Started, false), dep("nosuch", DC::Started, false)})}};
  Decision d = run(spec, {exited_replica("cache", 1, 1, 5000)});
  EXPECT_EQ(summary(d), (Lines{"create api 1"}));
  EXPECT_TRUE(mentions(d.warnings,
                       "api: optional dependency cache (service_started) skipped: cache-1 exited"));
  EXPECT_TRUE(mentions(
      d.warnings,
      "api: optional dependency nosuch (service_started) skipped: undefined service nosuch"));
  // Warned about while it has something to start, not on every pass after.
  d = run(spec, {exited_replica("cache", 1, 1, 5000), replica("api", 1, ReplicaState::Running)});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_TRUE(d.warnings.empty());
  // One still coming is waited for.
  d = run(spec, {replica("cache", 1, ReplicaState::Created)});
  EXPECT_EQ(summary(d), (Lines{"restart cache 1"}));
  EXPECT_TRUE(
      mentions(d.blocked, "api waits for cache (service_started): cache-1 is not started yet"));
}

TEST(SchedulerReconcile, ARequiredUndefinedDependencyBlocks) {
  StackSpec spec{"demo", {svc("api", 1, {dep("nosuch")})}};
  Decision d = run(spec, {});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_EQ(d.blocked,
            (Lines{"api blocked: needs nosuch (service_started): undefined service nosuch"}));
}

TEST(SchedulerReconcile, ACycleIsNamedAndBlocksOnlyWhatItHolds) {
  StackSpec spec{
      "demo",
      {svc("a", 1, {dep("b")}), svc("b", 1, {dep("a")}), svc("c", 1, {dep("a")}), svc("d")}};
  OrderResult order = dependency_order(spec);
  EXPECT_EQ(order.cycle, "a -> b -> a");
  EXPECT_EQ(order.sorted, 1u);
  EXPECT_EQ(order.order, (Lines{"d", "a", "b", "c"}));

  Decision d = run(spec, {});
  EXPECT_EQ(summary(d), (Lines{"create d 1"}));
  EXPECT_EQ(d.blocked, (Lines{"a blocked: in or behind dependency cycle a -> b -> a",
                              "b blocked: in or behind dependency cycle a -> b -> a",
                              "c blocked: in or behind dependency cycle a -> b -> a"}));

  StackSpec self{"demo", {svc("x", 1, {dep("x")})}};
  EXPECT_EQ(dependency_order(self).cycle, "x -> x");
  StackSpec longer{"demo",
                   {svc("p", 1, {dep("q")}), svc("q", 1, {dep("r")}), svc("r", 1, {dep("p")})}};
  EXPECT_EQ(dependency_order(longer).cycle, "p -> q -> r -> p");
}

TEST(SchedulerReconcile, DependencyOrderIsStableWithTiesByName) {
  StackSpec spec{"demo",
                 {svc("web", 1, {dep("api")}), svc("api", 1, {dep("db"), dep("cache"), dep("db")}),
                  svc("zz"), svc("db"), svc("cache")}};
  OrderResult order = dependency_order(spec);
  EXPECT_EQ(order.cycle, "");
  EXPECT_EQ(order.sorted, 5u);
  EXPECT_EQ(order.order, (Lines{"cache", "db", "api", "web", "zz"}));
}

TEST(SchedulerReconcile, DependentsToRestartFollowRestartTrueEdges) {
  StackSpec spec{"demo",
                 {svc("db"), svc("api", 1, {dep("db")}), svc("web", 1, {dep("api")}),
                  svc("worker", 1, {dep("db")})}};
  spec.services[1].depends_on[0].restart = true;
  spec.services[2].depends_on[0].restart = true;
  EXPECT_EQ(dependents_to_restart(spec, "db"), (Lines{"api", "web"}));
  EXPECT_EQ(dependents_to_restart(spec, "web"), Lines{});
  EXPECT_EQ(direct_dependents(spec, "db"), (Lines{"api", "worker"}));
}

StackSpec three_tier() {
  return {"demo", {svc("db"), svc("api", 2, {dep("db")}), svc("web", 1, {dep("api")})}};
}

std::vector<ReplicaStatus> all_running() {
  return {replica("db", 1, ReplicaState::Running), replica("api", 1, ReplicaState::Running),
          replica("api", 2, ReplicaState::Running), replica("web", 1, ReplicaState::Running)};
}

TEST(SchedulerReconcile, StoppedGoalStopsDependentsBeforeTheirDependencies) {
  StackSpec spec = three_tier();
  for (auto& s : spec.services) s.restart.mode = RestartMode::Always;
  auto obs = all_running();
  Decision d = run(spec, obs, 100000, StackGoal::Stopped);
  EXPECT_EQ(summary(d), (Lines{"stop web 1"}));
  EXPECT_EQ(d.actions[0].reason, "stack stopped");
  EXPECT_EQ(d.blocked, (Lines{"db waits for api to stop", "api waits for web to stop"}));

  obs[3].state = ReplicaState::Stopping;
  obs[3].stop_requested_at = 99000;
  d = run(spec, obs, 100000, StackGoal::Stopped);
  EXPECT_TRUE(d.actions.empty());
  EXPECT_EQ(d.wake_at, 109000);

  obs[3] = exited_replica("web", 1, 143, 100000);
  EXPECT_EQ(summary(run(spec, obs, 100000, StackGoal::Stopped)),
            (Lines{"stop api 2", "stop api 1"}));
  obs[1] = exited_replica("api", 1, 143, 100000);
  obs[2] = exited_replica("api", 2, 143, 100000);
  EXPECT_EQ(summary(run(spec, obs, 100000, StackGoal::Stopped)), (Lines{"stop db 1"}));
  obs[0] = exited_replica("db", 1, 143, 100000);
  d = run(spec, obs, 200000, StackGoal::Stopped);  // restart: always, yet nothing restarts
  EXPECT_TRUE(d.actions.empty());
  EXPECT_FALSE(d.wake_at);
}

TEST(SchedulerReconcile, DownStopsInReverseDependencyOrderThenRemovesEverything) {
  StackSpec spec = three_tier();
  auto obs = all_running();
  obs.push_back(replica("web", 2, ReplicaState::Pending));  // a bare slot record
  Decision d = run(spec, obs, 100000, StackGoal::Down);
  EXPECT_EQ(summary(d), (Lines{"stop web 1", "remove web 2"}));
  obs[3] = exited_replica("web", 1, 143, 100000);
  obs.pop_back();
  EXPECT_EQ(summary(run(spec, obs, 100000, StackGoal::Down)),
            (Lines{"stop api 2", "stop api 1", "remove web 1"}));
  obs.pop_back();
  obs[1] = exited_replica("api", 1, 0, 100000);
  obs[2] = exited_replica("api", 2, 0, 100000);
  EXPECT_EQ(summary(run(spec, obs, 100000, StackGoal::Down)),
            (Lines{"stop db 1", "remove api 2", "remove api 1"}));
  d = run(spec, {exited_replica("db", 1, 0, 100000)}, 100000, StackGoal::Down);
  EXPECT_EQ(summary(d), (Lines{"remove db 1"}));
  EXPECT_EQ(d.actions[0].reason, "stack down");
  EXPECT_TRUE(run(spec, {}, 100000, StackGoal::Down).actions.empty());
}

TEST(SchedulerReconcile, AServiceNoLongerDesiredIsStoppedAndRemoved) {
  StackSpec spec{"demo", {svc("web")}};
  Decision d = run(
      spec, {replica("web", 1, ReplicaState::Running), replica("old", 1, ReplicaState::Running)});
  EXPECT_EQ(summary(d), (Lines{"stop old 1"}));
  EXPECT_EQ(d.actions[0].reason, "service removed from stack");
  EXPECT_EQ(summary(run(spec, {exited_replica("old", 1, 0, 5000)})),
            (Lines{"remove old 1", "create web 1"}));
}

TEST(SchedulerReconcile, ARequestedStartIsGatedButIgnoresThePolicy) {
  StackSpec spec{"demo", {svc("db"), svc("web", 1, {dep("db")})}};  // restart: no
  ReplicaStatus web = exited_replica("web", 1, 0, 5000);
  web.start_requested = true;
  ReplicaStatus db = replica("db", 1, ReplicaState::Stopping);
  db.stop_requested_at = 99000;
  Decision d = run(spec, {db, web});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_TRUE(mentions(d.blocked, "web waits for db (service_started): db-1 is stopping"));
  d = run(spec, {replica("db", 1, ReplicaState::Running), web});
  ASSERT_EQ(summary(d), (Lines{"restart web 1"}));
  EXPECT_FALSE(d.actions[0].policy_restart);
  EXPECT_EQ(d.actions[0].reason, "start requested");
}

TEST(SchedulerReconcile, ActionsComeKillsStopsRemovesRestartsCreates) {
  StackSpec spec{"demo", {svc("a"), svc("b", 1), svc("c"), svc("d"), svc("e")}};
  spec.services[3].restart.mode = RestartMode::Always;
  ReplicaStatus a = replica("a", 1, ReplicaState::Stopping);  // grace long gone
  ReplicaStatus b2 = replica("b", 2, ReplicaState::Running);  // above scale
  ReplicaStatus c = exited_replica("c", 1, 0, 1000);
  c.config_hash = "old";
  ReplicaStatus d1 = exited_replica("d", 1, 1, 1000);
  Decision d = run(spec, {a, replica("b", 1, ReplicaState::Running), b2, c, d1});
  EXPECT_EQ(summary(d), (Lines{"kill a 1", "stop b 2", "remove c 1", "restart d 1", "create c 1",
                               "create e 1"}));
}

TEST(SchedulerReconcile, EnumsHaveTheirTextForms) {
  EXPECT_STREQ(to_string(ReplicaState::Pending), "pending");
  EXPECT_STREQ(to_string(ReplicaState::Created), "created");
  EXPECT_STREQ(to_string(ReplicaState::Running), "running");
  EXPECT_STREQ(to_string(ReplicaState::Stopping), "stopping");
  EXPECT_STREQ(to_string(ReplicaState::Exited), "exited");
  EXPECT_STREQ(to_string(ReplicaState::Removed), "removed");
  EXPECT_STREQ(to_string(Health::None), "none");
  EXPECT_STREQ(to_string(Health::Unhealthy), "unhealthy");
  EXPECT_STREQ(to_string(ActionKind::Create), "create");
  EXPECT_STREQ(to_string(ActionKind::Kill), "kill");
  EXPECT_STREQ(to_string(StackGoal::Stopped), "stopped");
  EXPECT_STREQ(to_string(RestartMode::OnFailure), "on-failure");
  EXPECT_STREQ(to_string(RestartMode::UnlessStopped), "unless-stopped");
  EXPECT_STREQ(to_string(ProbeKind::Http), "http");
  EXPECT_STREQ(to_string(DC::CompletedSuccessfully), "service_completed_successfully");
}

}  // namespace
