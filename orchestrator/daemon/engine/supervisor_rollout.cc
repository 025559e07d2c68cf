// Rolling updates on a Supervisor: each pass steps every service's rollout
// (scheduler/rollout.h) before reconcile() and hands it the batch; rollouts
// are stored as they move (rollout_store.h), and a rollback returns a
// service to its previous definition (StackDesired::previous) in place,
// under mu_, so that it never races an `up` of the same stack.
#include <nlohmann/json.hpp>
#include <utility>

#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/serialize.h"
#include "orchestrator/daemon/engine/rollout_store.h"
#include "orchestrator/daemon/engine/supervisor.h"

namespace stack::orch {

void Supervisor::store_rollout(const std::string& service) {
  const std::string key = rollout_key(desired_.project.name, service);
  auto it = rollouts_.find(service);
  auto r = it == rollouts_.end() ? ctx_.store.remove(key) : ctx_.store.put(key, rollout_to_json(it->second));
  // A failed write costs the rollout's place after a daemon restart (it
  // starts over from the tasks it finds), not correctness now.
  if (!r) emit("error", service, "", {{"reason", "state store: " + r.error().message()}});
}

void Supervisor::step_rollouts(int64_t now, sched::ObservedStack& observed, int64_t& wake) {
  const bool resume = std::exchange(resume_paused_, false);
  for (auto it = rollouts_.begin(); it != rollouts_.end();) {  // services gone from the stack
    if (service_spec(it->first)) {
      ++it;
      continue;
    }
    std::string name = it->first;
    it = rollouts_.erase(it);
    store_rollout(name);
  }
  std::vector<std::string> names;
  for (const auto& s : desired_.spec.services) names.push_back(s.name);
  for (const std::string& name : names) {
    // Twice at most: a rollback replaces the spec, and its rollout is
    // stepped at once.
    for (int round = 0; round < 2; round++) {
      const sched::ServiceSpec* ss = service_spec(name);
      if (!ss) break;
      sched::SlotMap current = current_tasks(name);
      auto it = rollouts_.find(name);
      if (it == rollouts_.end() || it->second.target != ss->config_hash) {
        if (ss->update && sched::has_stale_tasks(*ss, current)) {
          rollouts_[name] = sched::start_rollout(*ss, false, false, ++rollout_serial_, now);
          emit("update", name, "",
               {{"progress", "rolling update, " + std::to_string(ss->update->parallelism) + " at a time"},
                {"phase", "updating"}});
          store_rollout(name);
        } else {
          // Its config moved on without a rolling update: nothing to gate.
          if (it != rollouts_.end()) {
            rollouts_.erase(it);
            store_rollout(name);
          }
          break;
        }
      }
      sched::Rollout& r = rollouts_[name];
      if (resume && r.phase == sched::RolloutPhase::Paused) {
        r.phase = sched::RolloutPhase::Updating;
        r.failed.clear();
        r.batch.clear();
        r.next_batch_at = now;
        r.serial = ++rollout_serial_;
        emit("update", name, "", {{"progress", "resumed"}, {"phase", "updating"}});
      }
      std::vector<int> slots;
      for (const sched::SlotTarget& t : targets_of(*ss)) slots.push_back(t.slot);
      const sched::Rollout before = r;
      sched::RolloutStep st = sched::rollout_step(*ss, slots, current, r, now);
      r = st.next;
      for (const std::string& e : st.events)
        emit("update", name, "", {{"progress", e}, {"phase", sched::to_string(r.phase)}});
      if (!(r == before)) store_rollout(name);
      if (st.wake_at) wake = std::min(wake, *st.wake_at);
      if (r.phase == sched::RolloutPhase::RollbackWanted && round == 0) {
        if (auto rb = roll_back(name, true, r.message); rb) continue;
        else {
          r.phase = sched::RolloutPhase::Paused;
          r.message = "update paused: the rollback failed: " + rb.error().message();
          emit("update", name, "", {{"progress", r.message}, {"phase", "paused"}});
          store_rollout(name);
        }
      }
      if (st.replacing) observed.replaceable[name] = *st.replacing;
      break;
    }
  }
}

stack::Result<compose::Project> with_previous(const StackDesired& desired, const std::string& service) {
  if (!desired.project.services.count(service)) return stack::fail("rollback: no such service: " + service, ENOENT);
  auto prev = desired.previous.find(service);
  if (prev == desired.previous.end())
    return stack::fail("service " + service + " has no previous definition to roll back to", ENOENT);
  nlohmann::json pj = compose::project_to_json_value(desired.project);
  nlohmann::json before = nlohmann::json::parse(prev->second, nullptr, false);
  if (!before.is_object()) return stack::fail("service " + service + ": its stored previous definition is unreadable", EINVAL);
  before["replicas"] = pj["services"][service]["replicas"];  // the count is scale's, not part of a definition to undo
  pj["services"][service] = before;
  auto project = compose::project_from_json(pj.dump());
  if (!project) return tl::unexpected(project.error().wrap("service " + service + ": its previous definition"));
  return project;
}

stack::Result<void> Supervisor::roll_back(const std::string& service, bool automatic, const std::string& cause) {
  if (!ctx_.respec || !ctx_.publish || !ctx_.save_desired)
    return stack::fail("rollback is not supported by this daemon", ENOTSUP);
  auto project = with_previous(desired_, service);
  if (!project) return tl::unexpected(project.error());
  nlohmann::json now_def = compose::project_to_json_value(desired_.project)["services"][service];
  auto spec = ctx_.respec(*project);
  if (!spec) return tl::unexpected(spec.error());
  if (auto p = ctx_.publish(*project); !p) return tl::unexpected(p.error());
  StackDesired next = desired_;
  next.project = std::move(*project);
  next.spec = std::move(*spec);
  next.previous[service] = now_def.dump();  // a second rollback undoes this one, as in Swarm
  STACK_TRY(ctx_.save_desired(next));
  desired_ = std::move(next);
  source_.reset();
  errors_.clear();
  const sched::ServiceSpec* ss = service_spec(service);
  sched::Rollout r = sched::start_rollout(*ss, true, automatic, ++rollout_serial_, ctx_.clock.now());
  r.cause = cause;
  rollouts_[service] = r;
  store_rollout(service);
  emit("update", service, "", {{"progress", "rolling back to the previous definition"}, {"phase", "updating"}});
  kicked_ = true;
  kick_cv_.notify_all();
  return {};
}

stack::Result<void> Supervisor::rollback(const std::string& service) {
  std::lock_guard lk(mu_);
  if (!service_spec(service)) return stack::fail("rollback: no such service: " + service, ENOENT);
  return roll_back(service, false, "");
}

uint64_t Supervisor::rollout_serial() {
  std::lock_guard lk(mu_);
  return rollout_serial_;
}

std::map<std::string, sched::Rollout> Supervisor::rollouts() {
  std::lock_guard lk(mu_);
  return rollouts_;
}

}  // namespace stack::orch
