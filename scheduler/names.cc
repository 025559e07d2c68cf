// Text forms of the scheduler's enums (events, `stack ps`, JSON).
#include "scheduler/reconcile.h"

namespace stack::sched {

const char* to_string(ReplicaState s) {
  switch (s) {
    case ReplicaState::Pending: return "pending";
    case ReplicaState::Created: return "created";
    case ReplicaState::Running: return "running";
    case ReplicaState::Stopping: return "stopping";
    case ReplicaState::Exited: return "exited";
    case ReplicaState::Removed: return "removed";
  }
  return "?";
}

const char* to_string(Health h) {
  switch (h) {
    case Health::None: return "none";
    case Health::Starting: return "starting";
    case Health::Healthy: return "healthy";
    case Health::Unhealthy: return "unhealthy";
  }
  return "?";
}

const char* to_string(ActionKind k) {
  switch (k) {
    case ActionKind::Create: return "create";
    case ActionKind::Restart: return "restart";
    case ActionKind::Stop: return "stop";
    case ActionKind::Kill: return "kill";
    case ActionKind::Remove: return "remove";
  }
  return "?";
}

const char* to_string(StackGoal g) {
  switch (g) {
    case StackGoal::Up: return "up";
    case StackGoal::Stopped: return "stopped";
    case StackGoal::Down: return "down";
  }
  return "?";
}

const char* to_string(RestartMode m) {
  switch (m) {
    case RestartMode::No: return "no";
    case RestartMode::Always: return "always";
    case RestartMode::OnFailure: return "on-failure";
    case RestartMode::UnlessStopped: return "unless-stopped";
  }
  return "?";
}

const char* to_string(ProbeKind k) {
  switch (k) {
    case ProbeKind::None: return "none";
    case ProbeKind::Exec: return "exec";
    case ProbeKind::Http: return "http";
    case ProbeKind::Tcp: return "tcp";
  }
  return "?";
}

const char* to_string(DependencyCondition c) {
  switch (c) {
    case DependencyCondition::Started: return "service_started";
    case DependencyCondition::Healthy: return "service_healthy";
    case DependencyCondition::CompletedSuccessfully: return "service_completed_successfully";
  }
  return "?";
}

}  // namespace stack::sched
