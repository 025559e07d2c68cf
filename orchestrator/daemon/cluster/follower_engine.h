// The Engine of a cluster node that does not lead: it answers every stack
// verb with "this node does not lead the cluster" (503), naming the leader
// where known, and lists nothing, so that such a node's API serves the
// cluster routes (`node ls`) without a second engine fighting the leader's
// over the same stacks. Placing replicas on such nodes and relaying the
// verbs to the leader come with the cluster's scheduling.
#pragma once

#include <string>

#include "orchestrator/daemon/engine/engine.h"

namespace stack::orch {

std::unique_ptr<Engine> make_follower_engine(std::string reason);

}  // namespace stack::orch
