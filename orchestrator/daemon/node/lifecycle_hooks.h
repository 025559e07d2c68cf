// A replica's post_start and pre_stop hooks (compose/hooks.h), run inside
// it through `stack-runtime exec --process` as `stack exec` runs commands:
// the container's own process with the hook's command, environment (over
// the container's), working_dir, user (resolved in the replica's
// /etc/passwd) and, when privileged, every capability.
//
// Who calls what: the node runs post_start after the shim reported the
// start (a failure fails the create, which removes the container); it keeps
// the pre_stop hooks in <container dir>/pre_stop.json and runs them, once, on
// the first stop signal (not SIGKILL) sent to the replica, on a thread of
// their own so the caller (the supervisor, under its lock) is not held; the
// signal follows them.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/compose/model.h"
#include "base/error.h"

namespace stack::orch {

struct HookTarget {
  std::string runtime_bin;    // stack-runtime
  std::string runtime_root;
  std::string id;
  std::string container_dir;  // rootfs/ (users) and scratch files
};

inline constexpr int kHookTimeoutMs = 60000;

// Runs `hooks` in order; the first that fails (status, timeout) ends it with
// an error naming it: "post_start[1] (sh -c ...): exited with status 3: out".
stack::Result<void> run_hooks(const HookTarget& target, const std::vector<compose::LifecycleHook>& hooks,
                           const std::string& which);

// pre_stop.json in the container dir: written at create (nothing when there
// are none), taken (renamed away, so that hooks run once) by the first stop.
stack::Result<void> save_pre_stop(const std::string& container_dir, const std::vector<compose::LifecycleHook>& hooks);
std::vector<compose::LifecycleHook> take_pre_stop(const std::string& container_dir);

}  // namespace stack::orch
