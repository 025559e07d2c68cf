// Restart policy decisions with Docker's semantics, pure.
// no: never. always: always (but not after `stack stop`). unless-stopped: as
// always (the difference, surviving a daemon restart after a manual stop, is
// the stopped_by_user flag). on-failure[:N]: exit code != 0 (or OOM), at most
// N restarts. deploy.restart_policy: condition none|on-failure|any, delay,
// max_attempts, window (attempts counted within the window).
// Delay: fixed `delay` if set, else backoff_initial doubling per consecutive
// failed run up to backoff_cap; a run of at least stable_after resets it.
#pragma once

#include "scheduler/model.h"

namespace stack::sched {

struct RestartDecision {
  bool restart = false;
  TimeMs at = 0;           // when (>= finished_at)
  int next_streak = 0;     // restart_streak to store once restarted
  std::string reason;      // "exit 1, on-failure (2/5)", "stopped by user", ...
};

// Decides for an Exited replica, at the moment it exited (replica.finished_at
// is "now" for the window). A replica that exited while Unhealthy (the daemon
// keeps health as it was until the next start) counts as failed whatever its
// exit code: Swarm replaces unhealthy tasks under on-failure too.
RestartDecision restart_decision(const RestartSpec& spec, const ReplicaStatus& replica);

// min(initial * 2^streak, cap), overflow-safe; shared with backoff.h.
Ms backoff_delay(Ms initial, Ms cap, int streak);

// Records a policy restart that the daemon performs at `now`: restart_count+1,
// restart_streak from the decision, restart_times (kept to the last
// max_attempts entries, at most 64).
void note_restart(const RestartSpec& spec, ReplicaStatus& replica, TimeMs now);

}  // namespace stack::sched
