// Health-check state machine per replica (Docker's semantics), pure.
// - Starting from container start; during start_period probes run every
//   start_interval and failures do not count, a success makes it Healthy.
// - After that probes run every `interval`; `retries` consecutive failures
//   make it Unhealthy; one success makes it Healthy and resets the streak.
// - A probe taking longer than `timeout` is a failure (the daemon enforces
//   the timeout and reports exit_code != 0).
#pragma once

#include "scheduler/model.h"

namespace stack::sched {

// Fresh status for a replica that started at `started_at`.
HealthStatus health_on_start(const HealthSpec& spec, TimeMs started_at);

// Folds one probe result in; returns the new status (next_probe_at set).
HealthStatus health_on_result(const HealthSpec& spec, const HealthStatus& current,
                              TimeMs started_at, const ProbeResult& result);

// True when a probe is due at `now`.
bool health_probe_due(const HealthSpec& spec, const HealthStatus& current, TimeMs now);

}  // namespace stack::sched
