// What every cluster node runs (the leader too): the replicas the leader
// assigned to it. It follows assign/<self>/ and keeps this host's containers
// equal to it through the node's LocalNode: an assignment that appears is
// created and started (networks and volume directories made here first,
// the image pulled when missing), one that goes is removed, and each
// container's facts are reported in tasks/<self>/<id> (running, exited with
// its code, or failed with why). Signals (signals/<self>/) and health probes
// (probes/<self>/) asked for by the leader are carried out here.
//
// At start it first compares what is assigned with what this host has: a
// container no longer assigned (superseded while this node was down or cut
// off) is removed, an assigned one still held by its shim is adopted (its
// exit watched again), one that is gone is reported exited. A node cut off
// from etcd keeps its containers running; it catches up when the watch
// comes back (PrefixFollower lists again).
//
// Threads: three followers feed one work queue (create/remove/signal, in
// order, on one thread, so an id's operations never overlap) and probes run
// on a second thread. Reports are written under one lock, whole.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "netplane/network_manager.h"
#include "orchestrator/daemon/cluster/assignment.h"
#include "orchestrator/daemon/cluster/prefix_follower.h"
#include "orchestrator/daemon/node/local_node.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

class AssignmentRunner {
 public:
  static stack::Result<std::unique_ptr<AssignmentRunner>> start(StateStore& store, std::string self, LocalNode& node,
                                                                net::NetworkManager& networks,
                                                                std::string volume_root);
  ~AssignmentRunner();  // stops following; containers keep running
  AssignmentRunner(const AssignmentRunner&) = delete;
  AssignmentRunner& operator=(const AssignmentRunner&) = delete;

 private:
  AssignmentRunner(StateStore& store, std::string self, LocalNode& node, net::NetworkManager& networks,
                   std::string volume_root)
      : store_(store), self_(std::move(self)), node_(node), networks_(networks), volume_root_(std::move(volume_root)) {}

  struct Op {
    enum Kind { Create, Remove, Signal } kind = Create;
    std::string id;
    std::string text;  // Create: the assignment; Signal: the request
  };
  void push(Op op);
  void work();    // the op thread
  void probes();  // the probe thread
  void create(const std::string& id, const std::string& text);
  // The source an assignment names, from the store once, then from
  // sources_ (the op thread's alone).
  stack::Result<std::shared_ptr<const PlanSource>> source(const std::string& key);
  void remove(const std::string& id);
  void adopt(const std::set<std::string>& assigned);
  void watch_exit(const std::string& id);
  // Writes tasks/<self>/<id> (under report_mu_).
  void report(const std::string& id, const std::function<void(TaskReport&)>& change);
  void drop_report(const std::string& id);
  // Writes every report again: after a time cut off from etcd, what changed
  // meanwhile (an exit) reaches the leader.
  void republish();
  // Removes the networks this runner made that no replica here uses any more.
  void remove_networks_unused();

  StateStore& store_;
  const std::string self_;
  LocalNode& node_;
  net::NetworkManager& networks_;
  const std::string volume_root_;
  std::map<std::string, std::shared_ptr<const PlanSource>> sources_;  // key -> source, the last few

  std::mutex mu_;  // guards the queue, the maps below and stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  bool listing_ = true;  // start()'s first listing of assign/<self>/
  std::deque<Op> ops_;
  std::deque<std::pair<std::string, std::string>> probe_queue_;  // (id, request)
  std::map<std::string, std::set<std::string>> networks_of_;      // container id -> network names
  std::set<std::string> assigned_;                                  // ids in assign/<self>/ (as followed)
  std::set<std::string> made_networks_;  // networks this runner created (the leader's own engine makes its own)

  std::mutex report_mu_;
  std::map<std::string, TaskReport> reports_;

  std::thread worker_, prober_;
  std::vector<std::unique_ptr<PrefixFollower>> followers_;
};

}  // namespace stack::orch
