// `stack plan`: EngineImpl's side. The services' part is pure (stack_plan.h);
// what only this node knows is added here: images not in its store,
// networks and volume directories not made yet. Reads only.
#include <filesystem>
#include <optional>
#include <set>

#include "orchestrator/compose/build.h"
#include "orchestrator/compose/task_spec.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/engine/stack_plan.h"

namespace stack::orch {

stack::Result<std::string> EngineImpl::plan(const compose::Project& file_project) {
  if (file_project.name.empty()) return stack::fail("plan: the project has no name", EINVAL);
  std::shared_ptr<Supervisor> sup = find(file_project.name);
  std::optional<compose::Project> current;
  std::optional<StackDesired> desired;
  std::vector<sched::ReplicaStatus> tasks;
  if (sup) {
    desired = sup->desired();
    current = desired->project;
    for (const auto& r : sup->replicas()) tasks.push_back(r.status);
  }
  // The counts up would run: an autoscaled service keeps what it reached.
  const compose::Project project = autoscaled_counts(file_project, desired ? &*desired : nullptr);
  StackPlan plan = plan_stack(current ? &*current : nullptr, tasks, project);
  std::set<std::string> images;
  for (const auto& [name, s] : project.services) {
    if (compose::image_is_built(project, s)) continue;  // a build makes it, never a pull
    auto rule = compose::parse_pull_policy(s.pull_policy, s.pull_refresh_after);
    bool always = rule && rule->mode == compose::PullRule::Mode::Always;
    // image_healthcheck() reads the image's config from the store alone.
    if (always || !node_->image_healthcheck(s.image)) images.insert(s.image);
  }
  plan.images.assign(images.begin(), images.end());
  for (const auto& [key, def] : project.networks)
    if (!def.external && !networks_->find_network(network_name(project, key)))
      plan.networks.push_back(network_name(project, key));
  for (const auto& [key, v] : project.volumes) {
    std::error_code ec;
    if (!v.external && !std::filesystem::exists(volume_dir(project, key, options_.root + "/volumes"), ec))
      plan.volumes.push_back(volume_dir(project, key, options_.root + "/volumes"));
  }
  return plan_to_json(plan).dump();
}

}  // namespace stack::orch
