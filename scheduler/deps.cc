// depends_on: ordering (Kahn's algorithm, ties by name so the order is
// stable), cycles (walked to print their path) and the dependency gate.
#include "scheduler/deps.h"

#include <algorithm>
#include <set>

#include "base/graph.h"
#include "scheduler/reconcile.h"
#include "scheduler/restart.h"

namespace stack::sched {

namespace {

const ServiceSpec* find_service(const StackSpec& desired, const std::string& name) {
  for (const ServiceSpec& s : desired.services)
    if (s.name == name) return &s;
  return nullptr;
}

// Known dependencies of each service (unknown names are the loader's and
// reconcile's business, not the order's), deduplicated.
std::map<std::string, std::set<std::string>> dependency_edges(const StackSpec& desired) {
  std::map<std::string, std::set<std::string>> edges;
  for (const ServiceSpec& s : desired.services) {
    auto& deps = edges[s.name];
    for (const DependencySpec& d : s.depends_on)
      if (find_service(desired, d.service)) deps.insert(d.service);
  }
  return edges;
}

// The cycle among services that all still wait on one another (what Kahn's
// order left over), found as the loader finds one (base/graph.h). The loader
// refuses a cycle at its file:line, so a stack from a file never has one
// here; this names it when a spec came another way (a client's JSON, a
// test), so that reconcile blocks what the cycle holds instead of waiting
// forever.
std::string cycle_text(const std::map<std::string, std::set<std::string>>& edges,
                       const std::set<std::string>& remaining) {
  graph::Edges stuck;
  for (const std::string& n : remaining)
    for (const std::string& d : edges.at(n))
      if (remaining.count(d)) stuck[n].insert(d);
  for (const std::string& n : remaining) stuck[n];
  return graph::cycle_text(graph::find_cycle(stuck));
}

std::string slot_name(const ServiceSpec& s, int slot) {
  return s.name + "-" + std::to_string(slot);
}

}  // namespace

OrderResult dependency_order(const StackSpec& desired) {
  auto edges = dependency_edges(desired);
  std::map<std::string, int> waiting;  // unmet dependency count
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& [name, deps] : edges) {
    waiting[name] = static_cast<int>(deps.size());
    for (const std::string& d : deps) dependents[d].push_back(name);
  }
  std::set<std::string> ready;
  for (const auto& [name, n] : waiting)
    if (n == 0) ready.insert(name);

  OrderResult result;
  while (!ready.empty()) {
    std::string next = *ready.begin();
    ready.erase(ready.begin());
    result.order.push_back(next);
    for (const std::string& s : dependents[next])
      if (--waiting[s] == 0) ready.insert(s);
  }
  std::set<std::string> remaining;
  for (const auto& [name, n] : waiting)
    if (n > 0) remaining.insert(name);
  result.sorted = result.order.size();
  if (!remaining.empty()) {
    result.cycle = cycle_text(edges, remaining);
    // Still list every service (the stuck ones last, by name) so that callers
    // stopping or removing a broken stack reach all of it.
    result.order.insert(result.order.end(), remaining.begin(), remaining.end());
  }
  return result;
}

std::vector<std::string> direct_dependents(const StackSpec& desired, const std::string& service) {
  std::set<std::string> out;
  for (const ServiceSpec& s : desired.services)
    for (const DependencySpec& d : s.depends_on)
      if (d.service == service) out.insert(s.name);
  return {out.begin(), out.end()};
}

std::vector<std::string> dependents_to_restart(const StackSpec& desired,
                                               const std::string& service) {
  std::set<std::string> found;
  std::vector<std::string> frontier{service};
  while (!frontier.empty()) {
    std::string at = frontier.back();
    frontier.pop_back();
    for (const ServiceSpec& s : desired.services)
      for (const DependencySpec& d : s.depends_on)
        if (d.service == at && d.restart && s.name != service && found.insert(s.name).second)
          frontier.push_back(s.name);
  }
  std::vector<std::string> ordered;
  for (const std::string& name : dependency_order(desired).order)
    if (found.count(name)) ordered.push_back(name);
  return ordered;
}

bool replace_unhealthy(const ServiceSpec& service, const ReplicaStatus& replica) {
  if (!service.health.restart_unhealthy || replica.health.health != Health::Unhealthy) return false;
  ReplicaStatus as_if_exited = replica;
  as_if_exited.state = ReplicaState::Exited;
  as_if_exited.finished_at =
      replica.health.log.empty() ? replica.started_at : replica.health.log.back().end;
  return restart_decision(service.restart, as_if_exited).restart;
}

namespace {

// One replica of the dependency against the condition.
Gate replica_gate(DependencyCondition condition, const ServiceSpec& dep, int slot,
                  const ReplicaStatus* r) {
  std::string name = slot_name(dep, slot);
  if (!r || r->state == ReplicaState::Pending || r->state == ReplicaState::Removed)
    return {GateState::Waiting, name + " is not created yet"};
  switch (r->state) {
    case ReplicaState::Created: return {GateState::Waiting, name + " is not started yet"};
    case ReplicaState::Stopping: return {GateState::Waiting, name + " is stopping"};
    case ReplicaState::Running:
      if (condition == DependencyCondition::CompletedSuccessfully)
        return {GateState::Waiting, name + " is still running"};
      if (condition == DependencyCondition::Started || dep.health.kind == ProbeKind::None ||
          r->health.health == Health::Healthy)
        return {};
      if (r->health.health == Health::Unhealthy)
        return replace_unhealthy(dep, *r)
                   ? Gate{GateState::Waiting, name + " is unhealthy and being replaced"}
                   : Gate{GateState::Failed, name + " is unhealthy"};
      return {GateState::Waiting, name + " is " + to_string(r->health.health)};
    default: break;
  }
  // Exited.
  if (r->config_hash != dep.config_hash) return {GateState::Waiting, name + " is being recreated"};
  if (r->start_requested && !r->stopped_by_user) return {GateState::Waiting, name + " is starting"};
  bool success = r->exit_code == 0 && !r->oom_killed;
  RestartDecision again = restart_decision(dep.restart, *r);
  if (success && condition == DependencyCondition::CompletedSuccessfully) return {};
  if (again.restart)
    return {GateState::Waiting,
            name + " exited (code " + std::to_string(r->exit_code) + ") and restarts"};
  if (success && condition == DependencyCondition::Started) return {};  // ran and completed
  std::string what = condition == DependencyCondition::CompletedSuccessfully
                         ? " completed unsuccessfully"
                         : " exited";
  return {GateState::Failed, name + what + " (code " + std::to_string(r->exit_code) +
                                 ") and will not restart: " + again.reason};
}

}  // namespace

Gate dependency_gate(DependencyCondition condition, const ServiceSpec& dep, const std::vector<int>& slots,
                     const SlotMap& observed, const std::string& dep_stuck) {
  Gate waiting;
  for (int slot : slots) {
    auto it = observed.find(slot);
    const ReplicaStatus* r = it == observed.end() ? nullptr : it->second;
    bool uncreated = !r || r->state == ReplicaState::Pending || r->state == ReplicaState::Removed;
    if (uncreated && !dep_stuck.empty())
      return {GateState::Failed, dep.name + " is blocked (" + dep_stuck + ")"};
    Gate g = replica_gate(condition, dep, slot, r);
    if (g.state == GateState::Failed) return g;
    if (g.state == GateState::Waiting && waiting.state == GateState::Met) waiting = g;
  }
  return waiting;
}

}  // namespace stack::sched
