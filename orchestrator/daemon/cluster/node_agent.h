// A cluster node's presence in the store: its record (nodes/<id>, written at
// start), its heartbeat (alive/<id> under a lease this agent keeps alive: a
// node whose stackd stops answering is down once etcd expires the lease),
// and on a manager the campaign for the leader key (etcd's lease plus
// compare-and-swap: one holder; when its lease ends, the other managers see
// the key deleted through a watch and one takes it). Owns one thread; the
// store must outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/store/lease_holder.h"

namespace stack::orch {

class NodeAgent {
 public:
  static stack::Result<std::unique_ptr<NodeAgent>> start(StateStore& store, const cluster::ClusterConfig& config);
  ~NodeAgent();  // releases the heartbeat and leadership at once
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;

  bool is_leader() const;
  // A manager that leaves the cluster: gives the leader key back at once
  // (another manager takes it) and never campaigns again.
  void resign();
  // Whether this node leads within `limit` (false at once on a worker, or
  // while another node holds the leader key).
  bool wait_leader(std::chrono::milliseconds limit);

 private:
  NodeAgent(StateStore& store, cluster::ClusterConfig config) : store_(store), config_(std::move(config)) {}
  void run();
  void try_hold();

  StateStore& store_;
  const cluster::ClusterConfig config_;
  mutable std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  bool stopping_ = false;
  bool resigned_ = false;
  std::unique_ptr<LeaseHolder> alive_;
  std::unique_ptr<LeaseHolder> leader_;
  std::thread thread_;
};

}  // namespace stack::orch
