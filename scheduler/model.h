// What the scheduler reasons about: desired state (a stack's services as the
// scheduler needs them, nothing of YAML or kernels) and observed state (what
// the node(s) report of each replica), with wall-clock time passed in as
// milliseconds since the Unix epoch so that persisted history (restart counts,
// health logs, backoff) survives a daemon restart unchanged.
//
// Pure values. The daemon (orchestrator/daemon) converts the compose model
// into StackSpec, keeps ReplicaStatus in its state store, and executes the
// Actions that reconcile() returns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stack::sched {

using TimeMs = int64_t;  // ms since the Unix epoch (wall clock, passed in)
using Ms = int64_t;      // a duration in ms

enum class DependencyCondition { Started, Healthy, CompletedSuccessfully };

struct DependencySpec {
  std::string service;
  DependencyCondition condition = DependencyCondition::Started;
  bool restart = false;   // restart this service when the dependency is restarted
  bool required = true;   // false: a missing/failed dependency only warns
};

enum class RestartMode { No, Always, OnFailure, UnlessStopped };

struct RestartSpec {
  RestartMode mode = RestartMode::No;
  std::optional<int> max_attempts;  // on-failure:N / restart_policy.max_attempts
  Ms delay = 0;                     // fixed delay (restart_policy.delay); 0 = backoff
  std::optional<Ms> window;         // restart_policy.window
  Ms backoff_initial = 100;         // doubling from here...
  Ms backoff_cap = 60000;           // ...to here
  Ms stable_after = 10000;          // a run this long resets the streak
};

enum class ProbeKind { None, Exec, Http, Tcp };

struct HealthSpec {
  ProbeKind kind = ProbeKind::None;
  std::vector<std::string> exec;  // Exec: argv (CMD-SHELL already turned into /bin/sh -c)
  uint16_t port = 0;              // Http/Tcp
  std::string path = "/";         // Http
  int status_min = 200, status_max = 399;  // Http: healthy statuses
  Ms interval = 30000;
  Ms timeout = 30000;
  int retries = 3;
  Ms start_period = 0;
  Ms start_interval = 5000;
  bool restart_unhealthy = true;  // Swarm's behaviour (Compose never restarts); x- option
};

struct Requirements {  // placement
  double cpus = 0;        // reservations (0 = none)
  uint64_t memory = 0;    // bytes
  int64_t gpus = 0;       // -1 = all
  std::vector<std::string> constraints;  // "node.labels.k==v", "node.hostname!=x"
  int max_per_node = 0;                  // max_replicas_per_node (0: no limit)
  std::vector<std::string> spread;       // preferences: spread over these node label keys, in order
};

// deploy.mode. Global: one replica per eligible node (slots.h), following
// nodes as they come and go. Jobs: replicas that run to completion; a slot
// whose task exited 0 is complete and never started again (until its
// config changes); a failed one restarts per its policy (on-failure unless
// the file says none).
enum class ServiceMode { Replicated, Global, ReplicatedJob, GlobalJob };

// deploy.update_config / rollback_config with Swarm's meanings and defaults
// (rollout.h applies them).
enum class FailureAction { Pause, Continue, Rollback };

struct UpdatePolicy {
  int parallelism = 1;          // replicas replaced together; 0 = all at once
  Ms delay = 0;                 // after a batch settled, before the next one
  bool start_first = false;     // order: start-first (the old one serves until its successor does)
  FailureAction failure_action = FailureAction::Pause;
  Ms monitor = 5000;            // a new replica must run (and stay healthy) this long to count as updated
  double max_failure_ratio = 0; // failures tolerated, as a fraction of the service's replicas
};

struct ServiceSpec {
  std::string name;
  ServiceMode mode = ServiceMode::Replicated;
  int replicas = 1;  // Replicated, ReplicatedJob; a global service's count follows the nodes
  std::vector<DependencySpec> depends_on;
  RestartSpec restart;
  HealthSpec health;
  std::string stop_signal = "SIGTERM";
  Ms stop_grace = 10000;
  std::string config_hash;  // changes -> replicas are replaced (stop-first, or per `update`)
  // deploy.update_config: replace stale replicas batch by batch (rollout.h);
  // none: every stale replica at once, as Compose's `up` recreates them.
  std::optional<UpdatePolicy> update;
  UpdatePolicy rollback;    // deploy.rollback_config (Swarm's defaults)
  Requirements requirements;
  bool one_shot = false;    // nothing depends on it staying up (completed_successfully target)

  bool global() const { return mode == ServiceMode::Global || mode == ServiceMode::GlobalJob; }
  bool job() const { return mode == ServiceMode::ReplicatedJob || mode == ServiceMode::GlobalJob; }
};

struct StackSpec {
  std::string name;
  std::vector<ServiceSpec> services;
};

enum class ReplicaState {
  Pending,   // slot exists, no container yet
  Created,   // container created, not started
  Running,
  Stopping,  // stop signal sent, waiting for exit or grace
  Exited,
  Removed,
};

enum class Health { None, Starting, Healthy, Unhealthy };

struct ProbeResult {
  TimeMs start = 0;
  TimeMs end = 0;
  int exit_code = 0;  // 0 healthy; non-zero unhealthy (timeouts count as failures)
  std::string output; // first 4 KiB, as Docker keeps
};

struct HealthStatus {
  Health health = Health::None;
  int failing_streak = 0;
  std::vector<ProbeResult> log;  // last 5, as Docker keeps
  TimeMs next_probe_at = 0;      // 0 = none scheduled
  // The readiness phase (health.h): the time of the normal schedule's first
  // probe, and how many quick probes came before it. 0 = no readiness phase.
  TimeMs first_scheduled_at = 0;
  int readiness_probes = 0;
};

struct ReplicaStatus {
  std::string stack;
  std::string service;
  int slot = 1;                  // replica number, 1-based: <stack>-<service>-<slot>
  // The task: one incarnation of the slot (one container over its life).
  // (service, slot, incarnation) names it; every new container of the slot
  // (policy restart, new config, re-created after a reboot) is a new task
  // with the next incarnation, so a slot may hold an old and a new task at
  // once (during a restart's teardown, later a start-first update). The slot's current task
  // is its highest incarnation; older ones are superseded and only stopped
  // and removed. Names, DNS and `ps` show the slot, never the incarnation.
  int incarnation = 1;
  std::string container_id;      // "" while Pending
  std::string node;              // node id ("local" on one node)
  std::string config_hash;       // of the spec it was created from
  ReplicaState state = ReplicaState::Pending;
  HealthStatus health;
  int exit_code = 0;
  bool oom_killed = false;
  TimeMs created_at = 0;
  TimeMs started_at = 0;
  TimeMs finished_at = 0;
  TimeMs stop_requested_at = 0;  // Stopping: when the stop signal went out
  int restart_count = 0;         // restarts done by policy (shown in ps)
  int restart_streak = 0;        // consecutive failed runs, for backoff
  std::vector<TimeMs> restart_times;  // when policy restarts happened (newest last,
                                      // trimmed): restart_policy.window counts these
  bool stopped_by_user = false;  // `stack stop`: never undone by a restart policy
  bool start_requested = false;  // `stack start`/`up` on an Exited replica: start it
                                 // once (dependency-gated) whatever the restart policy
                                 // says; the daemon clears it (and stopped_by_user)
                                 // when it starts the container
};

// A job's task that ran to completion: exited 0, not killed for memory.
inline bool job_complete(const ServiceSpec& s, const ReplicaStatus& r) {
  return s.job() && r.state == ReplicaState::Exited && r.exit_code == 0 && !r.oom_killed;
}

// What the daemon wants of the stack as a whole.
enum class StackGoal { Up, Stopped, Down };

struct ObservedStack {
  std::vector<ReplicaStatus> replicas;  // every task, several per slot at times
  // Rolling updates (rollout.h): service -> the slots whose stale task may
  // be replaced now (the batch in flight). A service not listed replaces
  // every stale task at once. A stale task not allowed is left as it is
  // (restarted by its policy if it exits, from the spec there is now).
  struct Replacing {
    std::set<int> slots;
    bool start_first = false;  // the new task first; the old one stops once it serves
  };
  std::map<std::string, Replacing> replaceable;
};

enum class ActionKind {
  Create,   // a new task for (service, slot): make its container and start it
  Restart,  // replace the exited task of (service, slot) with the next incarnation
            // (policy restart, start requested)
  Stop,     // send stop_signal; the daemon escalates by calling reconcile again
  Kill,     // SIGKILL: grace expired
  Remove,   // delete the (exited) container and its task
};

struct Action {
  ActionKind kind = ActionKind::Create;
  std::string service;
  int slot = 1;
  int incarnation = 0;  // the task acted on; 0: Create of a slot that has no task
  std::string container_id;
  std::string signal;   // Stop: the service's stop_signal
  std::string reason;   // human text for events: "scale 3->1", "exit 1, on-failure"
  bool policy_restart = false;  // Restart by restart policy: the daemon records it
                                // with note_restart() (restart.h) when it starts it
  bool keep_old = false;        // Create: the slot's running task keeps running, superseded
                                // (a drained node, a start-first update) until this one serves
  std::string node;             // Create/Restart: the node placement chose
                                // (placement.h); "" from reconcile() without nodes
};

struct Decision {
  std::vector<Action> actions;
  std::optional<TimeMs> wake_at;  // call reconcile again no later than this
  std::vector<std::string> blocked;  // "web waits for db (service_healthy)" for progress output
  std::vector<std::string> warnings; // optional (required: false) dependency missing/failed
};

}  // namespace stack::sched
