// One stack's reconcile loop. A Supervisor owns the stack's desired state
// (project, scheduler spec, goal) and its observed replicas, and runs one
// thread that repeats: reconcile() (scheduler/reconcile.h, with placement
// over the node set) -> execute the actions through the nodes -> persist ->
// sleep until the decision's wake_at, the next health probe, or a kick
// (container exit, probe result, user op). There is no polling: a crashed
// replica is restarted at exactly the time the restart policy says.
//
// Nodes: a NodeDirectory (node_directory.h): one node, "local", on a single
// host; the cluster's nodes on its leader. Every Create/Restart goes to the
// node placement chose (feasibility, then ranking, over the directory's
// nodes at that pass); everything else about a replica (signals, probes,
// exits, removal) goes to the node its status names. A task whose node is
// known but not ready is lost and replaced (scheduler/reconcile.h).
//
// Concurrency: all state is under mu_. The loop thread releases it during
// blocking node calls (create_and_start, remove); node exit callbacks and
// probe results (thread pool) take it, update the replica, re-wire DNS and
// ports, and kick the loop. Actions for one stack run one at a time, on the
// loop thread only, so a slot never gets two containers.
//
// Tests drive the same code without the thread: step() is one pass of the
// loop at the clock's now (tests/unit/supervisor_table_test.cc, with a fake
// node and a fake clock).
//
// Restart: Docker restarts the same container; we create a new incarnation
// (new id, new netns, fresh writable layer) for the same slot with
// restart_count + 1, so a restart is a clean start. The old container's log
// files go with it.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "orchestrator/compose/model.h"
#include "orchestrator/daemon/engine/autoscale_store.h"
#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/engine/events.h"
#include "orchestrator/daemon/node/local_node.h"
#include "orchestrator/daemon/engine/netwiring.h"
#include "orchestrator/daemon/engine/node_directory.h"
#include "orchestrator/daemon/engine/replica_store.h"
#include "orchestrator/daemon/engine/supervisor_clock.h"
#include "scheduler/model.h"
#include "scheduler/placement.h"
#include "scheduler/rollout.h"
#include "scheduler/slots.h"

namespace stack::orch {

struct StackDesired;

struct SupervisorContext {
  const EngineOptions& options;
  std::shared_ptr<NodeDirectory> nodes;
  // Makes DNS and the published ports match the replica set (NetWiring::sync).
  std::function<void(const compose::Project&, const std::vector<WiredReplica>&)> wire;
  EventBus& events;
  StateStore& store;
  // Runs a health probe off the loop thread (the engine's thread pool).
  std::function<void(std::function<void()>)> run_probe;
  Clock& clock;
  // Whether placement holds replicas to every requirement (a cluster) or
  // only to their reservations against the host's capacity (one host:
  // constraints, max_replicas_per_node and spread are ignored, as Compose
  // ignores them without Swarm).
  bool enforce_requirements = false;
  // Rollbacks (supervisor_rollout.cc): the scheduler's spec of a project
  // (the engine's stack_spec(), with the images' health checks), its
  // published ports made to match it, and the stack's record written.
  // Unset: this supervisor cannot roll back (it says so).
  std::function<stack::Result<sched::StackSpec>(const compose::Project&)> respec;
  std::function<stack::Result<void>(const compose::Project&)> publish;
  std::function<stack::Result<void>(const StackDesired&)> save_desired;
};

// The plan for one incarnation of (service, slot). Pure.
ReplicaPlan make_plan(const compose::Project& project, const std::string& service, int slot,
                      const std::string& id, const std::map<std::string, net::NetworkInfo>& networks,
                      const std::string& volume_root);
// "<stack>-<service>-<slot>" or container_name.
std::string replica_name(const compose::Project& project, const compose::Service& service, int slot);
int signal_number(const std::string& name);  // "SIGTERM", "TERM", "15"; 0 when unknown
// Host dir of a named volume: <volume_root>/<stack>_<key> (external: its name).
std::string volume_dir(const compose::Project& project, const std::string& key, const std::string& volume_root);

// The project of `desired` with `service` as it was before its last change
// (StackDesired::previous), its replica count kept: what a rollback runs.
stack::Result<compose::Project> with_previous(const StackDesired& desired, const std::string& service);

// The services that no node can take, with why ("no node satisfies: ..."),
// from a decision's blocked lines (placement's "<service> blocked: no node
// satisfies: ..."). The one reader of that line's shape.
std::map<std::string, std::string> unplaced_services(const std::vector<std::string>& blocked);

struct StackDesired {
  compose::Project project;
  sched::StackSpec spec;
  sched::StackGoal goal = sched::StackGoal::Up;
  std::map<std::string, net::NetworkInfo> networks;  // compose key -> network
  // service -> its definition before the last change of its config (the
  // project JSON's services entry, as text): what `stack rollback` and
  // failure_action: rollback return to (Swarm's PreviousSpec).
  std::map<std::string, std::string> previous;
};

class Supervisor {
 public:
  // `rollouts`: the rolling updates stored for the stack (rollout_store.h).
  Supervisor(SupervisorContext ctx, StackDesired desired, std::vector<ReplicaRecord> replicas,
             std::map<std::string, sched::Rollout> rollouts = {});
  ~Supervisor();  // stops the loop; containers keep running

  // Watches exits of adopted replicas that are Running and wires them; then
  // (start) runs the loop thread, or (adopt only) leaves the stepping to the
  // caller.
  void start();
  void adopt();
  void stop_loop();

  // One pass of the loop at the clock's now: reconcile, schedule the probes
  // that are due, execute the actions. `progress`: an action changed
  // something (the loop goes again at once); `wake_at`: when the next pass
  // is needed if nothing happens before (INT64_MAX: only on a kick). Only
  // for a supervisor without the loop thread (adopt(), not start()).
  struct Pass {
    bool progress = false;
    int64_t wake_at = INT64_MAX;
  };
  Pass step();

  // `resume`: a paused rolling update of a service whose config is
  // unchanged goes on (`stack up` again, as `docker service update` does).
  void update(StackDesired desired, bool resume = false);
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
  // dependency that failed, no node for it), or `deadline_ms` (0 = none).
  // With `rollouts_after` (a rollout_serial() from before the change), a
  // rolling update begun since that pauses fails the wait with its reason,
  // and one rolled back by its failure_action fails it once the rollback
  // is done.
  stack::Result<void> wait_settled(const std::vector<std::string>& services, bool healthy, int64_t deadline_ms,
                                   uint64_t rollouts_after = UINT64_MAX);
  // Blocks until the replicas of `services` are no longer running.
  stack::Result<void> wait_stopped(const std::vector<std::string>& services, int64_t deadline_ms);
  // Blocks until no replica has a container.
  stack::Result<void> wait_gone(int64_t deadline_ms);
  // stackd is stopping: every wait_* above returns ECANCELED now and from
  // then on (the API server joins the threads blocked in them before the
  // loops stop). Supervision itself goes on until stop_loop().
  void interrupt_waits();
  // The node set changed (a node joined, went down or came back): reconcile now.
  void kick();

  std::vector<ReplicaRecord> replicas();

  // Rolling updates (supervisor_rollout.cc). rollback(): `stack rollback
  // SERVICE`: the service's previous definition becomes its spec again and
  // its replicas go back batch by batch under rollback_config.
  stack::Result<void> rollback(const std::string& service);
  uint64_t rollout_serial();
  std::map<std::string, sched::Rollout> rollouts();
  // x-autoscale (supervisor_autoscale.cc): each autoscaled service's
  // decision state and last reading.
  std::map<std::string, AutoscaleRecord> autoscaling();
  // unplaced_services() of the last reconcile.
  std::map<std::string, std::string> unplaced();
  // The slots each service should have now (sched::target_slots() over the
  // nodes of the last pass): 1..replicas, or one per eligible node.
  std::map<std::string, std::vector<sched::SlotTarget>> slot_targets();
  // Drops every record (down, after wait_gone or a forced removal).
  std::vector<std::string> container_ids();
  void forget_all();

 private:
  using Slot = std::pair<std::string, int>;            // (service, slot)
  using Task = std::tuple<std::string, int, int>;      // (service, slot, incarnation)
  static Task task_of(const sched::ReplicaStatus& s) { return {s.service, s.slot, s.incarnation}; }
  // Exit code recorded when a node could not create or start a container
  // (docker run uses 125 for "the daemon failed").
  static constexpr int kCreateFailed = 125;
  void loop();
  Pass pass(std::unique_lock<std::mutex>& lk);
  // Runs one action; returns whether it changed anything.
  bool execute(std::unique_lock<std::mutex>& lk, const sched::Action& a);
  bool do_create(std::unique_lock<std::mutex>& lk, const sched::Action& a, bool restart);
  // supervisor_create.cc: do_create's steps, and batches of them.
  struct PreparedCreate {
    std::string service;
    int slot = 0;
    Task task;       // its record's key in replicas_
    std::string id;  // its container
    LocalNode* node = nullptr;
    ReplicaPlan plan;
    std::string old;  // the incarnation it replaces, removed around the launch ("" = none)
    Task old_task;
    LocalNode* old_node = nullptr;
    bool static_ip = false;  // the old one goes first: it holds the address
    stack::Result<ReplicaRuntime> started;
    std::string join_error;  // resolve_joins() failed: not launched, this is why
  };
  std::optional<PreparedCreate> prepare_create(const sched::Action& a, bool restart);
  static void launch(PreparedCreate& c);
  bool finish_create(std::unique_lock<std::mutex>& lk, PreparedCreate& c, bool rewire_now);
  bool batchable(const sched::Action& a) const;  // a Create on a node that takes creates together
  bool do_creates(std::unique_lock<std::mutex>& lk, const std::vector<sched::Action>& actions);
  // Records to write together: key -> JSON, nullopt = delete (the last say wins).
  using RecordBatch = std::map<std::string, std::optional<std::string>>;
  void write_records(RecordBatch& records);
  void drop_record(const sched::ReplicaStatus& s);  // the task's record deleted (or batched)
  bool do_remove(std::unique_lock<std::mutex>& lk, const sched::Action& a);
  void on_exit(const std::string& id, const ExitInfo& info);
  void on_probe(const std::string& id, const sched::ProbeResult& result);
  int64_t schedule_probes(int64_t now);  // returns the next probe time (INT64_MAX: none)
  void watch(LocalNode* node, const std::string& id);
  void rewire();  // DNS + port backends from the replica set (mu_ held)
  // supervisor_rollout.cc (mu_ held): starts, steps and stores each
  // service's rolling update; fills observed.replaceable and lowers `wake`.
  void step_rollouts(int64_t now, sched::ObservedStack& observed, int64_t& wake);
  stack::Result<void> roll_back(const std::string& service, bool automatic, const std::string& cause);
  void store_rollout(const std::string& service);  // rollouts_[service], or its deletion when absent
  // supervisor_autoscale.cc: asks the nodes for readings when the interval
  // is up (mu_ held; lowers `wake`); on_readings() decides and applies.
  struct Reading {
    int64_t at_ms = 0;  // wall clock when read
    uint64_t cpu_ns = 0, memory = 0, connections = 0;
    int64_t memory_limit = 0;  // 0 = none
  };
  void step_autoscale(int64_t now, int64_t& wake);
  void on_readings(std::map<std::string, Reading> readings);  // container id -> reading
  void save(const ReplicaRecord& r);
  void emit(const std::string& type, const std::string& service, const std::string& replica,
            std::map<std::string, std::string> attrs = {});
  const sched::ServiceSpec* service_spec(const std::string& name) const;
  ReplicaRecord* find_by_id(const std::string& id);
  ReplicaRecord* find_task(const sched::Action& a);
  // Each slot's current task (its highest incarnation) of `service`.
  sched::SlotMap current_tasks(const std::string& service) const;
  // The slot's current task (its highest incarnation); nullptr when it has none.
  ReplicaRecord* current_task(const std::string& service, int slot);
  // network_mode, pid and ipc "service:X" or "container:NAME" (NAME a
  // container_name of the stack) -> "container:<id>" of X's first replica,
  // which must be running on `node` (a namespace is a host's). Another
  // container:NAME goes to the node as it is. Returns why not, "" = done.
  std::string resolve_joins(ReplicaPlan& plan, const std::string& node);
  bool has_task(const std::string& service, int slot) const;
  std::vector<sched::SlotTarget> targets_of(const sched::ServiceSpec& service) const;  // mu_ held
  // nullptr when the node is not (or no longer) in the set.
  LocalNode* node_by_id(const std::string& id) const;
  // Known and not ready at the last pass: its tasks are lost.
  bool node_down(const std::string& id) const;
  // Ready with availability drain at the last pass: its tasks move off.
  bool node_drained(const std::string& id) const;
  bool selected(const std::vector<std::string>& services, const std::string& s) const;

  SupervisorContext ctx_;
  std::vector<sched::NodeInfo> node_infos_;  // the directory's nodes at the last pass (under mu_)
  std::mutex mu_;
  std::condition_variable kick_cv_;     // wakes the loop
  std::condition_variable changed_cv_;  // wakes waiters after any change
  bool kicked_ = false;
  bool quit_ = false;
  bool interrupted_ = false;  // interrupt_waits()
  StackDesired desired_;
  std::shared_ptr<const PlanSource> source_;  // desired_'s project and networks for plans; made on first use
  std::map<Task, ReplicaRecord> replicas_;  // every task; ordered by service, slot, incarnation
  std::map<Slot, std::string> errors_;   // last hard failure per slot (create failed)
  std::set<std::string> probing_;        // container ids with a probe in flight
  std::vector<std::string> blocked_;    // the last decision's blocked list
  std::set<std::string> killed_;         // container ids SIGKILLed already
  std::map<std::string, sched::Rollout> rollouts_;  // service -> its last rolling update
  uint64_t rollout_serial_ = 0;          // the last rollout's serial (rollouts_after)
  bool resume_paused_ = false;           // update(resume): the next pass resumes paused rollouts
  std::map<std::string, AutoscaleRecord> autoscale_;  // service -> its autoscaling memory
  bool autoscale_loaded_ = false;        // autoscale_ read from the store
  bool sampling_ = false;                // a reading is in flight
  int64_t autoscale_next_ = 0;           // when the next reading is due
  std::map<std::string, Reading> last_readings_;  // container id -> its previous reading
  RecordBatch* save_batch_ = nullptr;    // set by do_creates: save() and drop_record() add to it
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
