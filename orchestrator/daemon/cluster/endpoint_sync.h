// Keeps a node's way to etcd in step with etcd's members.
//
// A node reaches etcd through the endpoints its cluster.json lists: the
// managers' members when it joined (and its own member, on a manager).
// Managers come and go (promote, demote, leave, rm), and the gRPC channel
// stackd opened at start cannot take new addresses. So every 5 s this lists
// etcd's members and writes their client URLs into cluster.json; and once
// none of the endpoints stackd started with has answered for 3 s (tried
// every second once they fail) while
// cluster.json names others, it asks for a restart, which opens etcd on
// those (containers keep running across it, as across any restart).
//
//   worker joined via m0 ──> cluster.json [m0]
//   m1 promoted            ──> [m0, m1]        (written, used at next start)
//   m0 leaves              ──> m0 silent 3 s ──> restart on [m0, m1] ──> m1
//
// Owns one thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "orchestrator/cluster/cluster_config.h"

namespace stack::orch {

class EndpointSync {
 public:
  // `running`: the config stackd opened etcd with. `restart` runs once, on
  // this object's thread.
  EndpointSync(std::string root, cluster::ClusterConfig running, std::function<void()> restart);
  ~EndpointSync();
  EndpointSync(const EndpointSync&) = delete;
  EndpointSync& operator=(const EndpointSync&) = delete;

 private:
  void run();
  // One round: true while the running endpoints answer.
  bool sync_once();

  const std::string root_;
  const cluster::ClusterConfig running_;
  std::function<void()> restart_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace stack::orch
