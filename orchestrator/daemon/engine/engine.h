// The engine: stackd's brain and hands. It keeps each stack's desired state
// (a compose::Project and a goal) in the StateStore, observes its replicas
// (containers run by stack-shim through the runtime core), asks the
// scheduler what to do (scheduler/reconcile.h, health.h, restart.h) and does
// it: images (runtime/image), container bundles and specs, netns + endpoints
// + published ports + DNS (netplane), health probes, restarts with backoff.
//
// Threading: the engine owns its own io_context and thread(s); every public
// method is thread-safe and may block the caller (the API server calls them
// from per-connection threads), never the engine's loop.
//
// Who owns what: each container is held by its stack-shim (survives stackd);
// the engine owns the per-replica netns (/run/stack/netns/<id>), bundle dir
// (<root>/containers/<id>) and the state store entries. restore() re-adopts
// all of that after a daemon restart (live restore) or, when the shims are
// gone (host reboot), brings stacks back up in dependency order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/api/types.h"
#include "orchestrator/daemon/node/daemon_options.h"
#include "orchestrator/daemon/node/exec_session.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/daemon/store/state_store.h"
#include "base/error.h"
#include "base/fd.h"

namespace stack::orch {



struct ClusterEngineParts;  // engine_impl.h

class Engine {
 public:
  static stack::Result<std::unique_ptr<Engine>> open(const EngineOptions& options, StateStore& store);
  // The engine of a cluster's leader (engine_impl.h: ClusterEngineParts):
  // `store` is the cluster's; replicas go to the cluster's nodes.
  static stack::Result<std::unique_ptr<Engine>> open_leader(const EngineOptions& options, StateStore& store,
                                                            ClusterEngineParts parts);
  virtual ~Engine() = default;

  // Live restore; called once after open(), before the API serves.
  virtual stack::Result<void> restore() = 0;

  // Creates or updates the stack and returns once every wanted replica has
  // been started (in depends_on order, honouring conditions) or the first
  // hard failure (image missing, port taken, ...: then nothing of this call
  // is left). Progress goes out as events.
  virtual stack::Result<std::vector<ReplicaView>> up(const compose::Project& project,
                                                  const UpOptions& options) = 0;
  virtual stack::Result<void> down(const std::string& stack, bool remove_volumes) = 0;
  virtual stack::Result<void> stop(const std::string& stack, const std::vector<std::string>& services) = 0;
  virtual stack::Result<void> start(const std::string& stack, const std::vector<std::string>& services) = 0;
  virtual stack::Result<void> restart(const std::string& stack, const std::vector<std::string>& services) = 0;
  virtual stack::Result<void> scale(const std::string& stack, const std::map<std::string, int>& replicas) = 0;
  // `stack rollback SERVICE`: the service's previous definition becomes its
  // spec again, its replicas replaced under rollback_config; returns once
  // they all run it (or the rollback paused).
  virtual stack::Result<void> rollback(const std::string& stack, const std::string& service) {
    (void)stack;
    (void)service;
    return stack::fail("rollback: not supported by this daemon", ENOTSUP);
  }
  // `stack plan`: what up(project) would do, as JSON (stack_plan.h), done
  // nothing of.
  virtual stack::Result<std::string> plan(const compose::Project& project) {
    (void)project;
    return stack::fail("plan: not supported by this daemon", ENOTSUP);
  }
  // The project a rollback of `service` would run (for the authorization
  // gate, which checks it as it checks an up).
  virtual stack::Result<compose::Project> rollback_target(const std::string& stack, const std::string& service) {
    (void)stack;
    (void)service;
    return stack::fail("rollback: not supported by this daemon", ENOTSUP);
  }

  virtual std::vector<StackView> stacks() = 0;
  virtual stack::Result<compose::Project> project(const std::string& stack) = 0;
  virtual stack::Result<std::vector<ReplicaView>> ps(const std::string& stack) = 0;  // "" = all

  // Blocks (the caller's thread) delivering lines to `sink` until done, or
  // with follow until `sink` returns false or `cancel` becomes true.
  virtual stack::Result<void> logs(const std::string& stack, const LogOptions& options,
                                const std::function<bool(const LogLine&)>& sink,
                                const std::atomic<bool>& cancel) = 0;

  virtual stack::Result<std::unique_ptr<ExecSession>> exec(const ExecRequest& request) = 0;
  // `stack run --rm SERVICE CMD`: a one-off container of the service's spec
  // (same networks, no published ports), removed after with rm.
  virtual stack::Result<std::unique_ptr<ExecSession>> run(const ExecRequest& request, bool remove) = 0;
  // `stack attach SERVICE [--index N]`: the running replica's main process
  // (request.stack, service, index; the rest is unused). An engine that
  // cannot (a follower) refuses.
  virtual stack::Result<std::unique_ptr<ExecSession>> attach(const ExecRequest& request) {
    (void)request;
    return stack::fail("attach: not supported by this daemon", ENOTSUP);
  }

  // `stack top`: per replica the processes ({pid, user, cmd}); `stats`:
  // per replica cpu %, memory usage/limit, pids, net rx/tx (JSON text).
  virtual stack::Result<std::string> top(const std::string& stack) = 0;
  virtual stack::Result<std::string> stats(const std::string& stack) = 0;
  // `stack autoscale`: per autoscaled service its count, bounds, targets,
  // last reading and last change (JSON array text).
  virtual stack::Result<std::string> autoscale(const std::string& stack) {
    (void)stack;
    return stack::fail("autoscale: not supported by this daemon", ENOTSUP);
  }

  // Events: every event after `since_seq` so far, then live ones until the
  // returned subscription is dropped. The sink is called from engine threads.
  using Subscription = std::shared_ptr<void>;
  virtual Subscription subscribe(uint64_t since_seq, std::function<void(const Event&)> sink) = 0;

  // Stops loops (containers keep running: they belong to their shims).
  virtual void shutdown() = 0;
  // Before the API server joins its connection threads (SIGTERM): the calls
  // that wait for a stack to converge (up, scale, start, stop, down) return
  // ECANCELED instead of blocking the daemon's exit for a stop grace period
  // or for ever. What they asked for is in the store; the next stackd
  // carries it out.
  virtual void interrupt_waits() {}
};

}  // namespace stack::orch
