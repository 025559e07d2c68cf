// reconcile(): one pass of desired vs observed at `now`.
//
// Every goal:
// - A Stopping replica whose stop_requested_at + stop_grace has passed gets
//   Kill (again on every pass until it exits: Kill is idempotent); until then
//   wake_at is its deadline.
//
// Up, per service in dependency order (slot = replica number):
// - Slots 1..replicas without a container (absent, Pending, Removed) are
//   created once every dependency's gate (deps.h) is met. A dependency still
//   coming makes the service wait ("web waits for db (service_healthy): db-1
//   is starting"); a required one that never will (exited for good,
//   unhealthy without replacement, itself blocked, undefined, in a cycle)
//   leaves the slots Pending with that reason in `blocked`; an optional one
//   (required: false) that is missing or failed is skipped with a warning
//   (one still coming is waited for, as Compose does).
// - A Created container (created but never started, e.g. a daemon crash in
//   between) is started with Restart once the gate is met.
// - A replica whose config_hash differs is replaced stop-first: Stop while
//   running, then Remove and Create (gated) once Exited. Under a rolling
//   update (observed.replaceable, rollout.h) only the batch's slots are
//   replaced, and with start-first a running one gets a Create of the next
//   incarnation instead (its old task is then superseded, stopped once the
//   new one serves); the other stale tasks are left running.
// - An Exited replica: stopped_by_user -> left alone (even when stale: the
//   daemon clears the flag on `stack start`/`up`); start_requested ->
//   Restart (gated, not a policy restart); stopped by the scheduler (a
//   scale down, a node no longer eligible: stop_requested_at set) and wanted
//   again before it was removed -> Restart (gated); else restart_decision(): due ->
//   Restart (policy_restart), later -> wake_at. Restarts are not gated on
//   dependencies (Docker restarts containers without looking at others).
// - A Running replica that is Unhealthy is stopped (reason "unhealthy") when
//   replace_unhealthy() says so: health.restart_unhealthy and a restart policy
//   that would restart it. Its exit then counts as a failure (restart.h) even
//   under on-failure with exit 0, so the normal restart path brings it back
//   with backoff: Swarm replaces unhealthy tasks whatever the condition,
//   except that here policy `no` means "leave it running, unhealthy"
//   (Compose's behaviour) rather than stopping it for good.
// - Slots above replicas: Running -> Stop (highest slot first), then once
//   Exited (or never started, or a bare Pending record) -> Remove. Services
//   observed but no longer desired are scaled to 0 the same way.
//
// Global services (slots.h): the slots are one per eligible node, each
// pinned to its node (Create and Restart carry it; placement puts it there
// or nowhere). A task on a node that is no longer eligible (down, drained,
// no longer meeting the constraints) is scaled down like a slot above
// `replicas`; nothing replaces it elsewhere. No eligible node at all is
// one blocked line from place().
//
// Jobs: a current task that completed (exited 0) is left alone, also when
// its node is down; only a config change runs it again. One that failed
// restarts per its policy (the daemon makes it on-failure by default).
//
// Superseded tasks (a slot's tasks below its highest incarnation), whatever
// the goal: Running -> Stop, then once Exited (or never started) -> Remove;
// never restarted. The slot's current task is the only one the rules above
// see.
//
// Lost tasks (with nodes: a task on a node that is known but not ready, its
// node's heartbeat gone, or on a node the list no longer has: removed):
// nothing can stop or start it, so it is treated as gone. A lost current task gets a Create (the next incarnation, placed on a
// ready node; Swarm's replacement of tasks on a down node, whatever the
// restart policy); a lost superseded task, and under Stopped/Down any lost
// task, gets Remove at once (no Stop/Kill first: the daemon forgets it and
// the node removes the container when it returns). Their Stopping deadlines
// do not apply.
//
// Drained tasks (with nodes: a Running current task on a ready node whose
// availability is drain) get a Create: the next incarnation, placed on
// another node. The drained task is then superseded; under Up a superseded
// Running task is stopped only once its slot's current task runs and is
// healthy (or has no check): start-first, so the slot keeps serving. (Other
// superseded Running tasks are those of lost nodes, removed above.)
//
// Stopped / Down, services in reverse dependency order: a Running replica
// gets Stop only once no direct dependent has a replica Running or Stopping
// (services in or behind a cycle are not held back: no deadlock). Nothing is
// restarted. Down also Removes every replica once it is Exited, Created or a
// Pending record.
#include "scheduler/reconcile.h"

#include <algorithm>
#include <optional>
#include <set>

#include "scheduler/deps.h"
#include "scheduler/restart.h"
#include "scheduler/slots.h"

namespace stack::sched {

namespace {

constexpr Ms kOrphanGrace = 10000;  // Docker's default stop timeout

struct Ranked {
  int rank = 0;  // position of the service in dependency order
  Action action;
};

class Pass {
 public:
  Pass(const StackSpec& desired, const ObservedStack& observed, TimeMs now, const std::vector<NodeInfo>* nodes,
       std::set<std::string> down_nodes, std::set<std::string> drained_nodes)
      : desired_(desired),
        observed_(observed),
        now_(now),
        nodes_(nodes),
        order_(dependency_order(desired)),
        down_(std::move(down_nodes)),
        drained_(std::move(drained_nodes)) {
    // A slot's current task is its highest incarnation; the rest are superseded.
    for (const ReplicaStatus& r : observed.replicas) {
      auto [it, fresh] = slots_[r.service].emplace(r.slot, &r);
      if (fresh) continue;
      if (r.incarnation > it->second->incarnation) std::swap(it->second, superseded_.emplace_back(&r));
      else superseded_.push_back(&r);
    }
    for (size_t i = 0; i < order_.order.size(); i++) {
      rank_[order_.order[i]] = static_cast<int>(i);
      if (i >= order_.sorted) cyclic_.insert(order_.order[i]);
    }
    if (nodes_)
      for (const NodeInfo& n : *nodes_) known_.insert(n.id);
    for (const ServiceSpec& sv : desired_.services) targets_[sv.name] = target_slots(sv, slots_of(sv.name), nodes_);
    // Orphans rank last: they are stopped first, as dependents of anything.
    int next = static_cast<int>(order_.order.size());
    for (const auto& [service, slots] : slots_)
      if (!spec(service)) {
        orphans_.push_back(service);
        rank_[service] = next++;
      }
  }

  Decision run(StackGoal goal) {
    kill_expired();
    retire_superseded(goal == StackGoal::Up);
    if (goal == StackGoal::Up) {
      for (const std::string& name : order_.order) up_service(*spec(name));
      for (const std::string& name : orphans_) {
        ServiceSpec gone;
        gone.name = name;
        scale_down(gone, {}, "service removed from stack");
      }
    } else {
      stop_all(goal == StackGoal::Down);
    }
    return finish();
  }

 private:
  const ServiceSpec* spec(const std::string& name) const {
    for (const ServiceSpec& s : desired_.services)
      if (s.name == name) return &s;
    return nullptr;
  }

  const SlotMap& slots_of(const std::string& service) const {
    static const SlotMap none;
    auto it = slots_.find(service);
    return it == slots_.end() ? none : it->second;
  }

  // On a node that is known and down, or that the node list no longer has
  // (removed from the cluster): unreachable, to be replaced.
  bool lost(const ReplicaStatus* r) const {
    if (!r || r->node.empty() || r->state == ReplicaState::Pending || r->state == ReplicaState::Removed) return false;
    if (down_.count(r->node)) return true;
    return !known_.empty() && !known_.count(r->node);
  }

  std::vector<int> slot_numbers(const std::string& service) const {
    std::vector<int> out;
    if (auto it = targets_.find(service); it != targets_.end())
      for (const SlotTarget& t : it->second) out.push_back(t.slot);
    return out;
  }

  // The rolling update's batch of `service`; nullptr: every stale task may go.
  const ObservedStack::Replacing* replacing(const std::string& service) const {
    auto it = observed_.replaceable.find(service);
    return it == observed_.replaceable.end() ? nullptr : &it->second;
  }

  bool drained(const ReplicaStatus* r) const {
    return r && r->state == ReplicaState::Running && drained_.count(r->node) && !lost(r);
  }

  // The slot's current task runs and is healthy (or unchecked).
  bool serving(const std::string& service, int slot) const {
    auto it = slots_.find(service);
    if (it == slots_.end()) return false;
    auto s = it->second.find(slot);
    if (s == it->second.end()) return false;
    const ReplicaStatus* r = s->second;
    return r->state == ReplicaState::Running && !lost(r) &&
           (r->health.health == Health::None || r->health.health == Health::Healthy);
  }

  void wake(TimeMs t) {
    if (t > now_ && (!decision_.wake_at || t < *decision_.wake_at)) decision_.wake_at = t;
  }

  void emit(std::vector<Ranked>& into, ActionKind kind, const ReplicaStatus* r,
            const std::string& service, int slot, std::string reason) {
    Action a;
    a.kind = kind;
    a.service = service;
    a.slot = slot;
    a.incarnation = r ? r->incarnation : 0;
    a.container_id = r ? r->container_id : "";
    a.reason = std::move(reason);
    if (kind == ActionKind::Stop) {
      const ServiceSpec* s = spec(service);
      a.signal = s ? s->stop_signal : "SIGTERM";
    }
    into.push_back({rank_[service], std::move(a)});
  }

  void kill_expired() {
    auto check = [&](const ReplicaStatus* r) {
      if (r->state != ReplicaState::Stopping || lost(r)) return;
      const ServiceSpec* s = spec(r->service);
      Ms grace = s ? s->stop_grace : kOrphanGrace;
      TimeMs deadline = r->stop_requested_at + grace;
      if (now_ >= deadline)
        emit(kills_, ActionKind::Kill, r, r->service, r->slot,
             "stop grace " + std::to_string(grace) + " ms expired");
      else
        wake(deadline);
    };
    for (const auto& [service, slots] : slots_)
      for (const auto& [slot, r] : slots) check(r);
    for (const ReplicaStatus* r : superseded_) check(r);
  }

  void retire_superseded(bool start_first) {
    for (const ReplicaStatus* r : superseded_) {
      if (lost(r))
        emit(removes_, ActionKind::Remove, r, r->service, r->slot, "superseded, node " + r->node + " is down");
      else if (r->state == ReplicaState::Running && start_first && !serving(r->service, r->slot))
        continue;  // its successor is not serving yet
      else if (r->state == ReplicaState::Running)
        emit(stops_, ActionKind::Stop, r, r->service, r->slot, "superseded");
      else if (r->state != ReplicaState::Stopping)
        emit(removes_, ActionKind::Remove, r, r->service, r->slot, "superseded");
    }
  }

  // The dependency gate of a whole service: "" when its slots may be created,
  // else the text for `blocked` ("waits for ..." or "blocked: ..."); a
  // required dependency that will never be met also records stuck_ so that
  // this service's own dependents fail in turn instead of waiting forever.
  std::string gate(const ServiceSpec& s) {
    if (cyclic_.count(s.name)) {
      stuck_[s.name] = "in or behind dependency cycle " + order_.cycle;
      return "blocked: " + stuck_[s.name];
    }
    std::string waits;
    for (const DependencySpec& d : s.depends_on) {
      std::string label = d.service + " (" + to_string(d.condition) + ")";
      const ServiceSpec* dep = spec(d.service);
      Gate g = dep ? dependency_gate(d.condition, *dep, slot_numbers(d.service), slots_of(d.service), stuck_[d.service])
                   : Gate{GateState::Failed, "undefined service " + d.service};
      if (g.state == GateState::Met) continue;
      if (g.state == GateState::Failed) {
        if (!d.required) {
          decision_.warnings.push_back(s.name + ": optional dependency " + label +
                                       " skipped: " + g.why);
          continue;
        }
        stuck_[s.name] = "needs " + label + ": " + g.why;
        return "blocked: " + stuck_[s.name];
      }
      waits += (waits.empty() ? "" : "; ") + label + ": " + g.why;
    }
    return waits.empty() ? "" : "waits for " + waits;
  }

  // A service's gate, asked only when one of its slots wants to start (so a
  // running service repeats no warnings); `held` once it said no.
  struct Starting {
    std::optional<std::string> wait;
    bool held = false;
  };

  bool may_start(const ServiceSpec& s, Starting& st) {
    if (!st.wait) st.wait = gate(s);
    st.held = st.held || !st.wait->empty();
    return st.wait->empty();
  }

  void up_service(const ServiceSpec& s) {
    const SlotMap& slots = slots_of(s.name);
    const std::vector<SlotTarget>& targets = targets_[s.name];
    Starting st;
    std::string node;  // the slot's node, for a global service
    auto pin = [&](std::vector<Ranked>& into) {
      if (!node.empty()) into.back().action.node = node;
    };
    // keep_old: the slot's running task stays, superseded, until this one
    // serves (a drained node, a start-first update).
    auto create = [&](const ReplicaStatus* r, int slot, const std::string& reason, bool keep_old = false) {
      if (!may_start(s, st)) return;
      emit(creates_, ActionKind::Create, r, s.name, slot, reason);
      pin(creates_);
      creates_.back().action.keep_old = keep_old;
    };
    auto restart = [&](const ReplicaStatus* r, const std::string& reason) {
      emit(restarts_, ActionKind::Restart, r, s.name, r->slot, reason);
      pin(restarts_);
    };
    for (const SlotTarget& t : targets) {
      const int slot = t.slot;
      node = t.node;
      auto it = slots.find(slot);
      const ReplicaStatus* r = it == slots.end() ? nullptr : it->second;
      std::string of = s.global() ? "replica on " + (node.empty() ? std::string("this node") : node)
                                  : "replica " + std::to_string(slot) + "/" + std::to_string(s.replicas);
      if (!r || r->state == ReplicaState::Pending || r->state == ReplicaState::Removed) {
        create(r, slot, of);
        continue;
      }
      const ObservedStack::Replacing* batch = replacing(s.name);
      bool stale = r->config_hash != s.config_hash && (!batch || batch->slots.count(slot));
      if (job_complete(s, *r) && !stale) continue;  // the job ran; wherever its node is now
      if (lost(r)) {
        create(r, slot, "node " + r->node + " is down, " + of);
        continue;
      }
      if (drained(r) && !stale) {
        create(r, slot, "node " + r->node + " is drained, " + of, /*keep_old=*/true);
        continue;
      }
      switch (r->state) {
        case ReplicaState::Running:
          if (stale && batch && batch->start_first)
            create(r, slot, "config changed, start-first, " + of, /*keep_old=*/true);
          else if (stale)
            emit(stops_, ActionKind::Stop, r, s.name, slot, "config changed");
          else if (replace_unhealthy(s, *r))
            emit(stops_, ActionKind::Stop, r, s.name, slot, "unhealthy");
          break;
        case ReplicaState::Created:
        case ReplicaState::Exited:
          if (r->stopped_by_user) break;
          if (stale) {
            emit(removes_, ActionKind::Remove, r, s.name, slot, "config changed");
            create(r, slot, "config changed, " + of);
          } else if (r->state == ReplicaState::Created) {
            if (may_start(s, st)) restart(r, "start created container");
          } else {
            exited(s, r, st, restart);
          }
          break;
        default: break;  // Stopping: kill_expired(); Pending/Removed above
      }
    }
    if (st.held) decision_.blocked.push_back(s.name + " " + *st.wait);
    if (s.global() && targets.empty() && nodes_ && !nodes_->empty())
      decision_.blocked.push_back(s.name + " blocked: " + place(s, *nodes_).explanation);
    std::set<int> keep;
    for (const SlotTarget& t : targets) keep.insert(t.slot);
    scale_down(s, keep,
               s.global() ? std::string("node no longer eligible") : "scale down to " + std::to_string(s.replicas));
  }

  template <class Restart>
  void exited(const ServiceSpec& s, const ReplicaStatus* r, Starting& st, Restart& restart) {
    if (r->start_requested) {
      if (may_start(s, st)) restart(r, "start requested");
      return;
    }
    RestartDecision d = restart_decision(s.restart, *r);
    if (!d.restart && r->stop_requested_at > 0) {
      // The scheduler stopped it (scale down, a node no longer eligible)
      // and the slot is wanted again before it was removed: start it.
      if (may_start(s, st)) restart(r, "wanted again");
      return;
    }
    if (!d.restart) return;
    if (now_ < d.at) {
      wake(d.at);
      return;
    }
    restart(r, d.reason);
    restarts_.back().action.policy_restart = true;
  }

  // Slots not in `keep` (a removed service: none) are stopped, then removed.
  // A global job's completed task stays: it records that the job ran there.
  void scale_down(const ServiceSpec& s, const std::set<int>& keep, const std::string& reason) {
    const std::string& service = s.name;
    for (const auto& [slot, r] : slots_of(service)) {
      if (keep.count(slot)) continue;
      if (lost(r)) {
        emit(removes_, ActionKind::Remove, r, service, slot, reason + ", node " + r->node + " is down");
        continue;
      }
      switch (r->state) {
        case ReplicaState::Running: emit(stops_, ActionKind::Stop, r, service, slot, reason); break;
        case ReplicaState::Pending:
        case ReplicaState::Created:
        case ReplicaState::Exited:
          if (s.global() && job_complete(s, *r) && r->config_hash == s.config_hash) break;
          emit(removes_, ActionKind::Remove, r, service, slot, reason);
          break;
        default: break;
      }
    }
  }

  // Stopped / Down.
  void stop_all(bool remove) {
    std::string why = remove ? "stack down" : "stack stopped";
    std::vector<std::string> services = order_.order;
    services.insert(services.end(), orphans_.begin(), orphans_.end());
    for (const std::string& service : services) {
      std::string holder;
      if (!cyclic_.count(service))
        for (const std::string& d : direct_dependents(desired_, service))
          if (still_up(d) && !cyclic_.count(d)) {
            holder = d;
            break;
          }
      bool held = false;
      for (const auto& [slot, r] : slots_of(service)) {
        if (lost(r)) {
          emit(removes_, ActionKind::Remove, r, service, slot, why + ", node " + r->node + " is down");
        } else if (r->state == ReplicaState::Running) {
          if (holder.empty())
            emit(stops_, ActionKind::Stop, r, service, slot, why);
          else
            held = true;
        } else if (remove &&
                   (r->state == ReplicaState::Exited || r->state == ReplicaState::Created ||
                    r->state == ReplicaState::Pending)) {
          emit(removes_, ActionKind::Remove, r, service, slot, why);
        }
      }
      if (held) decision_.blocked.push_back(service + " waits for " + holder + " to stop");
    }
  }

  bool still_up(const std::string& service) const {
    for (const auto& [slot, r] : slots_of(service))
      if (!lost(r) && (r->state == ReplicaState::Running || r->state == ReplicaState::Stopping)) return true;
    return false;
  }

  Decision finish() {
    // Stops and removes: dependents first, highest slot first. Restarts and
    // creates: dependencies first, lowest slot first.
    auto down = [](const Ranked& a, const Ranked& b) {
      return a.rank != b.rank ? a.rank > b.rank : a.action.slot > b.action.slot;
    };
    auto up = [](const Ranked& a, const Ranked& b) {
      return a.rank != b.rank ? a.rank < b.rank : a.action.slot < b.action.slot;
    };
    std::stable_sort(kills_.begin(), kills_.end(), down);
    std::stable_sort(stops_.begin(), stops_.end(), down);
    std::stable_sort(removes_.begin(), removes_.end(), down);
    std::stable_sort(restarts_.begin(), restarts_.end(), up);
    std::stable_sort(creates_.begin(), creates_.end(), up);
    for (auto* group : {&kills_, &stops_, &removes_, &restarts_, &creates_})
      for (Ranked& r : *group) decision_.actions.push_back(std::move(r.action));
    return std::move(decision_);
  }

  const StackSpec& desired_;
  const ObservedStack& observed_;
  TimeMs now_;
  const std::vector<NodeInfo>* nodes_;  // nullptr: reconcile() without nodes
  OrderResult order_;
  std::set<std::string> known_;          // ids of the nodes listed (none: no node list)
  const std::set<std::string> down_;     // ids of nodes known and not ready
  const std::set<std::string> drained_;  // ids of ready nodes whose availability is drain
  std::map<std::string, SlotMap> slots_;          // service -> slot -> current task
  std::map<std::string, std::vector<SlotTarget>> targets_;  // service -> the slots it should have
  std::vector<const ReplicaStatus*> superseded_;  // older tasks of a slot
  std::map<std::string, int> rank_;
  std::set<std::string> cyclic_;
  std::vector<std::string> orphans_;
  std::map<std::string, std::string> stuck_;  // service -> why its slots cannot be created
  std::vector<Ranked> kills_, stops_, removes_, restarts_, creates_;
  Decision decision_;
};

}  // namespace

Decision reconcile(const StackSpec& desired, const ObservedStack& observed, StackGoal goal,
                   TimeMs now) {
  return Pass(desired, observed, now, nullptr, {}, {}).run(goal);
}

Decision reconcile(const StackSpec& desired, const ObservedStack& observed, StackGoal goal,
                   TimeMs now, const std::vector<NodeInfo>& nodes) {
  std::set<std::string> down, drained;
  for (const NodeInfo& n : nodes) {
    if (!n.ready) down.insert(n.id);
    else if (n.drain) drained.insert(n.id);
  }
  Decision d = Pass(desired, observed, now, &nodes, std::move(down), std::move(drained)).run(goal);
  place_actions(d, desired, observed, nodes);
  return d;
}

}  // namespace stack::sched
