// Restart policy decisions (Docker's restart manager + Swarm's restart
// supervisor), pure arithmetic on TimeMs.
//
// Order of the rules, first match wins:
//   1. stopped_by_user: never (`stack stop`, unless-stopped's point).
//   2. mode no: never.
//   3. on-failure: only a failed run (exit code != 0, OOM kill, or exited
//      while Unhealthy); always/unless-stopped restart whatever the code.
//   4. max_attempts (on-failure:N, restart_policy.max_attempts; <= 0 means
//      unlimited as in Docker and Swarm): without a window every policy
//      restart so far counts (restart_count); with a window only those that
//      happened within `window` before the exit (restart_times), as Swarm.
//   5. When: a fixed `delay` when set, else Docker's backoff: the streak of
//      short runs doubles backoff_initial up to backoff_cap; a run of at least
//      stable_after resets the streak first (Docker does this whatever the exit
//      code, so does this).
#include "scheduler/restart.h"

#include <algorithm>

#include "scheduler/reconcile.h"

namespace stack::sched {

namespace {

constexpr size_t kMaxRestartTimes = 64;

// "exit 1", "oom-killed", "unhealthy" / "exit 0": what ended the run.
std::string exit_text(const ReplicaStatus& r) {
  if (r.oom_killed) return "oom-killed";
  if (r.health.health == Health::Unhealthy)
    return "unhealthy (exit " + std::to_string(r.exit_code) + ")";
  return "exit " + std::to_string(r.exit_code);
}

bool run_failed(const ReplicaStatus& r) {
  return r.exit_code != 0 || r.oom_killed || r.health.health == Health::Unhealthy;
}

// Restarts that count against max_attempts at the time of this exit.
int attempts_counted(const RestartSpec& spec, const ReplicaStatus& r) {
  if (!spec.window || *spec.window <= 0) return r.restart_count;
  TimeMs since = r.finished_at - *spec.window;
  return static_cast<int>(std::count_if(r.restart_times.begin(), r.restart_times.end(),
                                        [&](TimeMs t) { return t > since; }));
}

// Streak of short runs before this restart: reset by a stable run.
int effective_streak(const RestartSpec& spec, const ReplicaStatus& r) {
  bool stable = r.started_at > 0 && r.finished_at - r.started_at >= spec.stable_after;
  return stable ? 0 : std::max(r.restart_streak, 0);
}

}  // namespace

Ms backoff_delay(Ms initial, Ms cap, int streak) {
  // Shift at most 30 times: beyond that the cap has long been reached (and
  // int64 cannot overflow with any sane initial).
  int shift = std::clamp(streak, 0, 30);
  Ms delay = initial * (Ms{1} << shift);
  return std::min(delay, cap);
}

RestartDecision restart_decision(const RestartSpec& spec, const ReplicaStatus& replica) {
  RestartDecision d;
  d.at = replica.finished_at;
  d.next_streak = replica.restart_streak;
  std::string why = exit_text(replica);
  if (replica.stopped_by_user) {
    d.reason = why + ", stopped by user";
    return d;
  }
  if (spec.mode == RestartMode::No) {
    d.reason = why + ", restart policy no";
    return d;
  }
  std::string policy = to_string(spec.mode);
  if (spec.mode == RestartMode::OnFailure && !run_failed(replica)) {
    d.reason = why + ", " + policy + ": completed";
    return d;
  }
  std::string count;
  if (spec.max_attempts && *spec.max_attempts > 0) {
    int max = *spec.max_attempts;
    int used = attempts_counted(spec, replica);
    std::string within =
        spec.window && *spec.window > 0 ? " within " + std::to_string(*spec.window) + " ms" : "";
    if (used >= max) {
      d.reason = why + ", " + policy + ": gave up after " + std::to_string(used) + " restart" +
                 (used == 1 ? "" : "s") + within;
      return d;
    }
    count = " (" + std::to_string(used + 1) + "/" + std::to_string(max) + within + ")";
  }
  int streak = effective_streak(spec, replica);
  Ms wait =
      spec.delay > 0 ? spec.delay : backoff_delay(spec.backoff_initial, spec.backoff_cap, streak);
  d.restart = true;
  d.at = replica.finished_at + wait;
  d.next_streak = streak + 1;
  d.reason = why + ", " + policy + count + ", in " + std::to_string(wait) + " ms";
  return d;
}

void note_restart(const RestartSpec& spec, ReplicaStatus& replica, TimeMs now) {
  RestartDecision d = restart_decision(spec, replica);
  replica.restart_count++;
  replica.restart_streak = d.restart ? d.next_streak : replica.restart_streak + 1;
  replica.restart_times.push_back(now);
  size_t keep = kMaxRestartTimes;
  if (spec.max_attempts && *spec.max_attempts > 0)
    keep = std::min(keep, static_cast<size_t>(*spec.max_attempts));
  if (replica.restart_times.size() > keep)
    replica.restart_times.erase(replica.restart_times.begin(),
                                replica.restart_times.end() - static_cast<long>(keep));
}

}  // namespace stack::sched
