// The engine's part of rolling updates: what a service was before a change
// (kept in the stack's record for a rollback) and `stack rollback SERVICE`.
// The rollouts themselves run in each stack's supervisor
// (supervisor_rollout.cc).
#include <nlohmann/json.hpp>

#include "orchestrator/compose/serialize.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/engine/stack_spec.h"

namespace stack::orch {

std::map<std::string, std::string> EngineImpl::previous_definitions(const StackDesired& current,
                                                                    const compose::Project& next) {
  std::map<std::string, std::string> previous;
  nlohmann::json now = compose::project_to_json_value(current.project);
  for (const auto& [name, service] : next.services) {
    if (auto kept = current.previous.find(name); kept != current.previous.end()) previous[name] = kept->second;
    auto was = current.project.services.find(name);
    if (was == current.project.services.end()) continue;
    // What replaces replicas (config_hash) is what a rollback undoes.
    if (config_hash(was->second, &current.project) != config_hash(service, &next))
      previous[name] = now["services"][name].dump();
  }
  return previous;
}

stack::Result<compose::Project> EngineImpl::rollback_target(const std::string& stack, const std::string& service) {
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  return with_previous((*sup)->desired(), service);
}

stack::Result<void> EngineImpl::rollback(const std::string& stack, const std::string& service) {
  auto op = op_lock(stack);
  std::lock_guard op_guard(*op);
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  const uint64_t serial = (*sup)->rollout_serial();
  STACK_TRY((*sup)->rollback(service));
  emit(stack, "rollback", {{"service", service}});
  if (auto w = (*sup)->wait_settled({service}, true, 0, serial); !w)
    return tl::unexpected(w.error().wrap("rollback " + service));
  emit(stack, "settled");
  return {};
}

}  // namespace stack::orch
