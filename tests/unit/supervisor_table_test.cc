// The supervisor loop as tables, over a fake node and a fake clock (tests/
// support/fake_stack.h): crashes and backoff, unhealthy replicas, scale,
// stop, dependency gating. Each row runs the real Supervisor step by step;
// time moves only to the wake-ups it asks for, so the times asserted are the
// times it chose, not measurements.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "tests/support/fake_stack.h"

namespace {

using namespace stack;
using sched::DependencyCondition;
using sched::Health;
using sched::ReplicaState;
using sched::RestartMode;
using test::FakeClock;
using test::FakeStack;

constexpr int64_t kMinute = 60000;

sched::HealthSpec exec_check(int64_t interval = 1000, int retries = 2) {
  sched::HealthSpec h;
  h.kind = sched::ProbeKind::Exec;
  h.exec = {"/bin/check"};
  h.interval = interval;
  h.timeout = 500;
  h.retries = retries;
  h.start_period = 0;
  return h;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

size_t index_of(const std::vector<std::string>& lines, const std::string& line) {
  return static_cast<size_t>(std::find(lines.begin(), lines.end(), line) - lines.begin());
}

// --- crash -> restart with backoff -----------------------------------------

struct Incarnation {
  int64_t ran_ms;  // how long the incarnation runs before it exits
  int code;        // its exit code
};

struct CrashRow {
  const char* name;
  RestartMode mode;
  std::optional<int> max_attempts;
  int64_t fixed_delay;
  std::vector<Incarnation> runs;
  std::vector<int64_t> delays;  // exit -> next start, for each restart that happens
};

TEST(SupervisorTable, ACrashedReplicaIsRestartedWithBackoff) {
  const CrashRow rows[] = {
      {"always: doubling from 100 ms", RestartMode::Always, {}, 0, {{0, 1}, {0, 1}, {0, 1}, {0, 1}}, {100, 200, 400, 800}},
      {"always: a clean exit restarts too", RestartMode::Always, {}, 0, {{0, 0}}, {100}},
      {"always: a stable run resets the streak", RestartMode::Always, {}, 0, {{0, 1}, {0, 1}, {10000, 1}}, {100, 200, 100}},
      {"on-failure: failures only", RestartMode::OnFailure, {}, 0, {{0, 1}, {0, 2}, {0, 0}}, {100, 200}},
      {"on-failure:2 gives up after two", RestartMode::OnFailure, 2, 0, {{0, 1}, {0, 1}, {0, 1}}, {100, 200}},
      {"unless-stopped: as always", RestartMode::UnlessStopped, {}, 0, {{0, 1}, {0, 1}}, {100, 200}},
      {"a fixed delay replaces the backoff", RestartMode::Always, {}, 5000, {{0, 1}, {0, 1}}, {5000, 5000}},
      {"no: never", RestartMode::No, {}, 0, {{0, 1}}, {}},
  };
  for (const CrashRow& row : rows) {
    SCOPED_TRACE(row.name);
    FakeStack st;
    sched::ServiceSpec& web = st.add("web");
    web.restart.mode = row.mode;
    web.restart.max_attempts = row.max_attempts;
    web.restart.delay = row.fixed_delay;
    st.start();
    st.settle();
    ASSERT_EQ(st.node().running_names(), std::vector<std::string>{"demo-web-1"});

    std::vector<int64_t> delays;
    for (const Incarnation& run : row.runs) {
      st.run_for(run.ran_ms);
      size_t before = st.node().containers().size();
      st.node().exit("demo-web-1", run.code);
      int64_t died = st.clock.now();
      bool restarted = st.run_until([&] { return st.node().containers().size() > before; }, 5 * kMinute);
      if (!restarted) break;
      delays.push_back(st.node().containers().back().started_at - died);
    }
    EXPECT_EQ(delays, row.delays);
    auto r = st.replica("demo-web-1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status.restart_count, static_cast<int>(row.delays.size()));
    bool last_restarted = row.delays.size() == row.runs.size();
    EXPECT_EQ(r->status.state, last_restarted ? ReplicaState::Running : ReplicaState::Exited);
    // Every restart is a new incarnation; the old one is removed from the node.
    EXPECT_EQ(st.node().containers().size(), row.delays.size() + 1);
    EXPECT_EQ(st.node().list_ids().size(), 1u);
  }
}

// Each incarnation of a slot is a task of its own: a restart makes the next
// one, the old task goes with its container (record and store key), the
// restart counts carry over, and the name stays the slot's.
TEST(SupervisorTable, ARestartIsANewTaskOfTheSameSlot) {
  FakeStack st;
  st.add("web").restart.mode = RestartMode::Always;
  st.start();
  st.settle();
  auto keys = [&] {
    std::vector<std::string> out;
    auto listed = st.store().list("replicas/demo/");
    if (listed)
      for (const auto& [k, v] : *listed) out.push_back(k);
    return out;
  };
  EXPECT_EQ(keys(), std::vector<std::string>{"replicas/demo/web/1/1"});
  for (int n = 2; n <= 3; n++) {
    size_t before = st.node().containers().size();
    st.node().exit("demo-web-1", 1);
    ASSERT_TRUE(st.run_until([&] { return st.node().containers().size() > before; }, kMinute));
    st.settle();
    auto tasks = st.sup().replicas();
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].status.slot, 1);
    EXPECT_EQ(tasks[0].status.incarnation, n);
    EXPECT_EQ(tasks[0].name, "demo-web-1");
    EXPECT_EQ(tasks[0].status.restart_count, n - 1);
    EXPECT_EQ(tasks[0].status.state, ReplicaState::Running);
    EXPECT_EQ(keys(), std::vector<std::string>{"replicas/demo/web/1/" + std::to_string(n)});
    EXPECT_EQ(st.node().list_ids().size(), 1u);
  }
  // A new config replaces the container stop-first: a new task too, with its
  // restart counts started over.
  st.spec("web").config_hash = "h2";
  st.update();
  st.settle();
  auto tasks = st.sup().replicas();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].status.incarnation, 4);
  EXPECT_EQ(tasks[0].status.config_hash, "h2");
  EXPECT_EQ(tasks[0].status.restart_count, 0);
  EXPECT_EQ(tasks[0].status.state, ReplicaState::Running);
  EXPECT_EQ(keys(), std::vector<std::string>{"replicas/demo/web/1/4"});
  EXPECT_EQ(st.node().running_names(), std::vector<std::string>{"demo-web-1"});
}

TEST(SupervisorTable, ACreateThatFailsIsReportedToTheWaiter) {
  FakeStack st;
  st.add("web").restart.mode = RestartMode::Always;
  st.node().fail_creates("web", "image has no rootfs");
  st.start();
  st.settle();
  auto settled = st.settled();
  ASSERT_FALSE(settled);
  EXPECT_NE(settled.error().message().find("image has no rootfs"), std::string::npos) << settled.error().message();
  auto r = st.replica("demo-web-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.state, ReplicaState::Exited);
  EXPECT_EQ(r->status.exit_code, 125);
}

// --- unhealthy -> replaced --------------------------------------------------

struct UnhealthyRow {
  const char* name;
  RestartMode mode;
  bool restart_unhealthy;
  bool replaced;
};

TEST(SupervisorTable, AnUnhealthyReplicaLeavesDnsAndPoolAndIsReplacedWhenThePolicySaysSo) {
  const UnhealthyRow rows[] = {
      {"always: replaced", RestartMode::Always, true, true},
      {"on-failure: replaced (Swarm)", RestartMode::OnFailure, true, true},
      {"restart policy no: left running (Compose)", RestartMode::No, true, false},
      {"x-restart_unhealthy false: left running", RestartMode::Always, false, false},
  };
  for (const UnhealthyRow& row : rows) {
    SCOPED_TRACE(row.name);
    FakeStack st;
    sched::ServiceSpec& web = st.add("web");
    web.restart.mode = row.mode;
    web.health = exec_check(1000, 2);
    web.health.restart_unhealthy = row.restart_unhealthy;
    // Each incarnation: ready at its first probe, failing from the second.
    st.node().script_probes("web", {0, 1});
    st.start();
    const int64_t t0 = st.clock.now();
    st.settle();

    // The readiness phase probes at start: healthy at once, in DNS and pool.
    EXPECT_EQ(st.node().probes_of("demo-web-1"), 1);
    auto r = st.replica("demo-web-1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status.started_at, t0);
    EXPECT_EQ(r->status.health.health, Health::Healthy);
    ASSERT_TRUE(st.wired("demo-web-1"));
    EXPECT_TRUE(st.wired("demo-web-1")->in_dns);
    EXPECT_TRUE(st.wired("demo-web-1")->in_pool);

    // Probes at t0+1000 and t0+2000 fail: unhealthy after `retries` (2).
    ASSERT_TRUE(st.run_until([&] { return st.replica("demo-web-1")->status.health.failing_streak > 0; }, kMinute));
    EXPECT_EQ(st.clock.now(), t0 + 1000);
    EXPECT_EQ(st.replica("demo-web-1")->status.health.health, Health::Healthy);
    EXPECT_TRUE(st.wired("demo-web-1")->in_pool);  // one failure is not unhealthy yet
    std::string first_id = st.node().containers().front().id;
    ASSERT_TRUE(st.run_until([&] { return st.node().containers().front().signals.size() > 0 ||
                                          st.replica("demo-web-1")->status.health.health == Health::Unhealthy; },
                             kMinute));
    EXPECT_EQ(st.clock.now(), t0 + 2000);

    if (!row.replaced) {
      r = st.replica("demo-web-1");
      EXPECT_EQ(r->status.state, ReplicaState::Running);
      EXPECT_EQ(r->status.health.health, Health::Unhealthy);
      EXPECT_FALSE(st.wired("demo-web-1")->in_dns);
      EXPECT_FALSE(st.wired("demo-web-1")->in_pool);
      st.run_for(kMinute);
      EXPECT_EQ(st.node().containers().size(), 1u);
      EXPECT_TRUE(st.node().containers().front().signals.empty());
      continue;
    }
    // Stopped at once (SIGTERM), out of DNS and the pool with its stop,
    // restarted as a failed run after the first backoff step.
    EXPECT_EQ(st.node().containers().front().signals, std::vector<int>{SIGTERM});
    ASSERT_TRUE(st.run_until([&] { return st.node().containers().size() == 2; }, kMinute));
    EXPECT_EQ(st.node().containers()[1].started_at, t0 + 2000 + 100);
    r = st.replica("demo-web-1");
    EXPECT_EQ(r->status.restart_count, 1);
    EXPECT_NE(r->status.container_id, first_id);
    EXPECT_EQ(r->status.health.health, Health::Healthy);  // the new incarnation's first probe
    EXPECT_TRUE(st.wired("demo-web-1")->in_pool);
    EXPECT_TRUE(has(st.events(), "health_status demo-web-1"));
  }
}

TEST(SupervisorTable, ReadinessProbesComeQuicklyUntilTheFirstPassAndFailuresThereDoNotCount) {
  FakeStack st;
  sched::ServiceSpec& web = st.add("web");
  web.health = exec_check(30000, 1);  // one counted failure would make it unhealthy
  st.node().script_probes("demo-web-1", {1, 1, 1, 1, 0});
  st.start();
  const int64_t t0 = st.clock.now();
  st.settle();
  EXPECT_EQ(st.replica("demo-web-1")->status.health.health, Health::Starting);
  EXPECT_FALSE(st.wired("demo-web-1")->in_pool);
  EXPECT_TRUE(st.wired("demo-web-1")->in_dns);  // named while starting
  ASSERT_TRUE(st.run_until([&] { return st.replica("demo-web-1")->status.health.health == Health::Healthy; },
                           kMinute));
  // Probes at +0, +25, +75, +175, +375: delays 25, 50, 100, 200.
  EXPECT_EQ(st.clock.now(), t0 + 375);
  EXPECT_EQ(st.node().probes_of("demo-web-1"), 5);
  EXPECT_EQ(st.replica("demo-web-1")->status.health.failing_streak, 0);
  EXPECT_TRUE(st.wired("demo-web-1")->in_pool);
}

// --- scale ------------------------------------------------------------------

struct ScaleRow {
  int from, to;
  std::vector<std::string> running;
};

TEST(SupervisorTable, ScaleCreatesOrStopsAndRemovesTheHighestSlots) {
  const ScaleRow rows[] = {
      {1, 3, {"demo-web-1", "demo-web-2", "demo-web-3"}},
      {3, 1, {"demo-web-1"}},
      {2, 0, {}},
      {0, 2, {"demo-web-1", "demo-web-2"}},
      {2, 2, {"demo-web-1", "demo-web-2"}},
  };
  for (const ScaleRow& row : rows) {
    SCOPED_TRACE(std::to_string(row.from) + " -> " + std::to_string(row.to));
    FakeStack st;
    st.add("web", row.from);
    st.start();
    st.settle();
    ASSERT_EQ(st.node().running().size(), static_cast<size_t>(row.from));
    size_t made = st.node().containers().size();

    st.spec("web").replicas = row.to;
    st.update();
    st.settle();
    EXPECT_EQ(st.node().running_names(), row.running);
    EXPECT_TRUE(st.settled()) << "scale " << row.to;
    EXPECT_EQ(st.sup().replicas().size(), static_cast<size_t>(row.to));
    // Kept replicas are not touched; removed ones got their stop signal
    // first, highest slot first, and are gone from the node.
    EXPECT_EQ(st.node().containers().size(), std::max(made, static_cast<size_t>(row.to)));
    EXPECT_EQ(st.node().list_ids().size(), static_cast<size_t>(row.to));
    auto events = st.events();
    for (int slot = row.from; slot > row.to; slot--) {
      std::string name = "demo-web-" + std::to_string(slot);
      EXPECT_TRUE(has(events, "stop " + name)) << name;
      EXPECT_TRUE(has(events, "destroy " + name)) << name;
      if (slot > row.to + 1) {
        EXPECT_LT(index_of(events, "stop " + name), index_of(events, "stop demo-web-" + std::to_string(slot - 1)));
      }
    }
  }
}

// --- stop -------------------------------------------------------------------

TEST(SupervisorTable, StopByUserIsNeverUndoneByARestartPolicy) {
  struct Row {
    const char* name;
    std::vector<std::string> services;  // user_stop(); empty: all
    std::vector<std::string> running_after;
  };
  const Row rows[] = {
      {"all", {}, {}},
      {"one service", {"web"}, {"demo-db-1"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    FakeStack st;
    st.add("db").restart.mode = RestartMode::Always;
    st.add("web").restart.mode = RestartMode::Always;
    st.start();
    st.settle();
    ASSERT_EQ(st.node().running().size(), 2u);

    st.sup().user_stop(row.services);
    st.run_for(5 * kMinute);
    EXPECT_EQ(st.node().running_names(), row.running_after);
    auto web = st.replica("demo-web-1");
    EXPECT_EQ(web->status.state, ReplicaState::Exited);
    EXPECT_TRUE(web->status.stopped_by_user);
    EXPECT_EQ(web->status.exit_code, 128 + SIGTERM);
    EXPECT_EQ(web->status.restart_count, 0);
    EXPECT_FALSE(st.wired("demo-web-1")->in_dns);

    st.sup().user_start(row.services);
    st.settle();
    EXPECT_EQ(st.node().running_names(), (std::vector<std::string>{"demo-db-1", "demo-web-1"}));
    EXPECT_TRUE(st.settled());
  }
}

TEST(SupervisorTable, AStopSignalThatIsIgnoredIsFollowedBySigkillAfterTheGrace) {
  struct Row {
    const char* name;
    bool ignores_term;
    int64_t grace;
    int exit_code;
    int64_t exited_after;
  };
  const Row rows[] = {
      {"exits on SIGTERM", false, 3000, 128 + SIGTERM, 0},
      {"ignores SIGTERM: killed at the grace", true, 3000, 128 + SIGKILL, 3000},
      {"ignores SIGTERM, grace 0: killed at once", true, 0, 128 + SIGKILL, 0},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    FakeStack st;
    st.add("web").stop_grace = row.grace;
    if (row.ignores_term) st.node().ignore_signal("web", SIGTERM);
    st.start();
    st.settle();
    const int64_t stopped_at = st.clock.now();
    st.sup().set_goal(sched::StackGoal::Stopped);
    ASSERT_TRUE(st.run_until([&] { return st.node().running().empty(); }, kMinute));
    EXPECT_EQ(st.clock.now() - stopped_at, row.exited_after);
    EXPECT_EQ(st.node().containers().front().exit_code, row.exit_code);
    EXPECT_EQ(st.replica("demo-web-1")->status.state, ReplicaState::Exited);
  }
}

TEST(SupervisorTable, AStoppedStackStopsDependentsBeforeTheirDependencies) {
  FakeStack st;
  st.add("db");
  st.add("web").depends_on = {{"db", DependencyCondition::Started, false, true}};
  st.start();
  st.settle();
  st.sup().set_goal(sched::StackGoal::Stopped);
  st.settle();
  EXPECT_TRUE(st.node().running().empty());
  auto events = st.events();
  ASSERT_TRUE(has(events, "die demo-web-1"));
  ASSERT_TRUE(has(events, "stop demo-db-1"));
  EXPECT_LT(index_of(events, "die demo-web-1"), index_of(events, "stop demo-db-1"));
}

// --- dependency gating --------------------------------------------------------

struct GateRow {
  const char* name;
  DependencyCondition condition;
  std::vector<int> db_probes;      // empty: db has no health check
  std::optional<int> db_exit;      // db exits with this right after it started
  std::optional<int64_t> web_after;  // web starts this long after db; nullopt: never
  const char* blocked;             // in wait_settled's error when web never starts
};

TEST(SupervisorTable, ADependentStartsOnlyOnceItsDependencySatisfiesTheCondition) {
  const GateRow rows[] = {
      {"started: at once", DependencyCondition::Started, {1}, {}, 0, ""},
      {"healthy: ready at the first probe, at start", DependencyCondition::Healthy, {0}, {}, 0, ""},
      {"healthy: after the readiness probes", DependencyCondition::Healthy, {1, 1, 1, 0}, {}, 175, ""},
      {"healthy: no check counts as running", DependencyCondition::Healthy, {}, {}, 0, ""},
      {"healthy: never, unhealthy for good", DependencyCondition::Healthy, {1}, {}, {}, "blocked"},
      {"completed: after a clean exit", DependencyCondition::CompletedSuccessfully, {}, 0, 0, ""},
      {"completed: a failed job blocks", DependencyCondition::CompletedSuccessfully, {}, 3, {}, "blocked"},
  };
  for (const GateRow& row : rows) {
    SCOPED_TRACE(row.name);
    FakeStack st;
    sched::ServiceSpec& db = st.add("db");
    if (!row.db_probes.empty()) {
      db.health = exec_check(1000, 2);
      st.node().script_probes("db", row.db_probes);
    }
    db.one_shot = row.condition == DependencyCondition::CompletedSuccessfully;
    st.add("web").depends_on = {{"db", row.condition, false, true}};
    st.start();
    st.settle();
    auto dbr = st.replica("demo-db-1");
    ASSERT_TRUE(dbr);
    const int64_t db_started = dbr->status.started_at;
    if (row.db_exit) {
      st.node().exit("demo-db-1", *row.db_exit);
      st.settle();
    }
    bool started = st.run_until([&] { return st.replica("demo-web-1").has_value() &&
                                             st.replica("demo-web-1")->status.started_at > 0; },
                                kMinute);
    if (!row.web_after) {
      EXPECT_FALSE(started);
      auto settled = st.settled();
      ASSERT_FALSE(settled);
      EXPECT_NE(settled.error().message().find(row.blocked), std::string::npos) << settled.error().message();
      EXPECT_EQ(st.node().containers().size(), 1u);  // web never created
      continue;
    }
    ASSERT_TRUE(started);
    EXPECT_EQ(st.replica("demo-web-1")->status.started_at - db_started, *row.web_after);
  }
}

// --- the loop thread ----------------------------------------------------------

TEST(SupervisorTable, TheLoopThreadRunsThePassesWithTheInjectedClock) {
  FakeStack st;
  st.add("web", 2);
  st.start_thread();
  // Blocks until the thread has made both replicas (no deadline: it sleeps on
  // the fake clock, which wakes it to look again).
  ASSERT_TRUE(st.sup().wait_settled({}, false, 0));
  EXPECT_EQ(st.node().running_names(), (std::vector<std::string>{"demo-web-1", "demo-web-2"}));
  st.spec("web").replicas = 3;
  st.update();  // kicks the loop
  ASSERT_TRUE(st.sup().wait_settled({"web"}, false, 0));
  EXPECT_EQ(st.node().running().size(), 3u);
  EXPECT_EQ(st.replica("demo-web-3")->status.created_at, FakeClock::kStart);  // fake time, not the wall clock
  st.sup().stop_loop();
}

}  // namespace
