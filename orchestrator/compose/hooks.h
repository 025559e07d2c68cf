// `post_start:` and `pre_stop:`: commands run inside a replica (as `stack
// exec` runs them, with the hook's user, environment, working_dir and
// privileged) after it started, and before it is sent its stop signal.
//
// A failing post_start hook fails the replica's start (it is stopped and its
// restart policy applies), as the Compose spec says. A failing pre_stop hook
// is reported and the stop goes on: the spec says it aborts the stop, but a
// stop that never comes would leave `down`, scale-down and replacements
// hanging; Docker Compose too only reports it. Hooks run within the stop
// grace period.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<std::vector<LifecycleHook>> read_hooks(const Node& value, const std::string& path);

}  // namespace stack::compose
