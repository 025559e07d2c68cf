// etcd's membership (its Cluster service): the members a cluster's managers
// run, and adding one when a manager joins (etcd's runtime reconfiguration:
// add the member, then start it with --initial-cluster-state=existing) and
// removing one.
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
// Removes member `id` (a manager removed with `node rm`): etcd's quorum is
// counted over the members left.
stack::Result<void> etcd_member_remove(const EtcdOptions& options, uint64_t id);

}  // namespace stack::orch
