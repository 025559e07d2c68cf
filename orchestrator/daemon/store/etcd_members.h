// etcd's membership (its Cluster service): the members a cluster's managers
// run, and adding one when a manager joins (etcd's runtime reconfiguration:
// add the member, then start it with --initial-cluster-state=existing) and
// removing one; and the raft leadership: who has it, handing it over, and
// how long a lease has left.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch {

struct EtcdMemberInfo {
  uint64_t id = 0;
  std::string name;  // "" for one added but not started yet
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
};

stack::Result<std::vector<EtcdMemberInfo>> etcd_member_list(const EtcdOptions& options);
// Adds a member that will listen for peers on `peer_url`; returns every
// member after the change, the new one included (with an empty name).
stack::Result<std::vector<EtcdMemberInfo>> etcd_member_add(const EtcdOptions& options, const std::string& peer_url);
// Removes member `id` (a manager removed, demoted or leaving): etcd's quorum
// is counted over the members left. While etcd finds the members left not
// yet settled ("unhealthy cluster"), tries again for up to 15 s.
stack::Result<void> etcd_member_remove(const EtcdOptions& options, uint64_t id);

// Who answered (the member at the options' endpoint) and which member is
// etcd's raft leader.
struct EtcdRaftStatus {
  uint64_t member = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;  // how far the answering member's log goes
};
stack::Result<EtcdRaftStatus> etcd_status(const EtcdOptions& options);
// Asks the raft leader, which must be the member at the options' endpoint, to
// hand its leadership to member `target` (etcd's MoveLeader; root only).
stack::Result<void> etcd_move_leader(const EtcdOptions& options, uint64_t target);
// Whole seconds left to each lease of `ids` (one connection), in order; -1
// for one that has ended.
stack::Result<std::vector<int64_t>> etcd_lease_ttls(const EtcdOptions& options, const std::vector<LeaseId>& ids);

}  // namespace stack::orch
