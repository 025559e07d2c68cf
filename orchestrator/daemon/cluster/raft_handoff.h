// Keeps etcd's raft leader off the manager that leads the stacks.
//
// Why: when a manager dies, the cluster waits for its leader key's lease to
// end. If the dead manager was also etcd's raft leader, etcd first elects a
// new raft leader (one to two election timeouts), and the new raft leader
// renews every lease by its whole TTL plus an election timeout (etcd's
// lessor Promote): the leader key then outlives the dead leader by that
// much, and the same for its node's heartbeat. The first manager of a
// cluster is both (it formed etcd alone), so without this every first
// failover paid that. With raft led elsewhere, a dead stack leader's key
// ends one TTL after its last keep-alive.
//
// The same renewal is why a handoff waits for a settled cluster: moving raft
// while a node has just died would give its heartbeat a whole TTL more.
//
// Swarm makes its leader the raft leader; we keep them apart on purpose.
#pragma once

#include <functional>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/cluster/etcd_member.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

// When `local` (this manager's own member) is etcd's raft leader, every
// node's heartbeat was kept alive within the last second, and another
// started member is caught up with raft's log, runs on a node whose
// heartbeat is alive and is `settled` (the caller's say: a member that just
// joined is often promoted and demoted again in one breath, and its removal
// while it leads raft would cost an election): asks `local` to hand raft
// leadership to that member. Returns whether it moved; false with nothing
// done otherwise. Takes up to an election timeout while etcd transfers.
stack::Result<bool> hand_off_raft_leadership(const EtcdMember& local, StateStore& store,
                                             const std::function<bool(const std::string& name)>& settled);

}  // namespace stack::orch
