// depends_on as a graph (order, cycles, dependents) and as a gate (is a
// dependency's condition met, still coming, or never going to be?). Pure.
// dependency_order() itself is declared in reconcile.h and defined here.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "scheduler/model.h"

namespace stack::sched {

// Transitive dependents of `service` that declared `restart: true` on the
// edge that leads to it, in dependency order: whom the daemon restarts after
// it explicitly restarts or recreates `service` (Compose's depends_on.restart).
std::vector<std::string> dependents_to_restart(const StackSpec& desired,
                                               const std::string& service);

// Direct dependents of `service` (services listing it in depends_on), by name.
std::vector<std::string> direct_dependents(const StackSpec& desired, const std::string& service);

// True when a Running, Unhealthy replica is to be stopped and started again:
// the service asks for it (health.restart_unhealthy) and its restart policy
// would restart a run that ended unhealthy (not `no`, not stopped by the user,
// attempts left). Swarm's replacement of unhealthy tasks.
bool replace_unhealthy(const ServiceSpec& service, const ReplicaStatus& replica);

// Observed replicas of one service by slot.
using SlotMap = std::map<int, const ReplicaStatus*>;

enum class GateState { Met, Waiting, Failed };

struct Gate {
  GateState state = GateState::Met;
  std::string
      why;  // Waiting/Failed: "db-1 is starting", "db-1 exited (code 1) and will not restart"
};

// Whether `dep` (a service spec, its observed replicas and, when it cannot
// progress itself, why) satisfies `condition`. Only the slots it should have
// count (`slots`, from target_slots() in slots.h).
Gate dependency_gate(DependencyCondition condition, const ServiceSpec& dep, const std::vector<int>& slots,
                     const SlotMap& observed, const std::string& dep_stuck);

}  // namespace stack::sched
