// Autoscaling (x-autoscale) as pure code: from what the replicas use now and
// the service's recent recommendations, how many replicas it should have.
// The rules are Kubernetes' HorizontalPodAutoscaler's, written down here:
// - Per target: the average over the ready replicas (running, and healthy or
//   unchecked; starting and unhealthy ones do not count, as HPA ignores
//   unready pods) divided by the target is the ratio; within the tolerance
//   (10%) of 1 it proposes the current count, else ceil(current x ratio).
//   The largest proposal over the targets wins. No ready replica: no
//   proposal (the count stays).
// - Stabilization: the recommendation is remembered with its time; a scale
//   up takes the smallest recommendation of the last scale_up.stabilization,
//   a scale down the largest of the last scale_down.stabilization, so a
//   short dip never removes replicas.
// - Steps: at most max_step replicas added in any scale_up.period (removed
//   in any scale_down.period), counted from the changes made in it.
// - Then min..max.
// The daemon keeps AutoscaleState between calls (it is small) and applies
// `desired` as a scale; `reason` is the event's text.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scheduler/model.h"

namespace stack::sched {

struct StepRule {
  Ms stabilization = 0;
  int max_step = 1;
  Ms period = 15000;
};

struct AutoscaleSpec {
  int min = 1;
  int max = 1;
  std::optional<double> cpu;     // target, percent of the replica's CPU
  std::optional<double> memory;  // target, percent of its memory limit
  std::optional<double> rps;     // target, requests per second per replica
  StepRule up{0, 4, 15000};
  StepRule down{300000, 1, 60000};
  double tolerance = 0.1;
};

// One replica over the last metrics window.
struct ReplicaLoad {
  bool ready = false;
  double cpu = 0;     // percent of its CPU
  double memory = 0;  // percent of its memory limit
  double rps = 0;     // requests per second it received
};

struct AutoscaleState {
  std::vector<std::pair<TimeMs, int>> recommendations;  // (when, replicas), oldest first
  std::vector<std::pair<TimeMs, int>> changes;          // (when, +n / -n) applied
  bool operator==(const AutoscaleState&) const = default;
};

struct AutoscaleDecision {
  int desired = 0;
  std::string reason;  // "cpu 91% > 70%: 2 -> 4"; "" when it stays
  AutoscaleState next;
};

AutoscaleDecision autoscale(const AutoscaleSpec& spec, int current, const std::vector<ReplicaLoad>& replicas,
                            const AutoscaleState& state, TimeMs now);

}  // namespace stack::sched
