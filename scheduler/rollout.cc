// rollout_step(): one pass of a rolling update (the rules are in rollout.h).
#include "scheduler/rollout.h"

#include <algorithm>
#include <set>

namespace stack::sched {

namespace {

const UpdatePolicy kSwarmDefaults{};

bool has_container(const ReplicaStatus* r) {
  return r && r->state != ReplicaState::Pending && r->state != ReplicaState::Removed;
}

std::string slot_list(const std::vector<int>& slots) {
  std::string out;
  for (int s : slots) out += (out.empty() ? "" : ", ") + std::to_string(s);
  return out;
}

std::string seconds(Ms ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000) s += "." + std::to_string(ms % 1000 / 100);
  return s + "s";
}

// Where a slot of the batch stands.
enum class SlotState { InFlight, Updated, Failed };

struct SlotView {
  SlotState state = SlotState::InFlight;
  std::string why;   // Failed: "exited (1)"; InFlight: "to be healthy"
  TimeMs wake = 0;   // InFlight: when to look again (0: on a change)
};

SlotView look(const ServiceSpec& s, const UpdatePolicy& p, const std::string& target, const ReplicaStatus* r,
              TimeMs now) {
  if (!has_container(r) || r->config_hash != target) return {SlotState::InFlight, "to be replaced", 0};
  if (job_complete(s, *r)) return {SlotState::Updated, "", 0};
  if (r->state == ReplicaState::Exited) {
    std::string why = r->oom_killed ? "was killed for memory" : "exited (" + std::to_string(r->exit_code) + ")";
    return {SlotState::Failed, why, 0};
  }
  if (r->state != ReplicaState::Running || r->started_at == 0) return {SlotState::InFlight, "to start", 0};
  if (r->health.health == Health::Unhealthy) return {SlotState::Failed, "is unhealthy", 0};
  if (r->health.health == Health::Starting) {
    // Not healthy in time: start_period + monitor, and one probe interval
    // (a first scheduled probe may come only that late).
    TimeMs deadline = r->started_at + s.health.start_period + p.monitor + s.health.interval;
    if (now >= deadline) return {SlotState::Failed, "did not become healthy in time", 0};
    return {SlotState::InFlight, "to be healthy", deadline};
  }
  if (now < r->started_at + p.monitor) return {SlotState::InFlight, "to run for the monitor period", r->started_at + p.monitor};
  return {SlotState::Updated, "", 0};
}

}  // namespace

const UpdatePolicy& rollout_policy(const ServiceSpec& service, const Rollout& rollout) {
  if (rollout.rollback) return service.rollback;
  return service.update ? *service.update : kSwarmDefaults;
}

bool has_stale_tasks(const ServiceSpec& service, const SlotMap& current) {
  for (const auto& [slot, r] : current)
    if (has_container(r) && r->config_hash != service.config_hash) return true;
  return false;
}

Rollout start_rollout(const ServiceSpec& service, bool rollback, bool automatic, uint64_t serial, TimeMs now) {
  Rollout r;
  r.target = service.config_hash;
  r.rollback = rollback;
  r.automatic = automatic;
  r.serial = serial;
  r.started_at = now;
  r.next_batch_at = now;
  return r;
}

RolloutStep rollout_step(const ServiceSpec& s, const std::vector<int>& slots, const SlotMap& current,
                         const Rollout& rollout, TimeMs now) {
  RolloutStep out;
  out.next = rollout;
  Rollout& n = out.next;
  const UpdatePolicy& p = rollout_policy(s, rollout);
  const std::string what = rollout.rollback ? "rollback" : "update";
  if (n.phase == RolloutPhase::Completed) return out;  // no gate
  out.replacing = ObservedStack::Replacing{{}, p.start_first};
  if (n.phase != RolloutPhase::Updating) return out;  // paused, or waiting for the daemon's rollback

  auto task = [&](int slot) -> const ReplicaStatus* {
    auto it = current.find(slot);
    return it == current.end() ? nullptr : it->second;
  };
  std::set<int> wanted(slots.begin(), slots.end());
  std::set<int> failed(n.failed.begin(), n.failed.end());

  // The batch in flight.
  std::vector<int> still;
  std::string waiting;
  bool new_failure = false;
  std::string failure;
  for (int slot : n.batch) {
    const ReplicaStatus* r = task(slot);
    if (!wanted.count(slot) || failed.count(slot)) continue;  // scaled away, or failed already
    if (has_container(r) && r->config_hash != n.target && r->stopped_by_user) continue;  // replaced when started
    SlotView v = look(s, p, n.target, r, now);
    if (v.state == SlotState::Updated) continue;
    if (v.state == SlotState::Failed) {
      failed.insert(slot);
      n.failed.push_back(slot);
      new_failure = true;
      std::string one = "replica " + std::to_string(slot) + " " + v.why;
      failure += (failure.empty() ? "" : "; ") + one;
      out.events.push_back(what + ": " + one);
      continue;
    }
    still.push_back(slot);
    if (waiting.empty()) waiting = "waiting for replica " + std::to_string(slot) + " " + v.why;
    if (v.wake && (!out.wake_at || v.wake < *out.wake_at)) out.wake_at = v.wake;
  }
  n.batch = still;

  if (new_failure) {
    double ratio = static_cast<double>(failed.size()) / static_cast<double>(std::max<size_t>(1, wanted.size()));
    if (ratio > p.max_failure_ratio) {
      FailureAction action = p.failure_action;
      if (action == FailureAction::Rollback && rollout.rollback) action = FailureAction::Pause;
      if (action == FailureAction::Pause) {
        n.phase = RolloutPhase::Paused;
        n.ended_at = now;
        n.batch.clear();
        n.message = what + " paused: " + failure;
        out.events.push_back(n.message);
        out.replacing->slots.clear();
        out.wake_at.reset();
        return out;
      }
      if (action == FailureAction::Rollback) {
        n.phase = RolloutPhase::RollbackWanted;
        n.ended_at = now;
        n.batch.clear();
        n.message = "update failed, rolling back: " + failure;
        out.events.push_back(n.message);
        out.replacing->slots.clear();
        out.wake_at.reset();
        return out;
      }
      // continue: go on with the next batches.
    }
  }

  // Stale tasks not yet in a batch, lowest slot first.
  std::vector<int> stale;
  for (int slot : slots) {
    const ReplicaStatus* r = task(slot);
    if (!has_container(r) || r->config_hash == n.target || r->stopped_by_user) continue;
    if (std::find(n.batch.begin(), n.batch.end(), slot) != n.batch.end()) continue;
    stale.push_back(slot);
  }
  const size_t per = p.parallelism > 0 ? static_cast<size_t>(p.parallelism) : std::max<size_t>(1, stale.size());
  auto batches_left = [&](size_t k) { return static_cast<int>((k + per - 1) / per); };

  if (!n.batch.empty()) {
    n.message = "batch " + std::to_string(n.batch_no) + " of " + std::to_string(n.batch_no + batches_left(stale.size())) +
                ": " + waiting;
  } else if (!rollout.batch.empty() && !stale.empty()) {
    n.next_batch_at = now + p.delay;  // the batch just settled: the next one after `delay`
  }
  if (n.batch.empty()) {
    if (stale.empty()) {
      n.phase = RolloutPhase::Completed;
      n.ended_at = now;
      n.message = rollout.rollback ? "rolled back" : "updated";
      if (!n.failed.empty()) n.message += " (" + std::to_string(n.failed.size()) + " failed: replicas " + slot_list(n.failed) + ")";
      out.events.push_back(n.message);
      out.replacing.reset();
      out.wake_at.reset();
      return out;
    }
    if (now < n.next_batch_at) {
      n.message = "batch " + std::to_string(n.batch_no + 1) + " of " + std::to_string(n.batch_no + batches_left(stale.size())) +
                  " in " + seconds(n.next_batch_at - now) + " (delay)";
      out.wake_at = n.next_batch_at;
    } else {
      n.batch.assign(stale.begin(), stale.begin() + static_cast<long>(std::min(per, stale.size())));
      n.batch_no++;
      int total = n.batch_no + batches_left(stale.size() - n.batch.size());
      n.message = "batch " + std::to_string(n.batch_no) + " of " + std::to_string(total) + ": replacing replica" +
                  (n.batch.size() > 1 ? "s " : " ") + slot_list(n.batch);
      out.events.push_back(n.message);
    }
  }
  out.replacing->slots.insert(n.batch.begin(), n.batch.end());
  return out;
}

const char* to_string(RolloutPhase p) {
  switch (p) {
    case RolloutPhase::Updating: return "updating";
    case RolloutPhase::Paused: return "paused";
    case RolloutPhase::RollbackWanted: return "rollback-wanted";
    case RolloutPhase::Completed: return "completed";
  }
  return "?";
}

const char* to_string(FailureAction a) {
  switch (a) {
    case FailureAction::Pause: return "pause";
    case FailureAction::Continue: return "continue";
    case FailureAction::Rollback: return "rollback";
  }
  return "?";
}

}  // namespace stack::sched
