// The cluster files an init or a join is making (<root>/cluster, and on a
// manager <root>/etcd): what an earlier attempt that died half-way left is
// removed when this one starts (nothing of it is in use: cluster.json, the
// commit point, is absent), and this one's is removed unless it reached
// commit(). An etcd member it started is stopped first, as its data lives in
// the directory removed.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <memory>

#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/cluster/etcd_member.h"

namespace stack::orch {

class PartialCluster {
 public:
  explicit PartialCluster(cluster::ClusterPaths paths) : paths_(std::move(paths)) {}
  ~PartialCluster() {
    if (committed_) return;
    member.reset();
    remove();
  }
  PartialCluster(const PartialCluster&) = delete;
  PartialCluster& operator=(const PartialCluster&) = delete;

  // Clears leftovers and makes <root>/cluster, private (keys go there).
  stack::Result<void> start() {
    remove();
    std::error_code ec;
    std::filesystem::create_directories(paths_.dir, ec);
    if (ec) return stack::fail("create " + paths_.dir + ": " + ec.message(), ec.value());
    ::chmod(paths_.dir.c_str(), 0700);
    return {};
  }
  void commit() { committed_ = true; }

  std::unique_ptr<EtcdMember> member;

 private:
  void remove() {
    std::error_code ec;
    std::filesystem::remove_all(paths_.dir, ec);
    std::filesystem::remove_all(paths_.etcd_dir, ec);
  }

  cluster::ClusterPaths paths_;
  bool committed_ = false;
};

}  // namespace stack::orch
