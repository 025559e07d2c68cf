// One stack's reconcile loop. A Supervisor owns the stack's desired state
// (project, scheduler spec, goal) and its observed replicas, and runs one
// thread that repeats: reconcile() (scheduler/reconcile.h) -> execute the
// actions through LocalNode -> persist -> sleep until the decision's wake_at,
// the next health probe, or a kick (container exit, probe result, user op).
// There is no polling: a crashed replica is restarted at exactly the time
// the restart policy says.
//
// Concurrency: all state is under mu_. The loop thread releases it during
// blocking node calls (create_and_start, remove); node exit callbacks and
// probe results (thread pool) take it, update the replica, re-wire DNS and
// ports, and kick the loop. Actions for one stack run one at a time, on the
// loop thread only, so a slot never gets two containers.
//
// Restart: Docker restarts the same container; we create a new incarnation
// (new id, new netns, fresh writable layer) for the same slot with
// restart_count + 1, so a restart is a clean start. The old container's log
// files go with it.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "orchestrator/compose/model.h"
#include "orchestrator/daemon/engine.h"
#include "orchestrator/daemon/events.h"
#include "orchestrator/daemon/local_node.h"
#include "orchestrator/daemon/netwiring.h"
#include "orchestrator/daemon/replica_store.h"
#include "scheduler/model.h"

namespace stack::orch {

struct SupervisorContext {
  const EngineOptions& options;
  LocalNode& node;
  NetWiring& wiring;
  EventBus& events;
  StateStore& store;
  boost::asio::thread_pool& pool;
};

// The plan for one incarnation of (service, slot). Pure.
ReplicaPlan make_plan(const compose::Project& project, const std::string& service, int slot,
                      const std::string& id, const std::map<std::string, net::NetworkInfo>& networks,
                      const std::string& volume_root);
// "<stack>-<service>-<slot>" or container_name.
std::string replica_name(const compose::Project& project, const compose::Service& service, int slot);
int signal_number(const std::string& name);
// Host dir of a named volume: <volume_root>/<stack>_<key> (external: its name).
std::string volume_dir(const compose::Project& project, const std::string& key, const std::string& volume_root);  // "SIGTERM", "TERM", "15"; 0 when unknown

struct StackDesired {
  compose::Project project;
  sched::StackSpec spec;
  sched::StackGoal goal = sched::StackGoal::Up;
  std::map<std::string, net::NetworkInfo> networks;  // compose key -> network
};

class Supervisor {
 public:
  Supervisor(SupervisorContext ctx, StackDesired desired, std::vector<ReplicaRecord> replicas);
  ~Supervisor();  // stops the loop; containers keep running

  // Starts the loop; for adopted replicas that are Running, watches exits.
  void start();
  void stop_loop();

  void update(StackDesired desired);
  void set_goal(sched::StackGoal goal);
  sched::StackGoal goal();
  compose::Project project();
  StackDesired desired();

  // `stack stop`: marks the replicas of `services` (empty: all) stopped by
  // the user and sends their stop signal; `stack start`/`up`: clears the mark
  // and asks for a start of exited ones.
  void user_stop(const std::vector<std::string>& services);
  void user_start(const std::vector<std::string>& services);

  // Blocks until every slot of `services` (empty: all) has started at least
  // once (healthy: is running and healthy or has no check) and no slot above
  // a service's replica count is left, or a hard failure (create error, a
  // dependency that failed), or `deadline_ms` (0 = none).
  rt::Result<void> wait_settled(const std::vector<std::string>& services, bool healthy, int64_t deadline_ms);
  // Blocks until the replicas of `services` are no longer running.
  rt::Result<void> wait_stopped(const std::vector<std::string>& services, int64_t deadline_ms);
  // Blocks until no replica has a container.
  rt::Result<void> wait_gone(int64_t deadline_ms);
  // stackd is stopping: every wait_* above returns ECANCELED now and from
  // then on (the API server joins the threads blocked in them before the
  // loops stop). Supervision itself goes on until stop_loop().
  void interrupt_waits();

  std::vector<ReplicaRecord> replicas();
  // Drops every record (down, after wait_gone or a forced removal).
  std::vector<std::string> container_ids();
  void forget_all();

 private:
  using Slot = std::pair<std::string, int>;
  void loop();
  // Runs one action; returns whether it changed anything.
  bool execute(std::unique_lock<std::mutex>& lk, const sched::Action& a);
  bool do_create(std::unique_lock<std::mutex>& lk, const std::string& service, int slot, bool policy_restart,
                 const std::string& reason);
  bool do_remove(std::unique_lock<std::mutex>& lk, const sched::Action& a);
  void on_exit(const std::string& id, const ExitInfo& info);
  void on_probe(const std::string& id, const sched::ProbeResult& result);
  int64_t schedule_probes(int64_t now);  // returns the next probe time (INT64_MAX: none)
  void watch(const std::string& id);
  void rewire();  // DNS + port backends from the replica set (mu_ held)
  void save(const ReplicaRecord& r);
  void emit(const std::string& type, const std::string& service, const std::string& replica,
            std::map<std::string, std::string> attrs = {});
  const sched::ServiceSpec* service_spec(const std::string& name) const;
  ReplicaRecord* find_by_id(const std::string& id);
  bool selected(const std::vector<std::string>& services, const std::string& s) const;

  SupervisorContext ctx_;
  std::mutex mu_;
  std::condition_variable kick_cv_;     // wakes the loop
  std::condition_variable changed_cv_;  // wakes waiters after any change
  bool kicked_ = false;
  bool quit_ = false;
  bool interrupted_ = false;  // interrupt_waits()
  StackDesired desired_;
  std::map<Slot, ReplicaRecord> replicas_;
  std::map<Slot, std::string> errors_;   // last hard failure per slot (create failed)
  std::set<std::string> probing_;        // container ids with a probe in flight
  std::vector<std::string> blocked_;    // the last decision's blocked list
  std::set<std::string> killed_;         // container ids SIGKILLed already
  std::thread thread_;
  // Callbacks from node and pool threads reach the supervisor through this;
  // the destructor clears `self` under `m`, so a late callback does nothing.
  struct Guard {
    std::mutex m;
    Supervisor* self = nullptr;
  };
  std::shared_ptr<Guard> guard_ = std::make_shared<Guard>();
};

}  // namespace stack::orch
