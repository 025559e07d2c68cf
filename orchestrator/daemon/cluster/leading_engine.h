// A manager's Engine, which follows leadership: the follower engine (503,
// "this node does not lead") while another manager leads; the leader's
// engine (open_leader_engine, then restore(), which adopts every replica
// from the nodes' reports) from the moment this node takes the leader key;
// back to following when it loses the key (its lease ended while it was cut
// off: another manager may lead by now, and two schedulers would fight over
// every replica). Containers are untouched by a change: they belong to
// their nodes' assignment runners.
//
// Each call goes to the engine that is current when it starts; calls still
// waiting on a replaced engine have their waits interrupted (ECANCELED).
// One thread checks leadership every 250 ms; another, while this node leads,
// keeps etcd's raft leader on another manager (raft_handoff.h). They are
// apart because a handoff's etcd calls may take seconds, and a lost lead
// must be noticed within the 250 ms all the same.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "orchestrator/daemon/cluster/node_host.h"
#include "orchestrator/daemon/engine/engine.h"

namespace stack::orch {

class LeadingEngine final : public Engine {
 public:
  // Waits up to `first_wait` for this node to lead (a restarted leader takes
  // its own key back at once), opening and restoring the leader's engine if
  // it does; then follows leadership. `cluster` and `host` outlive it.
  static stack::Result<std::unique_ptr<LeadingEngine>> start(const EngineOptions& options, ClusterNode& cluster,
                                                             NodeHost& host, std::chrono::milliseconds first_wait);
  ~LeadingEngine() override;

  stack::Result<void> restore() override { return {}; }  // done by start() and on every promotion
  stack::Result<std::vector<ReplicaView>> up(const compose::Project& p, const UpOptions& o) override {
    return current()->up(p, o);
  }
  stack::Result<void> down(const std::string& s, bool v) override { return current()->down(s, v); }
  stack::Result<void> stop(const std::string& s, const std::vector<std::string>& v) override {
    return current()->stop(s, v);
  }
  stack::Result<void> start(const std::string& s, const std::vector<std::string>& v) override {
    return current()->start(s, v);
  }
  stack::Result<void> restart(const std::string& s, const std::vector<std::string>& v) override {
    return current()->restart(s, v);
  }
  stack::Result<void> scale(const std::string& s, const std::map<std::string, int>& r) override {
    return current()->scale(s, r);
  }
  stack::Result<void> rollback(const std::string& s, const std::string& service) override {
    return current()->rollback(s, service);
  }
  stack::Result<std::string> plan(const compose::Project& p) override { return current()->plan(p); }
  stack::Result<compose::Project> rollback_target(const std::string& s, const std::string& service) override {
    return current()->rollback_target(s, service);
  }
  std::vector<StackView> stacks() override { return current()->stacks(); }
  stack::Result<compose::Project> project(const std::string& s) override { return current()->project(s); }
  stack::Result<std::vector<ReplicaView>> ps(const std::string& s) override { return current()->ps(s); }
  stack::Result<void> logs(const std::string& s, const LogOptions& o, const std::function<bool(const LogLine&)>& sink,
                           const std::atomic<bool>& cancel) override {
    return current()->logs(s, o, sink, cancel);
  }
  stack::Result<std::unique_ptr<ExecSession>> exec(const ExecRequest& r) override { return current()->exec(r); }
  stack::Result<std::unique_ptr<ExecSession>> attach(const ExecRequest& r) override { return current()->attach(r); }
  stack::Result<std::unique_ptr<ExecSession>> run(const ExecRequest& r, bool rm) override {
    return current()->run(r, rm);
  }
  stack::Result<std::string> top(const std::string& s) override { return current()->top(s); }
  stack::Result<std::string> stats(const std::string& s) override { return current()->stats(s); }
  stack::Result<std::string> autoscale(const std::string& s) override { return current()->autoscale(s); }
  Subscription subscribe(uint64_t since, std::function<void(const Event&)> sink) override;
  void shutdown() override;
  void interrupt_waits() override;

 private:
  LeadingEngine(const EngineOptions& options, ClusterNode& cluster, NodeHost& host)
      : options_(options), cluster_(cluster), host_(host) {}
  std::shared_ptr<Engine> current();
  std::shared_ptr<Engine> follower() const;
  // Opens and restores the leader's engine; false (and a log line) on failure.
  bool lead();
  void step_down();
  void watch();
  void handoff_loop();
  void keep_raft_leader_elsewhere();

  const EngineOptions options_;
  ClusterNode& cluster_;
  // etcd member name -> when keep_raft_leader_elsewhere() first saw it
  // (handoff_loop's thread only).
  std::map<std::string, std::chrono::steady_clock::time_point> members_seen_;
  bool members_baseline_ = false;  // the first look was taken
  NodeHost& host_;
  std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  std::shared_ptr<Engine> engine_;
  bool leading_ = false;
  std::chrono::steady_clock::time_point leading_since_;  // when leading_ last became true
  bool stopping_ = false;
  bool interrupted_ = false;
  std::thread thread_;          // watch()
  std::thread handoff_thread_;  // handoff_loop()
};

}  // namespace stack::orch
