// etcd's membership (its Cluster service): the members a cluster's managers
// run, and adding one when a manager joins (etcd's runtime reconfiguration:
// add the member, then start it with --initial-cluster-state=existing) and
// removing one; and the raft leadership: who has it, handing it over, and
// how long a lease has left.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch {
namespace etcd {
class Conn;
}

struct EtcdMemberInfo {
  uint64_t id = 0;
  std::string name;  // "" for one added but not started yet
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
};

// Who answered (the member at the options' endpoint) and which member is
// etcd's raft leader.
struct EtcdRaftStatus {
  uint64_t member = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;  // how far the answering member's log goes
};

// One connection for a run of membership calls: a TLS handshake each would
// cost more than the calls (a raft check every 5 s makes three).
class EtcdAdmin {
 public:
  static stack::Result<EtcdAdmin> open(const EtcdOptions& options);

  stack::Result<std::vector<EtcdMemberInfo>> members() const;
  // Adds a member that will listen for peers on `peer_url`; returns every
  // member after the change, the new one included (with an empty name).
  // Waits out "unhealthy cluster" as remove_member() does.
  stack::Result<std::vector<EtcdMemberInfo>> add_member(const std::string& peer_url) const;
  // Removes member `id` (a manager removed, demoted or leaving): etcd's
  // quorum is counted over the members left. Its raft leadership goes to
  // another member first, when it has it. While etcd finds the members left
  // not yet settled ("unhealthy cluster"), tries again for up to 15 s.
  stack::Result<void> remove_member(uint64_t id) const;
  // remove_member() of the member named `name` (a node's id), if there is
  // one; returns the members left.
  stack::Result<std::vector<EtcdMemberInfo>> remove_member_named(const std::string& name) const;
  stack::Result<EtcdRaftStatus> status() const;
  // Asks the raft leader, which must be the member this connection reaches,
  // to hand its leadership to member `target` (etcd's MoveLeader; root only).
  stack::Result<void> move_leader(uint64_t target) const;
  // Whole seconds left to each lease of `ids`, in order; -1 for one that
  // has ended.
  stack::Result<std::vector<int64_t>> lease_ttls(const std::vector<LeaseId>& ids) const;

 private:
  EtcdAdmin(EtcdOptions options, std::shared_ptr<etcd::Conn> conn) : options_(std::move(options)), conn_(std::move(conn)) {}
  EtcdOptions options_;
  std::shared_ptr<etcd::Conn> conn_;
};

// One call on a connection of its own.
stack::Result<std::vector<EtcdMemberInfo>> etcd_member_list(const EtcdOptions& options);
stack::Result<EtcdRaftStatus> etcd_status(const EtcdOptions& options);

}  // namespace stack::orch
