// The namespace modes of a service and what it adds to its process's
// identity: `pid`, `ipc`, `uts`, `cgroup`, `userns_mode`, `group_add`,
// `annotations`.
//
// Modes applied: pid host; ipc host (the host's /dev/shm too, as Docker),
// private and shareable (both a namespace of the replica's own); uts host;
// cgroup host and private; userns_mode host (the default: stack maps no
// user namespace). Joining another service's or container's namespace
// (`service:NAME`, `container:NAME`) and other userns modes are warned about
// and the replica gets its own namespace. A value that is none of these is a
// load error at its file:line.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

// Reads `key` into `s` when it is one of the fields above; false when not.
stack::Result<bool> read_isolation_field(const std::string& key, const Node& value, const std::string& path, Service& s,
                                      std::vector<Warning>& warnings);

}  // namespace stack::compose
