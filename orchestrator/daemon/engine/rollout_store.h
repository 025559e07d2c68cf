// A service's rolling update (scheduler/rollout.h) as the engine keeps it:
// JSON under rollouts/<stack>/<service>, written by the supervisor whenever
// the rollout moves, so a restarted stackd goes on with the batch it was in.
#pragma once

#include <map>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/store/state_store.h"
#include "scheduler/rollout.h"

namespace stack::orch {

std::string rollout_key(const std::string& stack, const std::string& service);
std::string rollout_to_json(const sched::Rollout& r);
stack::Result<sched::Rollout> rollout_from_json(const std::string& text);

// service -> rollout; an unreadable entry is an error naming its key.
stack::Result<std::map<std::string, sched::Rollout>> load_rollouts(StateStore& store, const std::string& stack);

}  // namespace stack::orch
