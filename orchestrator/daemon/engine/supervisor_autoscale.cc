// Supervisor: x-autoscale applied. Every autoscale interval (stackd's
// --autoscale-interval) the loop asks the nodes, off the loop thread, what
// each running replica of an autoscaled service has used (node stats: CPU
// time from its cgroup, its memory working set, the connections the
// published ports sent it). The answer comes back to on_readings(), which
// turns two readings of a replica into its load over the window between
// them, decides with sched::autoscale() (scheduler/autoscale.h: the rules
// live there) and applies a change as `stack scale` does: the count in the
// project and spec, the stack's record, an `autoscale` event with the
// reason. Reconcile then adds replicas (in DNS and the port pool once
// healthy) or stops the highest ones (out of the pool before their stop
// signal). A service in a rolling update is left alone until it ends.
#include <algorithm>
#include <chrono>
#include <cmath>

#include <nlohmann/json.hpp>

#include "orchestrator/daemon/engine/stack_spec.h"
#include "orchestrator/daemon/engine/supervisor.h"

namespace stack::orch {
namespace {

using nlohmann::json;

sched::AutoscaleSpec to_sched(const compose::Autoscale& a) {
  sched::AutoscaleSpec s;
  s.min = a.min;
  s.max = a.max;
  s.cpu = a.cpu;
  s.memory = a.memory;
  s.rps = a.requests_per_second;
  s.up = {a.scale_up.stabilization, a.scale_up.max_step, a.scale_up.period};
  s.down = {a.scale_down.stabilization, a.scale_down.max_step, a.scale_down.period};
  return s;
}

// What a replica's CPU percentage is of: its cpus limit, else its
// reservation, else one CPU.
double cpu_base(const compose::Service& s) {
  if (s.cpus && *s.cpus > 0) return *s.cpus;
  if (s.deploy.reservations.cpus && *s.deploy.reservations.cpus > 0)
    return *s.deploy.reservations.cpus;
  return 1.0;
}

bool rolling(const std::map<std::string, sched::Rollout>& rollouts, const std::string& service) {
  auto it = rollouts.find(service);
  return it != rollouts.end() && it->second.phase != sched::RolloutPhase::Completed;
}

std::optional<double> average(const std::vector<sched::ReplicaLoad>& loads, double sched::ReplicaLoad::*field) {
  double sum = 0;
  int n = 0;
  for (const auto& l : loads)
    if (l.ready) {
      sum += l.*field;
      n++;
    }
  if (n == 0) return std::nullopt;
  return sum / n;
}

}  // namespace

void Supervisor::step_autoscale(int64_t now, int64_t& wake) {
  bool any = false;
  for (const auto& [_, s] : desired_.project.services) any = any || s.autoscale.has_value();
  if (!any || desired_.goal != sched::StackGoal::Up) return;
  if (!autoscale_loaded_) {
    autoscale_loaded_ = true;
    auto stored = load_autoscale(ctx_.store, desired_.project.name);
    if (stored) autoscale_ = std::move(*stored);
    else emit("error", "", "", {{"reason", "state store: " + stored.error().message()}});
  }
  if (sampling_) return;  // on_readings() kicks the loop
  if (now < autoscale_next_) {
    wake = std::min(wake, autoscale_next_);
    return;
  }
  autoscale_next_ = now + std::max<int64_t>(ctx_.options.autoscale_interval_ms, 100);
  wake = std::min(wake, autoscale_next_);
  std::vector<std::pair<std::string, LocalNode*>> asks;
  for (const auto& [_, r] : replicas_) {
    auto s = desired_.project.services.find(r.status.service);
    if (s == desired_.project.services.end() || !s->second.autoscale) continue;
    if (r.status.state != sched::ReplicaState::Running || r.status.container_id.empty()) continue;
    if (LocalNode* node = node_by_id(r.status.node)) asks.emplace_back(r.status.container_id, node);
  }
  sampling_ = true;
  ctx_.run_probe([g = guard_, asks] {
    std::map<std::string, Reading> readings;
    for (const auto& [id, node] : asks) {
      auto text = node->stats(id);
      if (!text) continue;  // gone meanwhile: it does not count this time
      json j = json::parse(*text, nullptr, false);
      if (!j.is_object()) continue;
      Reading r;
      // The window is real time whatever clock the loop runs on: CPU time is.
      r.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
      r.cpu_ns = j.value("cpu_usage_ns", uint64_t{0});
      r.memory = j.value("memory_working_set", j.value("memory_usage", uint64_t{0}));
      r.memory_limit = j["memory_limit"].is_number() ? j["memory_limit"].get<int64_t>() : 0;
      r.connections = j.value("published_connections", uint64_t{0});
      readings[id] = r;
    }
    std::lock_guard l(g->m);
    if (g->self) g->self->on_readings(std::move(readings));
  });
}

void Supervisor::on_readings(std::map<std::string, Reading> readings) {
  std::lock_guard lk(mu_);
  sampling_ = false;
  const int64_t now = ctx_.clock.now();
  bool changed = false;
  for (auto& [name, svc] : desired_.project.services) {
    if (!svc.autoscale || rolling(rollouts_, name)) continue;
    std::vector<sched::ReplicaLoad> loads;
    for (const auto& [_, r] : replicas_) {
      if (r.status.service != name || r.status.state != sched::ReplicaState::Running) continue;
      auto now_it = readings.find(r.status.container_id);
      if (now_it == readings.end()) continue;
      const Reading& cur = now_it->second;
      sched::ReplicaLoad l;
      auto prev_it = last_readings_.find(r.status.container_id);
      // A replica read for the first time has no window yet; starting and
      // unhealthy ones do not count (HPA's unready pods).
      const auto h = r.status.health.health;
      l.ready = prev_it != last_readings_.end() && cur.at_ms > prev_it->second.at_ms &&
                (h == sched::Health::None || h == sched::Health::Healthy);
      if (l.ready) {
        const Reading& prev = prev_it->second;
        const double window_ms = static_cast<double>(cur.at_ms - prev.at_ms);
        const double used_ms = cur.cpu_ns >= prev.cpu_ns ? static_cast<double>(cur.cpu_ns - prev.cpu_ns) / 1e6 : 0;
        l.cpu = 100.0 * used_ms / window_ms / cpu_base(svc);
        l.rps = cur.connections >= prev.connections
                    ? static_cast<double>(cur.connections - prev.connections) * 1000.0 / window_ms
                    : 0;
        l.memory = cur.memory_limit > 0 ? 100.0 * static_cast<double>(cur.memory) / static_cast<double>(cur.memory_limit) : 0;
      }
      loads.push_back(l);
    }
    AutoscaleRecord& rec = autoscale_[name];
    const int current = svc.replicas;
    sched::AutoscaleDecision d = sched::autoscale(to_sched(*svc.autoscale), current, loads, rec.state, now);
    rec.state = d.next;
    rec.reading.at = now;
    rec.reading.ready = static_cast<int>(std::count_if(loads.begin(), loads.end(), [](auto& l) { return l.ready; }));
    rec.reading.cpu = svc.autoscale->cpu ? average(loads, &sched::ReplicaLoad::cpu) : std::nullopt;
    rec.reading.memory = svc.autoscale->memory ? average(loads, &sched::ReplicaLoad::memory) : std::nullopt;
    rec.reading.rps = svc.autoscale->requests_per_second ? average(loads, &sched::ReplicaLoad::rps) : std::nullopt;
    if (d.desired != current) {
      rec.reading.last_reason = d.reason;
      rec.reading.last_change_at = now;
      svc.replicas = d.desired;
      changed = true;
      emit("autoscale", name, "",
           {{"reason", d.reason}, {"from", std::to_string(current)}, {"replicas", std::to_string(d.desired)}});
    }
    if (auto w = ctx_.store.put(autoscale_key(desired_.project.name, name), autoscale_to_json(rec)); !w)
      emit("error", name, "", {{"reason", "state store: " + w.error().message()}});
  }
  last_readings_ = std::move(readings);
  if (!changed) return;
  set_replicas(desired_.spec, desired_.project);
  source_.reset();
  // The count is the stack's record's, as after `stack scale`: a restarted
  // stackd comes back with it.
  if (ctx_.save_desired)
    if (auto w = ctx_.save_desired(desired_); !w) emit("error", "", "", {{"reason", "state store: " + w.error().message()}});
  kicked_ = true;
  kick_cv_.notify_all();
  changed_cv_.notify_all();
}

std::map<std::string, AutoscaleRecord> Supervisor::autoscaling() {
  std::lock_guard lk(mu_);
  if (!autoscale_loaded_) {
    auto stored = load_autoscale(ctx_.store, desired_.project.name);
    if (stored) return *stored;
  }
  return autoscale_;
}

}  // namespace stack::orch
