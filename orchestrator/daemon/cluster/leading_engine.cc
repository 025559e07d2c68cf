#include "orchestrator/daemon/cluster/leading_engine.h"

#include <spdlog/spdlog.h>

#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/follower_engine.h"
#include "orchestrator/daemon/cluster/raft_handoff.h"

namespace stack::orch {

using namespace std::chrono_literals;

namespace {
// Two heartbeat TTLs: a node that died just before this node took the lead
// is down by then, even after an etcd election renewed its lease.
constexpr auto kHandoffAfterLeading = std::chrono::seconds(2 * cluster_keys::kLeaseSeconds);
// How long a member has been seen before raft leadership is handed to it.
constexpr auto kMemberSettles = std::chrono::seconds(30);
}  // namespace

stack::Result<std::unique_ptr<LeadingEngine>> LeadingEngine::start(const EngineOptions& options,
                                                                   ClusterNode& cluster, NodeHost& host,
                                                                   std::chrono::milliseconds first_wait) {
  std::unique_ptr<LeadingEngine> e(new LeadingEngine(options, cluster, host));
  e->engine_ = e->follower();
  if (cluster.agent->wait_leader(first_wait) && !e->lead())
    return stack::fail("cluster " + cluster.config.cluster_id + ": this node leads but its engine did not open");
  e->thread_ = std::thread([raw = e.get()] { raw->watch(); });
  e->handoff_thread_ = std::thread([raw = e.get()] { raw->handoff_loop(); });
  return e;
}

LeadingEngine::~LeadingEngine() { shutdown(); }

std::shared_ptr<Engine> LeadingEngine::follower() const {
  return make_follower_engine("node " + cluster_.config.node_id + " does not lead cluster " +
                              cluster_.config.cluster_id + ": run stack commands on the leading manager (`stack node ls`)");
}

std::shared_ptr<Engine> LeadingEngine::current() {
  std::lock_guard lk(mu_);
  return engine_;
}

bool LeadingEngine::lead() {
  auto opened = open_leader_engine(options_, cluster_, host_);
  if (!opened) {
    spdlog::error("cluster: leading: {}", opened.error().message());
    return false;
  }
  std::shared_ptr<Engine> engine = std::move(*opened);
  if (auto r = engine->restore(); !r) spdlog::error("restore: {}", r.error().message());
  std::lock_guard lk(mu_);
  if (interrupted_) engine->interrupt_waits();
  engine_ = std::move(engine);
  leading_ = true;
  leading_since_ = std::chrono::steady_clock::now();
  spdlog::info("cluster: node {} leads: scheduling every stack", cluster_.config.node_id);
  return true;
}

void LeadingEngine::step_down() {
  std::shared_ptr<Engine> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(engine_);
    engine_ = follower();
    leading_ = false;
  }
  spdlog::warn("cluster: node {} no longer leads: its scheduling stops (containers keep running)",
               cluster_.config.node_id);
  old->interrupt_waits();
  old->shutdown();
  host_.directory.reset();
}

void LeadingEngine::watch() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, 250ms, [this] { return stopping_; });
    if (stopping_) return;
    bool leads = cluster_.agent->is_leader();
    if (leads == leading_) continue;
    lk.unlock();
    if (leads) (void)lead();
    else step_down();
    lk.lock();
  }
}

void LeadingEngine::handoff_loop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, 5s, [this] { return stopping_; });
    if (stopping_ || !leading_ || std::chrono::steady_clock::now() - leading_since_ < kHandoffAfterLeading) continue;
    lk.unlock();
    keep_raft_leader_elsewhere();
    lk.lock();
  }
}

// Checked once this node has led for a while, and every 5 s after (a
// manager that joins later may take raft over again): raft_handoff.h says
// why. Not at once: a raft leader change renews every lease, so moving raft
// right after a failover would give the dead leader's heartbeat a whole
// TTL more, and its replicas would be replaced that much later.
void LeadingEngine::keep_raft_leader_elsewhere() {
  if (!cluster_.member) return;  // an existing etcd: not ours to steer
  // A member is a target once this leader has seen it for a while; those
  // there at its first look count as settled (they predate this leader).
  const auto now = std::chrono::steady_clock::now();
  bool looked = false;
  auto settled = [this, now, &looked](const std::string& name) {
    looked = true;
    auto [seen, first] = members_seen_.try_emplace(name, members_baseline_ ? now : now - kMemberSettles);
    return now - seen->second >= kMemberSettles;
  };
  auto moved = hand_off_raft_leadership(*cluster_.member, *cluster_.store, settled);
  members_baseline_ = members_baseline_ || looked;
  if (!moved) spdlog::warn("cluster: {}", moved.error().message());
  else if (*moved) spdlog::info("cluster: etcd's raft leadership handed to another manager");
}

Engine::Subscription LeadingEngine::subscribe(uint64_t since, std::function<void(const Event&)> sink) {
  return current()->subscribe(since, std::move(sink));
}

void LeadingEngine::shutdown() {
  std::shared_ptr<Engine> engine;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    stopping_ = true;
    engine = std::move(engine_);
    engine_ = follower();  // a late call is answered, not crashed on
    leading_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (handoff_thread_.joinable()) handoff_thread_.join();
  if (engine) engine->shutdown();
}

void LeadingEngine::interrupt_waits() {
  std::shared_ptr<Engine> engine;
  {
    std::lock_guard lk(mu_);
    interrupted_ = true;
    engine = engine_;
  }
  if (engine) engine->interrupt_waits();
}

}  // namespace stack::orch
