// reconcile(): desired stack vs observed replicas at time `now` -> the
// actions to take now and when to look again. Pure: no clocks, no syscalls.
//
// Rules (Compose + Swarm semantics, written down in reconcile.cc):
// - Up: every service has slots 1..replicas. A Pending slot is created once
//   all its required dependencies satisfy their condition (Started: every
//   replica Running; Healthy: every replica Healthy, or Running when the
//   dependency has no health check; CompletedSuccessfully: every replica
//   Exited with code 0). Slots above `replicas` are stopped (highest first),
//   then removed. A replica whose config_hash differs is stopped and
//   re-created (stop-first).
// - Exited replicas are restarted per restart_decision() (restart.h), never
//   when stopped_by_user. An Unhealthy replica with health.restart_unhealthy
//   is stopped (it leaves DNS/ports as soon as it is Unhealthy: the daemon
//   does that on the health transition, not here) and then restarted.
// - Stopping replicas whose grace expired get Kill.
// - Stopped: every Running replica gets Stop, dependents before their
//   dependencies (reverse depends_on order); nothing is restarted.
// - Down: as Stopped, then every container is Removed.
// The full rule set, with the choices made where Compose and Swarm differ,
// is at the top of reconcile.cc. Actions come in execution order (kills,
// stops, removes, restarts, creates); the daemon calls reconcile again after
// executing them, on every observed change, and at wake_at.
#pragma once

#include "scheduler/model.h"
#include "scheduler/placement.h"

namespace stack::sched {

Decision reconcile(const StackSpec& desired, const ObservedStack& observed, StackGoal goal,
                   TimeMs now);
// The same, then place_actions() (placement.h) over `nodes`: every Create
// and Restart carries its node, and one that no node can take is left out
// and reported in `blocked`. The daemon calls this one.
Decision reconcile(const StackSpec& desired, const ObservedStack& observed, StackGoal goal,
                   TimeMs now, const std::vector<NodeInfo>& nodes);

// Services in dependency order (dependencies first); error text names the
// cycle ("a -> b -> a") when there is one. Used by the loader's validation
// too, so one definition of a cycle exists.
// With a cycle, `order` still lists every service: order[0, sorted) is a
// true dependency order, the rest (in or behind the cycle) follow by name.
struct OrderResult {
  std::vector<std::string> order;
  std::string cycle;  // "" when acyclic
  size_t sorted = 0;
};
OrderResult dependency_order(const StackSpec& desired);

const char* to_string(ReplicaState s);
const char* to_string(Health h);
const char* to_string(ActionKind k);
const char* to_string(StackGoal g);            // up | stopped | down
const char* to_string(RestartMode m);          // no | always | on-failure | unless-stopped
const char* to_string(ProbeKind k);            // none | exec | http | tcp
const char* to_string(DependencyCondition c);  // service_started | service_healthy | ...

}  // namespace stack::sched
