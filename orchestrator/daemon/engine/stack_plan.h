// `stack plan`: what `up` of a project would do to the stack as it is,
// without doing any of it. Pure: the stored project and the tasks there are
// now against the new project; the engine (engine_plan.cc) adds what only
// the node knows (images not in the store, networks and volumes not made).
//
// Per service, as `up` would act (stack_spec.h's config_hash decides what
// replaces replicas):
//   create      not in the stack yet
//   update      its config changes (`replace`: the replicas made from another
//               config, in `batches` of update_config's parallelism, `order`;
//               without update_config all in one batch, as Compose), or only
//               settings applied in place (restart policy, health check,
//               update_config...: `replace` empty)
//   scale       only the replica count changes
//   remove      in the stack, not in the project
//   unchanged
// `changed`: the service's fields that differ, as the stack file names them
// ("environment", "deploy.update_config"), the count left out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/compose/model.h"
#include "scheduler/model.h"

namespace stack::orch {

struct ServicePlan {
  std::string name;
  std::string action;  // create | update | scale | remove | unchanged
  std::vector<std::string> changed;
  int replicas_from = 0, replicas_to = 0;
  std::vector<int> replace;  // slots whose replica is replaced
  int batches = 0;
  std::string order;         // stop-first | start-first (update with replace)
};

struct StackPlan {
  std::string stack;
  bool exists = false;
  std::vector<ServicePlan> services;
  std::vector<std::string> images;    // to pull: not in the store
  std::vector<std::string> networks;  // to create
  std::vector<std::string> volumes;   // to create
  // Whether `up` would change anything (`stack plan` exits 2 then).
  bool changes() const;
};

// `current`: the stored project (nullptr: no such stack); `tasks`: the
// stack's tasks now (their config hashes and slots).
StackPlan plan_stack(const compose::Project* current, const std::vector<sched::ReplicaStatus>& tasks,
                     const compose::Project& next);

nlohmann::json plan_to_json(const StackPlan& plan);

}  // namespace stack::orch
