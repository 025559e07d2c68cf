// autoscale(): one decision (the rules are in autoscale.h).
#include "scheduler/autoscale.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace stack::sched {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

AutoscaleDecision autoscale(const AutoscaleSpec& spec, int current, const std::vector<ReplicaLoad>& replicas,
                            const AutoscaleState& state, TimeMs now) {
  AutoscaleDecision d;
  d.next = state;
  auto& recs = d.next.recommendations;
  auto& changes = d.next.changes;
  const Ms keep_recs = std::max(spec.up.stabilization, spec.down.stabilization);
  const Ms keep_changes = std::max(spec.up.period, spec.down.period);
  recs.erase(std::remove_if(recs.begin(), recs.end(), [&](const auto& r) { return r.first < now - keep_recs; }),
             recs.end());
  changes.erase(std::remove_if(changes.begin(), changes.end(),
                               [&](const auto& c) { return c.first <= now - keep_changes; }),
                changes.end());

  // The proposal: the largest over the targets, from the ready replicas.
  int ready = 0;
  double cpu = 0, memory = 0, rps = 0;
  for (const ReplicaLoad& r : replicas) {
    if (!r.ready) continue;
    ready++;
    cpu += r.cpu;
    memory += r.memory;
    rps += r.rps;
  }
  int proposal = current;
  std::string why;
  if (ready > 0 && current > 0) {
    bool first = true;
    auto consider = [&](const char* name, double total, const std::optional<double>& target, const char* unit) {
      if (!target) return;
      double avg = total / ready;
      double ratio = avg / *target;
      int p = std::abs(ratio - 1) <= spec.tolerance ? current
                                                    : static_cast<int>(std::ceil(current * ratio - 1e-9));
      if (first || p > proposal) {
        proposal = p;
        why = std::string(name) + " " + number(avg) + unit + (avg > *target ? " > " : avg < *target ? " < " : " = ") +
              number(*target) + unit;
        first = false;
      }
    };
    consider("cpu", cpu, spec.cpu, "%");
    consider("memory", memory, spec.memory, "%");
    consider("requests/s", rps, spec.rps, "");
  }
  if (proposal < spec.min) why = "below min " + std::to_string(spec.min);
  proposal = std::clamp(proposal, spec.min, std::max(spec.min, spec.max));
  recs.push_back({now, proposal});

  // Stabilization: up to the smallest recommendation of the up window, down
  // to the largest of the down window.
  int up_rec = proposal, down_rec = proposal;
  for (const auto& [t, v] : recs) {
    if (t >= now - spec.up.stabilization) up_rec = std::min(up_rec, v);
    if (t >= now - spec.down.stabilization) down_rec = std::max(down_rec, v);
  }
  int desired = current;
  if (desired < up_rec) desired = up_rec;
  if (desired > down_rec) desired = down_rec;

  // Steps per period.
  if (desired > current) {
    int added = 0;
    for (const auto& [t, n] : changes)
      if (n > 0 && t > now - spec.up.period) added += n;
    desired = std::min(desired, current + std::max(0, spec.up.max_step - added));
  } else if (desired < current) {
    int removed = 0;
    for (const auto& [t, n] : changes)
      if (n < 0 && t > now - spec.down.period) removed -= n;
    desired = std::max(desired, current - std::max(0, spec.down.max_step - removed));
  }
  // The bounds hold whatever the steps say (a file's new min applies at once).
  if (desired < spec.min) {
    desired = spec.min;
    why = "below min " + std::to_string(spec.min);
  } else if (desired > spec.max) {
    desired = spec.max;
    why = "above max " + std::to_string(spec.max);
  }
  d.desired = desired;
  if (desired != current) {
    changes.push_back({now, desired - current});
    d.reason = why + ": " + std::to_string(current) + " -> " + std::to_string(desired);
  }
  return d;
}

}  // namespace stack::sched
