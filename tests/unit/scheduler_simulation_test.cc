// A small discrete-time simulation: a fake node that carries out reconcile()'s
// actions on an in-memory observed state (containers that run, exit, answer
// probes and SIGTERM as each service's script says), with time advancing to
// the next thing that matters. Checks that whole stacks converge: up in
// dependency order, crash loops giving up with backoff, unhealthy replicas
// replaced, scale down, down in reverse order with a kill after the grace.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include "scheduler/health.h"
#include "scheduler/reconcile.h"
#include "scheduler/restart.h"
#include "tests/unit/scheduler_fixture.h"

namespace {

using namespace stack::sched;
using namespace stack::sched::fixture;
using DC = DependencyCondition;

// How a service's containers behave.
struct Script {
  Ms runs_for = -1;        // exits by itself after this long; -1: until stopped
  int exit_code = 0;       // ...with this code
  Ms healthy_after = 0;    // probes pass once it has run this long
  Ms unhealthy_from = -1;  // first run only: probes fail from this long on
  bool ignores_sigterm = false;
  Ms stop_takes = 50;  // SIGTERM to exit
};

struct Pending {
  TimeMs at;
  int code;
};

class World {
 public:
  StackSpec spec{"sim", {}};
  std::map<std::string, Script> scripts;
  std::vector<ReplicaStatus> replicas;
  std::vector<std::string> log;  // "<ms since t0> <action> <service> <slot>"
  Decision last;
  TimeMs now = t0;
  static constexpr TimeMs t0 = 1'700'000'000'000;

  // Runs until the stack settles (no action, nothing to wait for, no health
  // still Starting: probes of a settled replica go on forever) or, with a
  // horizon, until nothing happens before t0 + horizon. False when it took
  // more than max_steps.
  bool run(StackGoal goal, std::optional<Ms> horizon = std::nullopt, int max_steps = 5000) {
    for (int step = 0; step < max_steps; step++) {
      last = reconcile(spec, ObservedStack{replicas}, goal, now);
      for (const Action& a : last.actions) apply(a);
      if (!last.actions.empty()) continue;  // look again at the same instant
      std::optional<TimeMs> next = last.wake_at;
      auto consider = [&](TimeMs t) {
        if (!next || t < *next) next = t;
      };
      for (const auto& [key, p] : exits_) consider(p.at);
      bool starting = false;
      for (const ReplicaStatus& r : replicas)
        if (r.state == ReplicaState::Running && r.health.next_probe_at) {
          consider(r.health.next_probe_at);
          starting = starting || r.health.health == Health::Starting;
        }
      if (horizon ? (!next || *next > t0 + *horizon)
                  : (!last.wake_at && exits_.empty() && !starting))
        return true;
      now = std::max(now, *next);
      advance();
    }
    return false;
  }

  ReplicaStatus* find(const std::string& service, int slot) {
    for (ReplicaStatus& r : replicas)
      if (r.service == service && r.slot == slot) return &r;
    return nullptr;
  }

  const ServiceSpec& service(const std::string& name) const {
    for (const ServiceSpec& s : spec.services)
      if (s.name == name) return s;
    throw std::runtime_error("no service " + name);
  }

  // Milliseconds since t0 of each log entry `what`, and of the first (-1: none).
  std::vector<Ms> all_when(const std::string& what) const {
    std::vector<Ms> out;
    for (const std::string& line : log) {
      size_t space = line.find(' ');
      if (line.substr(space + 1) == what) out.push_back(std::stoll(line.substr(0, space)));
    }
    return out;
  }
  Ms when(const std::string& what) const {
    auto all = all_when(what);
    return all.empty() ? -1 : all.front();
  }

 private:
  using Key = std::pair<std::string, int>;

  void record(const std::string& what) { log.push_back(std::to_string(now - t0) + " " + what); }

  void start(ReplicaStatus& r) {
    const Script& s = scripts[r.service];
    r.state = ReplicaState::Running;
    r.started_at = now;
    r.start_requested = false;
    r.health = health_on_start(service(r.service).health, now);
    exits_.erase({r.service, r.slot});
    if (s.runs_for >= 0) exits_[{r.service, r.slot}] = {now + s.runs_for, s.exit_code};
  }

  void apply(const Action& a) {
    record(std::string(to_string(a.kind)) + " " + a.service + " " + std::to_string(a.slot) +
           (a.kind == ActionKind::Stop ? " (" + a.reason + ")" : ""));
    ReplicaStatus* r = find(a.service, a.slot);
    switch (a.kind) {
      case ActionKind::Create: {
        if (!r) {
          replicas.push_back(replica(a.service, a.slot, ReplicaState::Pending));
          r = &replicas.back();
        }
        *r = replica(a.service, a.slot, ReplicaState::Created);
        r->stack = spec.name;
        r->container_id = a.service + "-" + std::to_string(a.slot) + "-" + std::to_string(++ids_);
        r->config_hash = service(a.service).config_hash;
        r->created_at = now;
        start(*r);
        break;
      }
      case ActionKind::Restart:
        ASSERT_TRUE(r && (r->state == ReplicaState::Exited || r->state == ReplicaState::Created));
        if (a.policy_restart) note_restart(service(a.service).restart, *r, now);
        start(*r);
        break;
      case ActionKind::Stop:
        ASSERT_TRUE(r && r->state == ReplicaState::Running);
        r->state = ReplicaState::Stopping;
        r->stop_requested_at = now;
        exits_.erase({a.service, a.slot});
        if (!scripts[a.service].ignores_sigterm)
          exits_[{a.service, a.slot}] = {now + scripts[a.service].stop_takes, 143};
        break;
      case ActionKind::Kill:  // SIGKILL: gone at once
        ASSERT_TRUE(r && r->state == ReplicaState::Stopping);
        exits_.erase({a.service, a.slot});
        exit(*r, 137);
        break;
      case ActionKind::Remove:
        ASSERT_TRUE(r && r->state != ReplicaState::Running && r->state != ReplicaState::Stopping);
        replicas.erase(replicas.begin() + (r - replicas.data()));
        break;
    }
  }

  void exit(ReplicaStatus& r, int code) {
    r.state = ReplicaState::Exited;
    r.exit_code = code;
    r.finished_at = now;
    r.health.next_probe_at = 0;  // no probes on a dead container; the status stays
    record("exit " + r.service + " " + std::to_string(r.slot) + " " + std::to_string(code));
  }

  // Process exits and probes due at `now`.
  void advance() {
    for (auto it = exits_.begin(); it != exits_.end();) {
      if (it->second.at > now) {
        ++it;
        continue;
      }
      exit(*find(it->first.first, it->first.second), it->second.code);
      it = exits_.erase(it);
    }
    for (ReplicaStatus& r : replicas) {
      const ServiceSpec& s = service(r.service);
      if (r.state != ReplicaState::Running || !health_probe_due(s.health, r.health, now)) continue;
      const Script& script = scripts[r.service];
      Ms age = now - r.started_at;
      bool ok =
          age >= script.healthy_after &&
          !(script.unhealthy_from >= 0 && r.restart_count == 0 && age >= script.unhealthy_from);
      Health before = r.health.health;
      r.health = health_on_result(s.health, r.health, r.started_at, {now, now, ok ? 0 : 1, ""});
      if (r.health.health != before)
        record("health " + r.service + " " + std::to_string(r.slot) + " " +
               to_string(r.health.health));
    }
  }

  std::map<Key, Pending> exits_;
  int ids_ = 0;
};

HealthSpec check(Ms interval, int retries, Ms start_period, Ms start_interval) {
  HealthSpec h = exec_check();
  h.interval = interval;
  h.retries = retries;
  h.start_period = start_period;
  h.start_interval = start_interval;
  return h;
}

// db (healthy after 2 s) and a one-shot migration, then 2 api replicas that
// need both, then 3 web replicas.
World app() {
  World w;
  w.spec.services = {
      svc("db"),
      svc("migrate"),
      svc("api", 2, {dep("db", DC::Healthy), dep("migrate", DC::CompletedSuccessfully)}),
      svc("web", 3, {dep("api")}),
  };
  w.spec.services[0].health = check(1000, 3, 5000, 500);
  w.spec.services[0].restart.mode = RestartMode::UnlessStopped;
  w.spec.services[1].one_shot = true;
  w.spec.services[3].stop_grace = 2000;
  w.scripts["db"].healthy_after = 2000;
  w.scripts["migrate"] = {.runs_for = 300, .exit_code = 0};
  w.scripts["web"].ignores_sigterm = true;
  return w;
}

int count(const World& w, const std::string& service, ReplicaState state) {
  return static_cast<int>(std::count_if(
      w.replicas.begin(), w.replicas.end(),
      [&](const ReplicaStatus& r) { return r.service == service && r.state == state; }));
}

TEST(SchedulerSimulation, AStackComesUpInDependencyOrder) {
  World w = app();
  ASSERT_TRUE(w.run(StackGoal::Up));
  EXPECT_EQ(count(w, "db", ReplicaState::Running), 1);
  EXPECT_EQ(w.find("db", 1)->health.health, Health::Healthy);
  EXPECT_EQ(w.find("migrate", 1)->state, ReplicaState::Exited);
  EXPECT_EQ(count(w, "api", ReplicaState::Running), 2);
  EXPECT_EQ(count(w, "web", ReplicaState::Running), 3);
  EXPECT_TRUE(w.last.blocked.empty());

  EXPECT_EQ(w.when("create db 1"), 0);
  EXPECT_EQ(w.when("create migrate 1"), 0);
  // db's probes every 500 ms in its start period: healthy at the first one
  // after 2 s; api starts right then, web right after api.
  Ms healthy = w.when("health db 1 healthy");
  EXPECT_EQ(healthy, 2000);
  EXPECT_EQ(w.when("create api 1"), healthy);
  EXPECT_EQ(w.when("create api 2"), healthy);
  EXPECT_EQ(w.when("create web 3"), healthy);
  auto index = [&](const std::string& what) {
    return std::find_if(w.log.begin(), w.log.end(),
                        [&](const std::string& l) { return l.substr(l.find(' ') + 1) == what; }) -
           w.log.begin();
  };
  EXPECT_LT(index("create api 2"), index("create web 1"));
  for (const ReplicaStatus& r : w.replicas) EXPECT_EQ(r.restart_count, 0) << r.service;
}

TEST(SchedulerSimulation, ScaleDownThenDownStopsInReverseOrderAndKillsAfterTheGrace) {
  World w = app();
  ASSERT_TRUE(w.run(StackGoal::Up));
  w.spec.services[3].replicas = 1;
  Ms t = w.now - World::t0;
  ASSERT_TRUE(w.run(StackGoal::Up));
  EXPECT_EQ(w.when("stop web 3 (scale down to 1)"), t);
  EXPECT_EQ(w.when("kill web 3"), t + 2000);  // web ignores SIGTERM
  EXPECT_EQ(count(w, "web", ReplicaState::Running), 1);
  EXPECT_FALSE(w.find("web", 2));

  t = w.now - World::t0;
  ASSERT_TRUE(w.run(StackGoal::Down));
  EXPECT_TRUE(w.replicas.empty());
  EXPECT_EQ(w.when("stop web 1 (stack down)"), t);
  EXPECT_EQ(w.when("kill web 1"), t + 2000);
  EXPECT_EQ(w.when("stop api 1 (stack down)"), t + 2000);  // once web exited
  EXPECT_EQ(w.when("stop db 1 (stack down)"), t + 2050);   // once api exited
  EXPECT_EQ(w.when("remove db 1"), t + 2100);
  EXPECT_EQ(w.all_when("restart db 1"), std::vector<Ms>{});  // unless-stopped, yet not restarted
}

TEST(SchedulerSimulation, ACrashLoopBacksOffThenGivesUpAndBlocksItsDependents) {
  World w;
  w.spec.services = {svc("worker"), svc("report", 1, {dep("worker", DC::CompletedSuccessfully)})};
  w.spec.services[0].restart.mode = RestartMode::OnFailure;
  w.spec.services[0].restart.max_attempts = 3;
  w.scripts["worker"] = {.runs_for = 50, .exit_code = 1};
  ASSERT_TRUE(w.run(StackGoal::Up));

  const ReplicaStatus* worker = w.find("worker", 1);
  ASSERT_TRUE(worker);
  EXPECT_EQ(worker->state, ReplicaState::Exited);
  EXPECT_EQ(worker->restart_count, 3);
  // Runs of 50 ms, then waits of 100, 200, 400 ms.
  EXPECT_EQ(w.all_when("restart worker 1"), (std::vector<Ms>{150, 400, 850}));
  EXPECT_EQ(w.when("exit worker 1 1"), 50);
  EXPECT_FALSE(w.find("report", 1));
  ASSERT_EQ(w.last.blocked.size(), 1u);
  EXPECT_NE(
      w.last.blocked[0].find("report blocked: needs worker (service_completed_successfully): "
                             "worker-1 completed unsuccessfully (code 1) and will not restart: "
                             "exit 1, on-failure: gave up after 3 restarts"),
      std::string::npos)
      << w.last.blocked[0];
}

TEST(SchedulerSimulation, AnUnhealthyReplicaIsReplacedAndComesBackHealthy) {
  World w;
  w.spec.services = {svc("api")};
  w.spec.services[0].health = check(1000, 2, 0, 0);
  w.spec.services[0].restart.mode = RestartMode::Always;
  w.scripts["api"].unhealthy_from = 5000;
  // Healthy at the first probe: settling would stop there, so run 10 s.
  ASSERT_TRUE(w.run(StackGoal::Up, 10000));
  const ReplicaStatus* api = w.find("api", 1);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->state, ReplicaState::Running);
  EXPECT_EQ(api->health.health, Health::Healthy);
  EXPECT_EQ(api->restart_count, 1);
  EXPECT_EQ(w.when("health api 1 unhealthy"), 6000);  // failures at 5 s and 6 s
  EXPECT_EQ(w.when("stop api 1 (unhealthy)"), 6000);
  EXPECT_EQ(w.when("exit api 1 143"), 6050);
  EXPECT_EQ(w.when("restart api 1"), 6150);  // the first backoff step
  // Healthy at the readiness phase's first probe, right at each start (not
  // one interval later, as Docker's schedule alone would have it).
  EXPECT_EQ(w.all_when("health api 1 healthy"), (std::vector<Ms>{0, 6150}));
}

}  // namespace
