// The engine's part of x-autoscale: the count an autoscaled service starts
// or goes on with at `up`, `stack scale` of one, and the `stack autoscale`
// view. The readings and decisions run in each stack's supervisor
// (supervisor_autoscale.cc).
//
// Decided here, and why:
// - A new stack's autoscaled service starts at its replica count (deploy.
//   replicas or scale, else 1) held within min..max: with neither given, at
//   min.
// - `up` again keeps the count autoscaling reached (within the file's new
//   min..max): re-running `up` with an unchanged file must not undo the
//   autoscaler's work, the trap of `kubectl apply` with replicas in the
//   Deployment that HPA scales.
// - `stack scale web=N` on an autoscaled service holds it at N (min = max =
//   N) until the next `up` brings the file's bounds back, as an operator
//   pinning a service during an incident expects; refusing would leave them
//   no quick lever.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "orchestrator/daemon/engine/engine_impl.h"

namespace stack::orch {

using nlohmann::json;

compose::Project EngineImpl::autoscaled_counts(const compose::Project& file, const StackDesired* current) {
  compose::Project out = file;
  for (auto& [name, s] : out.services) {
    if (!s.autoscale) continue;
    int n = s.replicas;
    if (current) {
      auto was = current->project.services.find(name);
      if (was != current->project.services.end() && was->second.autoscale) n = was->second.replicas;
    }
    s.replicas = std::clamp(n, s.autoscale->min, s.autoscale->max);
  }
  return out;
}

bool EngineImpl::pin_autoscale(compose::Service& service, int n) {
  if (!service.autoscale) return false;
  service.autoscale->min = n;
  service.autoscale->max = n;
  return true;
}

stack::Result<std::string> EngineImpl::autoscale(const std::string& stack) {
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  const compose::Project p = (*sup)->project();
  const auto records = (*sup)->autoscaling();
  auto number = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json out = json::array();
  for (const auto& [name, s] : p.services) {
    if (!s.autoscale) continue;
    const auto& a = *s.autoscale;
    json row = {{"service", name},
                {"replicas", s.replicas},
                {"min", a.min},
                {"max", a.max},
                {"targets", {{"cpu", number(a.cpu)}, {"memory", number(a.memory)}, {"rps", number(a.requests_per_second)}}}};
    auto it = records.find(name);
    if (it != records.end()) {
      const auto& g = it->second.reading;
      row["reading"] = {{"at", g.at}, {"ready", g.ready}, {"cpu", number(g.cpu)}, {"memory", number(g.memory)},
                        {"rps", number(g.rps)}};
      row["last_reason"] = g.last_reason;
      row["last_change_at"] = g.last_change_at;
    }
    out.push_back(row);
  }
  return out.dump();
}

}  // namespace stack::orch
