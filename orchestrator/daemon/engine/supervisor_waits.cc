// The API's waits on a Supervisor: until the stack settled, stopped or is
// gone. They sleep on changed_cv_ (notified after every loop pass and every
// observed change) with the supervisor's clock for their deadline.
#include <cerrno>
#include <set>

#include "orchestrator/daemon/engine/supervisor.h"

namespace stack::orch {

using sched::ReplicaState;

void Supervisor::interrupt_waits() {
  std::lock_guard lk(mu_);
  interrupted_ = true;
  changed_cv_.notify_all();
}

stack::Result<void> Supervisor::wait_settled(const std::vector<std::string>& services, bool healthy,
                                          int64_t deadline_ms, uint64_t rollouts_after) {
  std::unique_lock lk(mu_);
  for (;;) {
    for (const auto& [slot, e] : errors_)
      if (selected(services, slot.first)) return stack::fail(e);
    bool done = true;
    // Rolling updates begun since the caller's change: one in flight is
    // waited for; one that paused or was rolled back by its failure_action
    // is this change's failure.
    if (rollouts_after != UINT64_MAX)
      for (const auto& [service, r] : rollouts_) {
        if (r.serial <= rollouts_after || !selected(services, service)) continue;
        if (r.phase == sched::RolloutPhase::Paused)
          return stack::fail("service " + service + ": " + r.message + " (`stack up` resumes it, `stack rollback " +
                             service + "` returns to the previous definition)");
        if (r.rollback && r.automatic && r.phase == sched::RolloutPhase::Completed)
          return stack::fail("service " + service + ": the update failed and was rolled back (" + r.cause + ")");
        if (r.phase != sched::RolloutPhase::Completed) done = false;
      }
    // A service no node can take stays pending with its reason (Swarm's
    // behaviour; on one host a reservation fits once another replica or
    // stack goes): settled, not failed.
    const auto unplaced = unplaced_services(blocked_);
    for (const auto& ss : desired_.spec.services) {
      if (!selected(services, ss.name)) continue;
      if (unplaced.count(ss.name)) continue;  // settled as pending: placed when a node can take it
      for (const auto& b : blocked_)
        if (b.rfind(ss.name + " blocked: ", 0) == 0) return stack::fail("service " + b);
      std::set<int> want;
      for (const sched::SlotTarget& t : targets_of(ss)) want.insert(t.slot);
      for (auto& [task, r] : replicas_) {
        const sched::ReplicaStatus& s = r.status;
        if (s.service != ss.name) continue;
        bool complete = sched::job_complete(ss, s) && s.config_hash == ss.config_hash;
        if ((!want.count(s.slot) && !complete) || current_task(s.service, s.slot) != &r) {
          done = false;  // still being scaled down, or a superseded task still going
          continue;
        }
        bool ok = s.started_at > 0 && s.config_hash == ss.config_hash && !s.start_requested;
        if (healthy)
          ok = ok && (complete || (s.state == ReplicaState::Running &&
                                   (s.health.health == sched::Health::None || s.health.health == sched::Health::Healthy)));
        done = done && ok;
      }
      for (int n : want) done = done && has_task(ss.name, n);
    }
    if (done) return {};
    if (quit_) return stack::fail("stack " + desired_.project.name + " is no longer supervised");
    if (interrupted_)
      return stack::fail("stackd is stopping; stack " + desired_.project.name + " converges after its restart", ECANCELED);
    if (deadline_ms > 0 && ctx_.clock.now() >= deadline_ms) {
      std::string why = blocked_.empty() ? "" : ": " + blocked_.front();
      return stack::fail("timed out waiting for stack " + desired_.project.name + why, ETIMEDOUT);
    }
    ctx_.clock.wait_until(changed_cv_, lk, deadline_ms > 0 ? deadline_ms : INT64_MAX);
  }
}

stack::Result<void> Supervisor::wait_stopped(const std::vector<std::string>& services, int64_t deadline_ms) {
  std::unique_lock lk(mu_);
  auto stopped = [&] {
    for (const auto& [task, r] : replicas_)
      if (selected(services, r.status.service) &&
          (r.status.state == ReplicaState::Running || r.status.state == ReplicaState::Stopping))
        return false;
    return true;
  };
  while (!stopped()) {
    if (quit_) return stack::fail("stack " + desired_.project.name + " is no longer supervised");
    if (interrupted_)
      return stack::fail("stackd is stopping; stack " + desired_.project.name + " stops after its restart", ECANCELED);
    if (ctx_.clock.now() >= deadline_ms) return stack::fail("timed out stopping " + desired_.project.name, ETIMEDOUT);
    ctx_.clock.wait_until(changed_cv_, lk, deadline_ms);
  }
  return {};
}

stack::Result<void> Supervisor::wait_gone(int64_t deadline_ms) {
  std::unique_lock lk(mu_);
  while (!replicas_.empty()) {
    if (quit_) return stack::fail("stack " + desired_.project.name + " is no longer supervised");
    if (interrupted_)
      return stack::fail("stackd is stopping; stack " + desired_.project.name + " is removed after its restart", ECANCELED);
    if (ctx_.clock.now() >= deadline_ms) return stack::fail("timed out removing " + desired_.project.name, ETIMEDOUT);
    ctx_.clock.wait_until(changed_cv_, lk, deadline_ms);
  }
  return {};
}

}  // namespace stack::orch
