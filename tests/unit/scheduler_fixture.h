// Builders for scheduler tests: stack specs and observed replicas in a line.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "scheduler/placement.h"
#include "scheduler/reconcile.h"

namespace stack::sched::fixture {

inline ServiceSpec svc(std::string name, int replicas = 1, std::vector<DependencySpec> deps = {}) {
  ServiceSpec s;
  s.name = std::move(name);
  s.replicas = replicas;
  s.depends_on = std::move(deps);
  s.config_hash = "h1";
  return s;
}

inline DependencySpec dep(std::string service, DependencyCondition c = DependencyCondition::Started,
                          bool required = true) {
  DependencySpec d;
  d.service = std::move(service);
  d.condition = c;
  d.required = required;
  return d;
}

inline HealthSpec exec_check() {
  HealthSpec h;
  h.kind = ProbeKind::Exec;
  h.exec = {"/bin/check"};
  h.interval = 1000;
  h.retries = 2;
  h.start_period = 0;
  return h;
}

inline ReplicaStatus replica(std::string service, int slot, ReplicaState state,
                             Health health = Health::None) {
  ReplicaStatus r;
  r.stack = "demo";
  r.service = std::move(service);
  r.slot = slot;
  r.state = state;
  r.container_id = state == ReplicaState::Pending ? "" : r.service + std::to_string(slot) + "-id";
  r.config_hash = "h1";
  r.health.health = health;
  r.created_at = r.started_at = 1000;
  return r;
}

inline ReplicaStatus exited_replica(std::string service, int slot, int code, TimeMs finished) {
  ReplicaStatus r = replica(std::move(service), slot, ReplicaState::Exited);
  r.exit_code = code;
  r.finished_at = finished;
  return r;
}

// "create web 2", "stop db 1", ... in order: the whole decision at a glance.
inline std::vector<std::string> summary(const Decision& d) {
  std::vector<std::string> out;
  for (const Action& a : d.actions)
    out.push_back(std::string(to_string(a.kind)) + " " + a.service + " " + std::to_string(a.slot));
  return out;
}

inline bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// A node with `cpus` and 8 GiB, ready and active.
inline NodeInfo node(std::string id, double cpus = 4) {
  NodeInfo n;
  n.id = std::move(id);
  n.cpus = cpus;
  n.memory = 8ull << 30;
  return n;
}

inline ReplicaStatus on(ReplicaStatus r, std::string node_id) {
  r.node = std::move(node_id);
  return r;
}

// "create web 1 @a", in order; dropped actions are missing.
inline std::vector<std::string> placed(const Decision& d) {
  std::vector<std::string> out;
  for (const Action& a : d.actions)
    out.push_back(std::string(to_string(a.kind)) + " " + a.service + " " + std::to_string(a.slot) +
                  (a.node.empty() ? "" : " @" + a.node));
  return out;
}

}  // namespace stack::sched::fixture
