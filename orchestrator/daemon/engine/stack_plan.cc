#include "orchestrator/daemon/engine/stack_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "orchestrator/compose/serialize.h"
#include "orchestrator/compose/task_spec.h"
#include "orchestrator/daemon/engine/stack_spec.h"

namespace stack::orch {
namespace {

using nlohmann::json;

// The fields of a service's JSON that differ; deploy's one level down.
std::vector<std::string> changed_fields(const json& was, const json& now) {
  std::set<std::string> keys;
  for (const auto& [k, _] : was.items()) keys.insert(k);
  for (const auto& [k, _] : now.items()) keys.insert(k);
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    if (k == "replicas") continue;  // scale's
    const json a = was.value(k, json()), b = now.value(k, json());
    if (a == b) continue;
    if (k == "deploy" && a.is_object() && b.is_object()) {
      for (const std::string& d : changed_fields(a, b)) out.push_back("deploy." + d);
      continue;
    }
    out.push_back(k);
  }
  return out;
}

}  // namespace

bool StackPlan::changes() const {
  for (const ServicePlan& s : services)
    if (s.action != "unchanged") return true;
  return !images.empty() || !networks.empty() || !volumes.empty();
}

StackPlan plan_stack(const compose::Project* current, const std::vector<sched::ReplicaStatus>& tasks,
                     const compose::Project& next) {
  StackPlan plan;
  plan.stack = next.name;
  plan.exists = current != nullptr;
  const json now = compose::project_to_json_value(next);
  const json was = current ? compose::project_to_json_value(*current) : json::object();
  // The current task of each slot (the highest incarnation).
  std::map<std::string, std::map<int, const sched::ReplicaStatus*>> slots;
  for (const auto& t : tasks) {
    auto& cur = slots[t.service][t.slot];
    if (!cur || cur->incarnation < t.incarnation) cur = &t;
  }
  for (const auto& [name, service] : next.services) {
    ServicePlan sp;
    sp.name = name;
    sp.replicas_to = service.replicas;
    auto old = current ? current->services.find(name) : next.services.end();
    if (!current || old == current->services.end()) {
      sp.action = "create";
      plan.services.push_back(std::move(sp));
      continue;
    }
    sp.replicas_from = old->second.replicas;
    sp.changed = changed_fields(was["services"][name], now["services"][name]);
    const std::string hash = config_hash(service, &next);
    for (const auto& [slot, t] : slots[name])
      if (t->config_hash != hash && t->state != sched::ReplicaState::Pending && t->state != sched::ReplicaState::Removed)
        sp.replace.push_back(slot);
    if (!sp.replace.empty()) {
      auto task = compose::task_spec(service);
      int per = 0;
      if (task && task->update_config) {
        per = task->update_config->parallelism;
        sp.order = task->update_config->order == compose::UpdateOrder::StartFirst ? "start-first" : "stop-first";
      } else {
        sp.order = "stop-first";
      }
      const int n = static_cast<int>(sp.replace.size());
      sp.batches = per > 0 ? (n + per - 1) / per : 1;
    }
    if (!sp.changed.empty() || !sp.replace.empty()) sp.action = "update";
    else if (sp.replicas_from != sp.replicas_to) sp.action = "scale";
    else sp.action = "unchanged";
    plan.services.push_back(std::move(sp));
  }
  if (current)
    for (const auto& [name, service] : current->services)
      if (!next.services.count(name)) {
        ServicePlan sp;
        sp.name = name;
        sp.action = "remove";
        sp.replicas_from = service.replicas;
        plan.services.push_back(std::move(sp));
      }
  std::sort(plan.services.begin(), plan.services.end(),
            [](const ServicePlan& a, const ServicePlan& b) { return a.name < b.name; });
  return plan;
}

json plan_to_json(const StackPlan& plan) {
  json services = json::array();
  for (const ServicePlan& s : plan.services)
    services.push_back({{"name", s.name},
                        {"action", s.action},
                        {"changed", s.changed},
                        {"replicas", {{"from", s.replicas_from}, {"to", s.replicas_to}}},
                        {"replace", s.replace},
                        {"batches", s.batches},
                        {"order", s.order}});
  return {{"stack", plan.stack},     {"exists", plan.exists},     {"changes", plan.changes()},
          {"services", services},    {"images", plan.images},     {"networks", plan.networks},
          {"volumes", plan.volumes}};
}

}  // namespace stack::orch
