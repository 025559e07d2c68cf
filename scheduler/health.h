// Health-check state machine per replica (Docker's semantics), pure.
// - Starting from container start; during start_period probes run every
//   start_interval and failures do not count, a success makes it Healthy.
// - After that probes run every `interval`; `retries` consecutive failures
//   make it Unhealthy; one success makes it Healthy and resets the streak.
// - A probe taking longer than `timeout` is a failure (the daemon enforces
//   the timeout and reports exit_code != 0).
// - Readiness phase (ours, not Docker's): a replica joins the port pool
//   only when Healthy, and Docker's first probe comes a whole interval
//   after start (30 s by default), so a replica ready in 2 s would wait
//   28 s for traffic. Until that first scheduled probe, while the replica
//   has never passed, it is probed at once and then after a short growing
//   delay (kReadinessDelays, never slower than start_interval or interval).
//   A success there makes it Healthy at once; a failure never counts toward
//   `retries` (a slow starter is not restarted for being slow). From the
//   first scheduled probe on, Docker's rules apply unchanged.
#pragma once

#include "scheduler/model.h"

namespace stack::sched {

// The readiness phase's delays between quick probes: 25, 50, 100 ms, then
// 200 ms each (a ready app waits at most one delay plus one probe for
// traffic).
Ms readiness_delay(const HealthSpec& spec, int probes_done);

// Fresh status for a replica that started at `started_at`.
HealthStatus health_on_start(const HealthSpec& spec, TimeMs started_at);

// Folds one probe result in; returns the new status (next_probe_at set).
HealthStatus health_on_result(const HealthSpec& spec, const HealthStatus& current,
                              TimeMs started_at, const ProbeResult& result);

// True when a probe is due at `now`.
bool health_probe_due(const HealthSpec& spec, const HealthStatus& current, TimeMs now);

}  // namespace stack::sched
