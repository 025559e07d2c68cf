// Rolling updates and rollbacks with Swarm's update_config / rollback_config
// meanings, as a sans-I/O state machine. The daemon keeps one Rollout per
// service (in its store, so an update in flight goes on after a restart),
// calls rollout_step() on every pass with the service's tasks and the time,
// keeps `next`, and hands `replacing` to reconcile()
// (ObservedStack::replaceable), which replaces only those slots.
//
// The rules (Swarm's, written down here):
// - A rollout starts when a service with update_config (or one being rolled
//   back) has tasks made from another config than its spec's: its target.
//   Its stale tasks are replaced `parallelism` at a time (0: all at once),
//   lowest slot first, stop-first or start-first per `order`.
// - A replaced slot is updated once its new task runs, is healthy (or has
//   no check) and has run for `monitor`. It failed when the new task exits
//   (a job's task that completed is not a failure), turns unhealthy, or is
//   not healthy within start_period + monitor + one probe interval of its
//   start. A failed slot counts once and is not waited for again (its
//   restart policy goes on with it).
// - When failed slots / replicas > max_failure_ratio, failure_action says:
//   pause (no further batch until `stack up` resumes it or `stack
//   rollback`), continue, or rollback (RollbackWanted: the daemon returns
//   the service to its previous spec and starts a rollback rollout, which
//   uses rollback_config; a rollback that fails pauses, it never rolls
//   back again).
// - After a batch, the next one starts `delay` later. With no stale task
//   left and no batch in flight the rollout is Completed.
// - A stale task the user stopped is skipped (it is replaced when started).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scheduler/deps.h"
#include "scheduler/model.h"

namespace stack::sched {

enum class RolloutPhase { Updating, Paused, RollbackWanted, Completed };

struct Rollout {
  RolloutPhase phase = RolloutPhase::Updating;
  std::string target;       // the config hash it moves the service to
  bool rollback = false;    // back to the previous spec: rollback_config applies
  bool automatic = false;   // a rollback that failure_action started (not `stack rollback`)
  uint64_t serial = 0;      // the daemon's numbering: which rollouts began after a point
  TimeMs started_at = 0;
  TimeMs ended_at = 0;      // Completed, Paused or RollbackWanted since
  int batch_no = 0;         // batches begun
  std::vector<int> batch;   // slots of the batch in flight
  TimeMs next_batch_at = 0; // the delay after the last batch
  std::vector<int> failed;  // slots whose new task failed, each once
  std::string message;      // where it stands: "batch 2 of 3: waiting for replica 4 to be healthy"
  std::string cause;        // a rollback: what failed in the update it undoes

  bool active() const { return phase == RolloutPhase::Updating; }
  bool operator==(const Rollout&) const = default;
};

struct RolloutStep {
  Rollout next;
  // For reconcile: the slots that may be replaced now (none while paused);
  // nullopt: no gate (a Completed rollout).
  std::optional<ObservedStack::Replacing> replacing;
  std::optional<TimeMs> wake_at;
  std::vector<std::string> events;  // "batch 1 of 2: replacing replicas 1, 2", "update paused: ...", "updated"
};

// The policy a rollout runs under: rollback_config for a rollback, else
// update_config (Swarm's defaults when the service has none).
const UpdatePolicy& rollout_policy(const ServiceSpec& service, const Rollout& rollout);

// Whether some task of the service (`current`: its current task per slot)
// was made from another config than `service.config_hash`.
bool has_stale_tasks(const ServiceSpec& service, const SlotMap& current);

Rollout start_rollout(const ServiceSpec& service, bool rollback, bool automatic, uint64_t serial, TimeMs now);

// `slots`: the slots the service should have (slots.h); `current`: its
// current task per slot.
RolloutStep rollout_step(const ServiceSpec& service, const std::vector<int>& slots, const SlotMap& current,
                         const Rollout& rollout, TimeMs now);

const char* to_string(RolloutPhase p);  // updating | paused | rollback-wanted | completed
const char* to_string(FailureAction a); // pause | continue | rollback

}  // namespace stack::sched
