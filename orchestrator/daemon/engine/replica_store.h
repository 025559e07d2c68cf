// One replica as the engine keeps it: the scheduler's ReplicaStatus (state,
// health history, restart counts) plus the container facts the node reported
// (pids, addresses, netns), persisted as JSON under
// replicas/<stack>/<service>/<slot> so a restarted daemon resumes with the
// same restart counts and health log (live restore). One record per task
// (incarnation of a slot): replicas/<stack>/<service>/<slot>/<incarnation>.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "orchestrator/daemon/store/state_store.h"
#include "base/error.h"
#include "scheduler/model.h"

namespace stack::orch {

struct ReplicaRecord {
  sched::ReplicaStatus status;
  std::string name;   // <stack>-<service>-<slot> or container_name
  std::string image;
  std::vector<std::string> command;
  int pid = 0;
  int shim_pid = 0;
  std::string netns_path;
  std::map<std::string, std::string> addresses;  // network (manager name) -> ipv4
};

std::string replica_key(const std::string& stack, const sched::ReplicaStatus& task);
std::string replica_to_json(const ReplicaRecord& r);
stack::Result<ReplicaRecord> replica_from_json(const std::string& text);

stack::Result<void> save_replica(StateStore& store, const ReplicaRecord& r);
stack::Result<void> delete_replica(StateStore& store, const std::string& stack, const sched::ReplicaStatus& task);
// Every task of `stack`; unreadable entries are an error naming the key.
// Records a stackd from before tasks wrote (one per slot) are moved to their
// task key on the way.
stack::Result<std::vector<ReplicaRecord>> load_replicas(StateStore& store, const std::string& stack);

}  // namespace stack::orch
