// Health-check state machine, following moby's daemon/health.go:
// - zero durations/retries take Docker's defaults (interval and timeout 30 s,
//   retries 3); a zero start_interval means `interval` (as asked of us; Docker
//   itself defaults it to 5 s, the HealthSpec default here).
// - the next probe is scheduled from the end of the last one (Docker resets
//   its timer after each probe), every start_interval while the replica is
//   still Starting inside its start period, else every interval.
// - a failure whose probe began inside the start period while Starting does
//   not count; a success always makes it Healthy and clears the streak.
#include "scheduler/health.h"

#include <algorithm>

namespace stack::sched {

namespace {

constexpr size_t kLogEntries = 5;      // Docker keeps the last 5
constexpr size_t kOutputBytes = 4096;  // and the first 4 KiB of output
constexpr Ms kDefaultInterval = 30000;
constexpr int kDefaultRetries = 3;

Ms interval_of(const HealthSpec& spec) {
  return spec.interval > 0 ? spec.interval : kDefaultInterval;
}

Ms start_interval_of(const HealthSpec& spec) {
  return spec.start_interval > 0 ? spec.start_interval : interval_of(spec);
}

int retries_of(const HealthSpec& spec) { return spec.retries > 0 ? spec.retries : kDefaultRetries; }

bool in_start_period(const HealthSpec& spec, TimeMs started_at, TimeMs t) {
  return t - started_at < spec.start_period;
}

// Docker's getInterval(): start_interval only while Starting inside the
// start period.
Ms next_interval(const HealthSpec& spec, Health status, TimeMs started_at, TimeMs now) {
  if (status == Health::Starting && in_start_period(spec, started_at, now))
    return start_interval_of(spec);
  return interval_of(spec);
}

// A result from the readiness phase: the replica has never passed and the
// probe began before the normal schedule's first probe.
bool in_readiness_phase(const HealthStatus& s, const ProbeResult& result) {
  return s.health == Health::Starting && s.first_scheduled_at != 0 && result.start < s.first_scheduled_at;
}

}  // namespace

Ms readiness_delay(const HealthSpec& spec, int probes_done) {
  constexpr Ms kFirst = 25, kCap = 200;
  Ms d = kFirst;
  for (int i = 1; i < probes_done && d < kCap; ++i) d *= 2;
  return std::min({d, kCap, start_interval_of(spec), interval_of(spec)});
}

HealthStatus health_on_start(const HealthSpec& spec, TimeMs started_at) {
  HealthStatus s;
  if (spec.kind == ProbeKind::None) return s;
  s.health = Health::Starting;
  s.first_scheduled_at = started_at + next_interval(spec, Health::Starting, started_at, started_at);
  s.next_probe_at = started_at;  // the readiness phase begins at once
  return s;
}

HealthStatus health_on_result(const HealthSpec& spec, const HealthStatus& current,
                              TimeMs started_at, const ProbeResult& result) {
  if (spec.kind == ProbeKind::None) return HealthStatus{};
  HealthStatus s = current;
  if (s.health == Health::None) s.health = Health::Starting;
  const bool readiness = in_readiness_phase(s, result);

  if (readiness) {
    // Success: Healthy now. Failure: not counted; probe again soon, but
    // never past the normal schedule's first probe.
    s.readiness_probes++;
    if (result.exit_code == 0) {
      s.failing_streak = 0;
      s.health = Health::Healthy;
    }
  } else if (result.exit_code == 0) {
    s.failing_streak = 0;
    s.health = Health::Healthy;
  } else {
    bool grace = s.health == Health::Starting && in_start_period(spec, started_at, result.start);
    if (!grace) {
      s.failing_streak++;
      if (s.failing_streak >= retries_of(spec)) s.health = Health::Unhealthy;
    }
  }

  ProbeResult kept = result;
  if (kept.output.size() > kOutputBytes) kept.output.resize(kOutputBytes);
  s.log.push_back(std::move(kept));
  if (s.log.size() > kLogEntries)
    s.log.erase(s.log.begin(), s.log.end() - static_cast<long>(kLogEntries));

  if (readiness && s.health == Health::Starting)
    s.next_probe_at = std::min(result.end + readiness_delay(spec, s.readiness_probes), s.first_scheduled_at);
  else
    s.next_probe_at = result.end + next_interval(spec, s.health, started_at, result.end);
  return s;
}

bool health_probe_due(const HealthSpec& spec, const HealthStatus& current, TimeMs now) {
  return spec.kind != ProbeKind::None && current.health != Health::None &&
         current.next_probe_at != 0 && now >= current.next_probe_at;
}

}  // namespace stack::sched
