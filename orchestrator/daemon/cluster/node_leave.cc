// `node leave`, on the node itself (cluster_service.h). A worker stops what
// it runs for the cluster, takes its heartbeat and reports away and forgets
// its certificates. A manager does the same between two more steps:
//
//   checks: not the last manager; etcd keeps its quorum without this member
//   leader? give the key back, wait until another manager holds it
//   (a worker's leave: containers, heartbeat, reports)
//   its etcd member removed (through this member), then its etcd user
//   (through another: this one stops once removed); <root>/etcd goes at
//   the next start, as a single node
//
// Nothing changes before the checks pass. After the member is removed the
// node cannot write to etcd again, so that comes last; if it fails the node
// stays in the cluster (running nothing, not campaigning) and the verb can
// be run again.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/cluster_service.h"
#include "orchestrator/daemon/store/etcd_auth.h"
#include "orchestrator/daemon/store/etcd_members.h"

namespace stack::orch {
namespace {

// How long a leaving leader waits for another manager to take the key: the
// others campaign the moment it is deleted (node_agent.cc).
constexpr auto kHandOverLimit = std::chrono::seconds(15);

}  // namespace

stack::Result<void> ClusterService::manager_leave_checks() {
  const std::string self = config_->node_id;
  auto all = nodes();
  if (!all) return tl::unexpected(all.error().wrap("node leave"));
  int other_managers = 0;
  for (const auto& n : *all) other_managers += n.role == "manager" && n.id != self;
  if (other_managers == 0)
    return stack::fail("node leave: " + self +
                           " is the last manager: the cluster's state lives in its etcd member. Promote another "
                           "node first (`stack node promote NODE`)",
                       EPERM);
  // etcd's quorum over the members left: a majority of them must answer.
  auto members = etcd_member_list(cluster_etcd_options(options_.root, *config_));
  if (!members) return tl::unexpected(members.error().wrap("node leave: etcd members"));
  int left = 0, answering = 0;
  for (const auto& m : *members) {
    if (m.name == self) continue;
    left++;
    for (const auto& n : *all) answering += n.id == m.name && n.status == "ready";
  }
  if (left > 0 && answering < left / 2 + 1)
    return stack::fail("node leave: without " + self + "'s etcd member, " + std::to_string(answering) + " of " +
                           std::to_string(left) + " members would answer, short of etcd's quorum of " +
                           std::to_string(left / 2 + 1) + ": bring the down managers back or `node rm` them first",
                       EBUSY);
  return {};
}

stack::Result<void> ClusterService::hand_over_the_lead() {
  const std::string self = config_->node_id;
  if (options_.resign_leadership) options_.resign_leadership();
  const auto deadline = std::chrono::steady_clock::now() + kHandOverLimit;
  for (;;) {
    auto holder = store_.get(cluster_keys::kLeader);
    if (holder && *holder && **holder != self) {
      spdlog::info("node leave: {} leads now", **holder);
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return stack::fail("node leave: no other manager took the lead within 15 s; this node no longer campaigns, "
                         "so another manager leads once one answers. Run `stack node leave` again then",
                         ETIMEDOUT);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

stack::Result<void> ClusterService::remove_own_member() {
  const std::string self = config_->node_id;
  EtcdOptions etcd = cluster_etcd_options(options_.root, *config_);
  auto admin = EtcdAdmin::open(etcd);
  if (!admin) return tl::unexpected(admin.error().wrap("etcd members"));
  auto left = admin->remove_member_named(self);
  if (!left) return tl::unexpected(left.error().wrap("remove its etcd member"));
  spdlog::info("node leave: etcd member of {} removed", self);
  EtcdOptions others = etcd;
  others.endpoints.clear();
  for (const auto& m : *left) others.endpoints.insert(others.endpoints.end(), m.client_urls.begin(), m.client_urls.end());
  // This node's certificate still opens etcd as root: its user goes too,
  // through the others (this member stops once removed). Its data
  // (<root>/etcd) goes when stackd starts again as a single node: the
  // member may still be writing until then.
  if (others.endpoints.empty()) return {};
  if (auto gone = etcd_remove_user(others, self); !gone)
    spdlog::warn("node leave: {} (`stack node rm {}` on a manager removes it)", gone.error().message(), self);
  return {};
}

stack::Result<NodeView> ClusterService::leave() {
  std::lock_guard lock(mu_);
  STACK_TRY(require_cluster());
  const std::string self = config_->node_id;
  const bool manager = config_->role == cluster::Role::Manager;
  if (manager) {
    STACK_TRY(manager_leave_checks());
    STACK_TRY(hand_over_the_lead());
  }
  NodeView me;
  me.id = self;
  me.role = cluster::role_name(config_->role);
  if (options_.release_host) STACK_TRY(options_.release_host());
  // Down at once for the leader (the heartbeat key goes, not only its
  // lease); the reports go with it. A worker may write both.
  Txn t;
  t.success = {StoreOp{StoreOp::Delete, cluster_keys::alive(self), "", 0},
               StoreOp{StoreOp::DeletePrefix, cluster_keys::tasks(self), "", 0}};
  if (auto done = store_.txn(t); !done)
    spdlog::warn("node leave: heartbeat and reports of {}: {}", self, done.error().message());
  // Were stackd to restart without it, the members left would count a dead
  // one: a failure stops here, the node neither leading nor running
  // containers, and the verb can be run again.
  if (manager)
    if (auto r = remove_own_member(); !r)
      return stack::fail("node leave: " + self + " runs nothing for the cluster now, but its etcd member stays (" +
                             r.error().message() + "); run `stack node leave` again",
                         r.error().code);
  // The commit point: without <root>/cluster the next start is a single node.
  auto files = cluster::lock_cluster_files(options_.root);
  if (!files) return stack::fail("node leave: " + files.error().message(), files.error().code);
  std::error_code ec;
  std::filesystem::remove_all(cluster::ClusterPaths::under(options_.root).dir, ec);
  if (ec) return stack::fail("node leave: remove " + cluster::ClusterPaths::under(options_.root).dir + ": " + ec.message());
  spdlog::info("cluster: node {} left cluster {}", self, config_->cluster_id);
  restart_pending_ = true;
  me.status = "down";
  return me;
}

}  // namespace stack::orch
