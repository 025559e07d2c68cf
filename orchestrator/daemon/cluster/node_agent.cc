#include "orchestrator/daemon/cluster/node_agent.h"

#include <spdlog/spdlog.h>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/self_record.h"

namespace stack::orch {
namespace {

// How often a node whose heartbeat was lost takes it again, and a manager
// without the leader key looks at it even when its watch saw nothing (a
// watch being re-opened after etcd was out of reach).
constexpr auto kCampaignPeriod = std::chrono::seconds(1);
// How long a watch wait lasts: the longest a stopping agent waits.
constexpr auto kWatchSlice = std::chrono::milliseconds(200);

}  // namespace

stack::Result<std::unique_ptr<NodeAgent>> NodeAgent::start(StateStore& store, const cluster::ClusterConfig& config) {
  const auto key = cluster_keys::node(config.node_id);
  auto earlier_text = store.get(key);
  if (!earlier_text) return tl::unexpected(earlier_text.error().wrap("read " + key));
  std::optional<NodeView> earlier;
  if (*earlier_text) {
    auto parsed = node_from_json(nlohmann::json::parse(**earlier_text, nullptr, false));
    if (parsed) earlier = *parsed;
  }
  STACK_TRY_CTX(store.put(key, to_json(describe_node(config, earlier)).dump()), "write " + key);
  std::unique_ptr<NodeAgent> agent(new NodeAgent(store, config));
  {
    std::lock_guard lock(agent->mu_);
    agent->try_hold();
    if (!agent->alive_) return stack::fail("hold " + cluster_keys::alive(config.node_id) + " in the cluster store");
  }
  agent->thread_ = std::thread([a = agent.get()] { a->run(); });
  return agent;
}

NodeAgent::~NodeAgent() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  leader_.reset();  // released: another manager may lead at once
  alive_.reset();
}

bool NodeAgent::is_leader() const {
  std::lock_guard lock(mu_);
  return leader_ && leader_->held();
}

void NodeAgent::resign() {
  std::lock_guard lock(mu_);
  resigned_ = true;
  leader_.reset();  // revoked: the key goes now, not after its TTL
}

bool NodeAgent::wait_leader(std::chrono::milliseconds limit) {
  if (config_.role != cluster::Role::Manager) return false;
  // Another node leads (its lease runs): no point waiting for its key.
  auto holder = store_.get(cluster_keys::kLeader);
  if (holder && *holder && **holder != config_.node_id) return false;
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, limit, [this] { return stopping_ || (leader_ && leader_->held()); }) && !stopping_;
}

// Under mu_. Each key is ours if its holder is this node's id (a stackd of
// this node that died: no other process has this node's certificate).
void NodeAgent::try_hold() {
  const std::string id = config_.node_id;
  auto is_self = [id](const std::string& holder) { return holder == id; };
  if (!alive_ || !alive_->held()) {
    auto h = LeaseHolder::acquire(store_, cluster_keys::alive(id), id, cluster_keys::kLeaseSeconds,
                                  [id](const stack::Error& e) {
                                    spdlog::error("cluster: node {} lost its heartbeat lease ({})", id, e.message());
                                  },
                                  is_self);
    if (h) alive_ = std::move(*h);
    else spdlog::warn("cluster: heartbeat: {}", h.error().message());
  }
  if (config_.role == cluster::Role::Manager && !resigned_ && (!leader_ || !leader_->held())) {
    bool was = leader_ != nullptr;
    // A live holder keeps it: look before granting a lease for nothing.
    auto holder = store_.get(cluster_keys::kLeader);
    if (holder && *holder && **holder != id) {
      if (was) leader_.reset();
      return;
    }
    auto h = LeaseHolder::acquire(store_, cluster_keys::kLeader, id, cluster_keys::kLeaderLeaseSeconds,
                                  [id](const stack::Error& e) {
                                    spdlog::error("cluster: node {} lost the leadership ({})", id, e.message());
                                  },
                                  is_self);
    if (h) {
      leader_ = std::move(*h);
      spdlog::info("cluster: node {} leads", id);
      cv_.notify_all();
    } else if (was) {
      leader_.reset();
    }
  }
}

// A manager watches the leader key and campaigns the moment it is deleted
// (its holder's lease ended or was revoked), not at its next period: that is
// most of what a failover waits for after the lease.
void NodeAgent::run() {
  const bool manager = config_.role == cluster::Role::Manager;
  std::unique_ptr<StoreWatch> watch;
  auto next_period = std::chrono::steady_clock::now() + kCampaignPeriod;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    bool leader_gone = false;
    lock.unlock();
    if (manager && !watch) {
      auto w = store_.watch(cluster_keys::kLeader);
      if (w) watch = std::move(*w);
    }
    if (watch) {
      auto events = watch->wait(kWatchSlice);
      if (!events) watch.reset();  // compacted or cut off: open again
      else
        for (const auto& e : *events) leader_gone |= e.type == WatchEvent::Delete;
    }
    lock.lock();
    if (!watch) cv_.wait_for(lock, kWatchSlice, [this] { return stopping_; });
    if (stopping_) break;
    auto now = std::chrono::steady_clock::now();
    if (leader_gone || now >= next_period) {
      try_hold();
      next_period = now + kCampaignPeriod;
    }
  }
}

}  // namespace stack::orch
