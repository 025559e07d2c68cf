// What the nodes report back to a Supervisor: container exits (watch ->
// on_exit) and health probe results (schedule_probes -> the node's probe on
// the probe executor -> on_probe). Both arrive on other threads, take mu_,
// update the replica, re-wire and kick the loop.
#include "orchestrator/daemon/engine/supervisor.h"
#include "scheduler/health.h"
#include "scheduler/reconcile.h"

namespace stack::orch {

using sched::ReplicaState;

void Supervisor::watch(LocalNode* node, const std::string& id) {
  auto g = guard_;
  stack::Result<void> r = stack::fail("watch " + id + ": its node is not in the set", ENOENT);
  if (node)
    r = node->watch(id, [g, id](const ExitInfo& info) {
      std::lock_guard l(g->m);
      if (g->self) g->self->on_exit(id, info);
    });
  if (!r) {
    // Without a watch we would never see the exit: treat it as gone now.
    on_exit(id, ExitInfo{kCreateFailed, false, ctx_.clock.now()});
  }
}

void Supervisor::on_exit(const std::string& id, const ExitInfo& info) {
  std::lock_guard lk(mu_);
  ReplicaRecord* r = find_by_id(id);
  if (!r || r->status.state == ReplicaState::Exited) return;
  r->status.state = ReplicaState::Exited;
  r->status.exit_code = info.exit_code;
  r->status.oom_killed = info.oom_killed;
  r->status.finished_at = info.finished_at_ms ? info.finished_at_ms : ctx_.clock.now();
  r->pid = 0;
  killed_.erase(id);
  save(*r);
  if (info.oom_killed) emit("oom", r->status.service, r->name);
  emit("die", r->status.service, r->name, {{"exitCode", std::to_string(info.exit_code)}});
  rewire();
  kicked_ = true;
  kick_cv_.notify_all();
  changed_cv_.notify_all();
}

void Supervisor::on_probe(const std::string& id, const sched::ProbeResult& result) {
  std::lock_guard lk(mu_);
  probing_.erase(id);
  ReplicaRecord* r = find_by_id(id);
  const sched::ServiceSpec* ss = r ? service_spec(r->status.service) : nullptr;
  if (!r || !ss || r->status.state != ReplicaState::Running) return;
  sched::Health before = r->status.health.health;
  r->status.health = sched::health_on_result(ss->health, r->status.health, r->status.started_at, result);
  sched::Health after = r->status.health.health;
  save(*r);
  if (after != before) {
    rewire();  // unhealthy: out of DNS and the port pool at once; healthy: back in
    emit("health_status", r->status.service, r->name, {{"health", sched::to_string(after)}});
    changed_cv_.notify_all();
  }
  kicked_ = true;
  kick_cv_.notify_all();
}

int64_t Supervisor::schedule_probes(int64_t now) {
  int64_t next = INT64_MAX;
  for (auto& [task, r] : replicas_) {
    if (r.status.state != ReplicaState::Running) continue;
    const sched::ServiceSpec* ss = service_spec(r.status.service);
    const std::string& id = r.status.container_id;
    if (!ss || ss->health.kind == sched::ProbeKind::None || probing_.count(id)) continue;
    if (!sched::health_probe_due(ss->health, r.status.health, now)) {
      if (r.status.health.next_probe_at > 0) next = std::min(next, r.status.health.next_probe_at);
      continue;
    }
    LocalNode* node = node_by_id(r.status.node);
    if (!node) continue;  // its node left the set: nothing can reach the container
    std::string address;
    auto sit = desired_.project.services.find(r.status.service);
    if (sit != desired_.project.services.end()) {
      auto nets = ordered_networks(sit->second);
      if (!nets.empty()) {
        auto a = r.addresses.find(network_name(desired_.project, nets.front()));
        if (a != r.addresses.end()) address = a->second;
      }
    }
    probing_.insert(id);
    ctx_.run_probe([g = guard_, node, id, spec = ss->health, address] {
      sched::ProbeResult res = node->probe(id, spec, address);
      std::lock_guard l(g->m);
      if (g->self) g->self->on_probe(id, res);
    });
  }
  return next;
}

}  // namespace stack::orch
