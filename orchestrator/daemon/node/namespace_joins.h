// A replica that shares another's namespaces on this node (Compose's
// network_mode / pid / ipc "service:X", which the engine turned into
// "container:<id>"): where the spec joins them.
#pragma once

#include <map>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/node/replica_spec.h"
#include "runtime/container/state.h"

namespace stack::orch {

// pid / ipc "container:<id>" -> {"pid": "/proc/<pid>/ns/pid", ...}: the
// namespaces of that container's init. One the runtime does not know or
// that is not running is ENOENT naming the field; the guard on the pid's
// start time keeps a recycled pid from being joined.
stack::Result<std::map<std::string, std::string>> namespace_joins(const rt::StateDir& runtime, const ReplicaSpec& s);

}  // namespace stack::orch
