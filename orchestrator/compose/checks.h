// Cross-references of a normalized project, checked after normalize:
// depends_on names existing, enabled services and has no cycle ("a -> b ->
// a"); networks and named volumes used by services are declared; network_mode
// is none/host/bridge/service:X/container:X with X an existing service;
// container_name is not combined with more than one replica. An optional
// dependency (required: false) on a missing service is dropped with a
// warning. Errors point at the field in the merged document.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

// `disabled`: services removed by profiles (named in the messages).
stack::Result<void> check_project(Project& project, const Node& document, const std::set<std::string>& disabled,
                               std::vector<Warning>& warnings);

}  // namespace stack::compose
