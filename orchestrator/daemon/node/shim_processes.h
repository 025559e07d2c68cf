// Finding and ending stack-shim processes from outside: by the pid file a
// shim writes once it has created its container, or, before that, by the
// command line stackd gave it. Plus the two small /proc readers this needs,
// shared with the rest of the daemon.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/container/state.h"
#include "base/error.h"
#include "base/fd.h"

namespace stack::orch {

// A pidfd for `pid`; invalid when it is gone.
stack::UniqueFd pidfd_of(pid_t pid);

// The shim's pid when a stack-shim for `id` is alive, else 0.
pid_t live_shim(const std::string& runtime_root, const std::string& id);

// A runtime state dir without a state record: a create killed half-way (a
// SIGKILLed shim), or one still running in a shim that stackd lost while it
// started (killed between spawning it and its report; the shim writes
// shim.pid only once created, so live_shim() cannot see it).
// delete_container() refuses such a dir ("still being created") and it
// stayed for ever; a shim still creating would even finish a container no
// record owns. So: end such a shim (found by its command line, waiting up
// to `wait_ms` for it), then remove the cgroup it may have made and the
// dir. stackd's specs leave linux.cgroupsPath empty: the cgroup is
// /stack/<id>.
stack::Result<void> remove_unfinished(const rt::StateDir& runtime, const std::string& id, int wait_ms);

}  // namespace stack::orch
