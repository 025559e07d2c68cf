// What a service's scheduling settings mean, with every string parsed: the
// typed task spec. stackd turns it into the scheduler's ServiceSpec
// (daemon/stack_spec.h) by mapping values, never by reading text.
//
// One parser per kind of value lives here and is used in two places with the
// same result: by the loader, field by field as it reads the file, so a bad
// value is "file:line:col: services.web.stop_signal: ..." (normalize_service,
// deploy); and by task_spec() on a Service that arrived another way (the JSON
// a client sends stackd, a Service built in code), where the error names the
// field path. A Service the loader accepted always has a task spec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/compose/model.h"
#include "base/error.h"

namespace stack::compose {

enum class RestartMode { No, Always, OnFailure, UnlessStopped };

// `restart:` or deploy.restart_policy (which wins when both are set, as in
// Compose).
struct RestartRule {
  RestartMode mode = RestartMode::No;
  std::optional<int> max_attempts;  // on-failure:N / restart_policy.max_attempts
  Millis delay = 0;                 // restart_policy.delay; 0 = the engine's backoff
  std::optional<Millis> window;     // restart_policy.window
};

enum class DependencyCondition { Started, Healthy, CompletedSuccessfully };

struct TaskDependency {
  std::string service;
  DependencyCondition condition = DependencyCondition::Started;
  bool restart = false;
  bool required = true;
};

enum class FailureAction { Pause, Continue, Rollback };
enum class UpdateOrder { StopFirst, StartFirst };

// deploy.update_config (and rollback_config, which has the same fields).
struct UpdateRule {
  int parallelism = 1;
  Millis delay = 0;
  FailureAction failure_action = FailureAction::Pause;
  UpdateOrder order = UpdateOrder::StopFirst;
  Millis monitor = 5000;
  std::optional<double> max_failure_ratio;
};

enum class ServiceMode { Replicated, Global, ReplicatedJob, GlobalJob };  // deploy.mode

// pull_policy (with pull_refresh_after), as Compose reads it. Refresh pulls
// when the image's name in the store was last pulled or loaded more than
// refresh_after ago: daily, weekly, every_<duration> and refresh with
// pull_refresh_after all come to that.
struct PullRule {
  enum class Mode { Missing, Always, Never, Build, Refresh };
  Mode mode = Mode::Missing;
  Millis refresh_after = 0;
};

struct TaskSpec {
  ServiceMode mode = ServiceMode::Replicated;
  int replicas = 1;  // replicated and replicated-job
  RestartRule restart;
  std::string stop_signal = "SIGTERM";  // as written (events and the container's annotation show it)
  int stop_signal_number = 15;
  Millis stop_grace = 10000;
  std::vector<TaskDependency> depends_on;  // by service name
  std::optional<UpdateRule> update_config;
  UpdateRule rollback_config;  // deploy.rollback_config, else Swarm's defaults
  PullRule pull;
  // Placement: what a node must have free and satisfy.
  double reserved_cpus = 0;
  uint64_t reserved_memory = 0;
  int64_t gpus = 0;  // from device requests with capability "gpu"; -1 = all
  std::vector<std::string> constraints;
  int max_replicas_per_node = 0;        // 0: no limit
  std::vector<std::string> spread;      // label keys to spread over, in order
};

// One value each; errors say what is wrong with the value, callers add where.
// `restart`: no | always | on-failure[:N] | unless-stopped.
stack::Result<RestartRule> parse_restart(const std::string& value);
// deploy.restart_policy.condition: none | on-failure | any.
stack::Result<RestartMode> parse_restart_condition(const std::string& value);
stack::Result<DependencyCondition> parse_dependency_condition(const std::string& value);
// rt::parse_signal: "SIGTERM", "TERM", "15"; "" is SIGTERM (unset).
stack::Result<int> parse_stop_signal(const std::string& value);
stack::Result<FailureAction> parse_failure_action(const std::string& value);  // continue | pause | rollback
stack::Result<UpdateOrder> parse_update_order(const std::string& value);      // stop-first | start-first
// Checks an UpdateConfig's values (parallelism >= 0, max_failure_ratio in
// [0, 1], failure_action, order); errors are "<field>: ...".
stack::Result<UpdateRule> update_rule(const UpdateConfig& config);
// pull_policy: always | never | missing | if_not_present | build | daily |
// weekly | every_<N><w|d|h|m|s>... | refresh (which needs refresh_after, the
// value of pull_refresh_after, a duration as every_ writes it or Go's).
stack::Result<PullRule> parse_pull_policy(const std::string& policy, const std::string& refresh_after);
// GPUs a device request asks for: count, else its device_ids; -1 = all.
int64_t requested_gpus(const DeviceRequest& request);

// deploy.restart_policy if set, else `restart`. Errors name the field:
// "services.web.restart: invalid restart policy ...".
stack::Result<RestartRule> restart_rule(const Service& service);
stack::Result<TaskSpec> task_spec(const Service& service);

}  // namespace stack::compose
