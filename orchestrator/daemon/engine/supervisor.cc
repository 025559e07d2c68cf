#include "orchestrator/daemon/engine/supervisor.h"

#include <algorithm>
#include <csignal>

#include "scheduler/health.h"
#include "scheduler/reconcile.h"
#include "scheduler/restart.h"

namespace stack::orch {
namespace {

using sched::ReplicaState;

// One host: only the reservations (cpus, memory, gpus) against the host's
// capacity. Constraints, max_replicas_per_node and spread are cluster
// placement, ignored as Docker Compose ignores them without Swarm (a file
// written for Swarm still runs on a laptop).
sched::Requirements one_host(const sched::Requirements& r) {
  sched::Requirements kept;
  kept.cpus = r.cpus;
  kept.memory = r.memory;
  kept.gpus = r.gpus;
  return kept;
}

sched::StackSpec one_host(sched::StackSpec spec) {
  for (auto& s : spec.services) s.requirements = one_host(s.requirements);
  return spec;
}

}  // namespace

Supervisor::Supervisor(SupervisorContext ctx, StackDesired desired, std::vector<ReplicaRecord> replicas,
                       std::map<std::string, sched::Rollout> rollouts)
    : ctx_(std::move(ctx)), desired_(std::move(desired)), rollouts_(std::move(rollouts)) {
  for (const auto& [_, r] : rollouts_) rollout_serial_ = std::max(rollout_serial_, r.serial);
  auto nodes = ctx_.nodes->nodes();
  for (auto& r : replicas) {
    // Records of a stackd that stored no node ids belong to the only node.
    if (r.status.node.empty() && nodes.size() == 1) r.status.node = nodes.front().id;
    Task t = task_of(r.status);
    replicas_[t] = std::move(r);
  }
  guard_->self = this;
}

Supervisor::~Supervisor() {
  {
    std::lock_guard g(guard_->m);
    guard_->self = nullptr;
  }
  stop_loop();
}

void Supervisor::adopt() {
  std::vector<std::pair<LocalNode*, std::string>> watches;
  {
    std::lock_guard lk(mu_);
    for (auto& [_, r] : replicas_)
      if (!r.status.container_id.empty() &&
          (r.status.state == ReplicaState::Running || r.status.state == ReplicaState::Stopping))
        watches.emplace_back(node_by_id(r.status.node), r.status.container_id);
    rewire();
  }
  for (const auto& [node, id] : watches) watch(node, id);
}

void Supervisor::start() {
  adopt();
  thread_ = std::thread([this] { loop(); });
}

void Supervisor::stop_loop() {
  {
    std::lock_guard lk(mu_);
    quit_ = true;
  }
  kick_cv_.notify_all();
  changed_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Supervisor::update(StackDesired desired, bool resume) {
  std::lock_guard lk(mu_);
  desired_ = std::move(desired);
  resume_paused_ = resume_paused_ || resume;
  source_.reset();
  errors_.clear();
  kicked_ = true;
  kick_cv_.notify_all();
}

void Supervisor::set_goal(sched::StackGoal goal) {
  std::lock_guard lk(mu_);
  desired_.goal = goal;
  kicked_ = true;
  kick_cv_.notify_all();
}

sched::StackGoal Supervisor::goal() {
  std::lock_guard lk(mu_);
  return desired_.goal;
}

StackDesired Supervisor::desired() {
  std::lock_guard lk(mu_);
  return desired_;
}

compose::Project Supervisor::project() {
  std::lock_guard lk(mu_);
  return desired_.project;
}

std::vector<ReplicaRecord> Supervisor::replicas() {
  std::lock_guard lk(mu_);
  std::vector<ReplicaRecord> out;
  for (const auto& [_, r] : replicas_) out.push_back(r);
  return out;
}

std::map<std::string, std::string> unplaced_services(const std::vector<std::string>& blocked) {
  static const std::string kMark = " blocked: ";
  std::map<std::string, std::string> out;
  for (const auto& b : blocked)
    if (auto at = b.find(kMark); at != std::string::npos && b.compare(at + kMark.size(), 17, "no node satisfies") == 0)
      out[b.substr(0, at)] = b.substr(at + kMark.size());
  return out;
}

std::map<std::string, std::string> Supervisor::unplaced() {
  std::lock_guard lk(mu_);
  return unplaced_services(blocked_);
}

std::vector<sched::SlotTarget> Supervisor::targets_of(const sched::ServiceSpec& service) const {
  sched::SlotMap current = current_tasks(service.name);
  if (ctx_.enforce_requirements) return sched::target_slots(service, current, &node_infos_);
  sched::ServiceSpec here = service;  // as pass() reconciles it
  here.requirements = one_host(here.requirements);
  return sched::target_slots(here, current, &node_infos_);
}

std::map<std::string, std::vector<sched::SlotTarget>> Supervisor::slot_targets() {
  std::lock_guard lk(mu_);
  std::map<std::string, std::vector<sched::SlotTarget>> out;
  for (const auto& ss : desired_.spec.services) out[ss.name] = targets_of(ss);
  return out;
}

std::vector<std::string> Supervisor::container_ids() {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [_, r] : replicas_)
    if (!r.status.container_id.empty()) out.push_back(r.status.container_id);
  return out;
}

void Supervisor::forget_all() {
  std::lock_guard lk(mu_);
  replicas_.clear();
  changed_cv_.notify_all();
}

bool Supervisor::selected(const std::vector<std::string>& services, const std::string& s) const {
  if (services.empty()) return true;
  for (const auto& x : services)
    if (x == s) return true;
  return false;
}

const sched::ServiceSpec* Supervisor::service_spec(const std::string& name) const {
  for (const auto& s : desired_.spec.services)
    if (s.name == name) return &s;
  return nullptr;
}

ReplicaRecord* Supervisor::find_by_id(const std::string& id) {
  for (auto& [_, r] : replicas_)
    if (r.status.container_id == id) return &r;
  return nullptr;
}

ReplicaRecord* Supervisor::find_task(const sched::Action& a) {
  auto it = replicas_.find({a.service, a.slot, a.incarnation});
  return it == replicas_.end() ? nullptr : &it->second;
}

sched::SlotMap Supervisor::current_tasks(const std::string& service) const {
  sched::SlotMap current;  // replicas_ is ordered by incarnation: the last one wins
  for (const auto& [task, r] : replicas_)
    if (r.status.service == service) current[r.status.slot] = &r.status;
  return current;
}

ReplicaRecord* Supervisor::current_task(const std::string& service, int slot) {
  auto it = replicas_.lower_bound({service, slot + 1, 0});
  if (it == replicas_.begin()) return nullptr;
  --it;
  const auto& [s, n, _] = it->first;
  return s == service && n == slot ? &it->second : nullptr;
}

bool Supervisor::has_task(const std::string& service, int slot) const {
  auto it = replicas_.lower_bound({service, slot, 0});
  return it != replicas_.end() && std::get<0>(it->first) == service && std::get<1>(it->first) == slot;
}

LocalNode* Supervisor::node_by_id(const std::string& id) const { return ctx_.nodes->find(id); }

bool Supervisor::node_down(const std::string& id) const {
  for (const auto& n : node_infos_)
    if (n.id == id) return !n.ready;
  return false;
}

bool Supervisor::node_drained(const std::string& id) const {
  for (const auto& n : node_infos_)
    if (n.id == id) return n.ready && n.drain;
  return false;
}

void Supervisor::kick() {
  std::lock_guard lk(mu_);
  kicked_ = true;
  kick_cv_.notify_all();
}

void Supervisor::save(const ReplicaRecord& r) {
  if (save_batch_) {  // do_creates writes them together
    (*save_batch_)[replica_key(r.status.stack, r.status)] = replica_to_json(r);
    return;
  }
  // A failed write costs history after a daemon restart, not correctness now.
  if (auto s = save_replica(ctx_.store, r); !s)
    emit("error", r.status.service, r.name, {{"reason", "state store: " + s.error().message()}});
}

void Supervisor::emit(const std::string& type, const std::string& service, const std::string& replica,
                      std::map<std::string, std::string> attrs) {
  Event e;
  e.stack = desired_.project.name;
  e.service = service;
  e.replica = replica;
  e.type = type;
  e.attrs = std::move(attrs);
  ctx_.events.publish(std::move(e));
}

Supervisor::Pass Supervisor::step() {
  std::unique_lock lk(mu_);
  return pass(lk);
}

Supervisor::Pass Supervisor::pass(std::unique_lock<std::mutex>& lk) {
  int64_t now = ctx_.clock.now();
  sched::ObservedStack observed;
  for (const auto& [_, r] : replicas_) observed.replicas.push_back(r.status);
  node_infos_ = ctx_.nodes->nodes();
  int64_t rollout_wake = INT64_MAX;
  if (desired_.goal == sched::StackGoal::Up) step_rollouts(now, observed, rollout_wake);
  step_autoscale(now, rollout_wake);
  sched::Decision d = sched::reconcile(ctx_.enforce_requirements ? desired_.spec : one_host(desired_.spec),
                                       observed, desired_.goal, now, node_infos_);
  // A service no node can take (a cluster: it stays pending until one can)
  // says so once per new reason, in events and so in `up`'s progress.
  auto before = unplaced_services(blocked_);
  for (const auto& [service, reason] : unplaced_services(d.blocked))
    if (before[service] != reason) emit("pending", service, "", {{"reason", reason}});
  blocked_ = d.blocked;
  Pass p;
  p.wake_at = std::min({d.wake_at.value_or(INT64_MAX), schedule_probes(now), rollout_wake});
  for (size_t i = 0; i < d.actions.size() && !quit_;) {
    // Creates of one service on nodes that take them together (another
    // node's: each waits for its report) go as one batch.
    size_t end = i;
    while (end < d.actions.size() && batchable(d.actions[end]) && d.actions[end].service == d.actions[i].service) end++;
    if (end - i > 1) {
      p.progress = do_creates(lk, {d.actions.begin() + i, d.actions.begin() + end}) || p.progress;
      i = end;
      continue;
    }
    p.progress = execute(lk, d.actions[i]) || p.progress;
    i++;
  }
  changed_cv_.notify_all();
  // Only repeated Kills of containers that have not died yet: retry in 1 s.
  if (!p.progress && !d.actions.empty()) p.wake_at = std::min(p.wake_at, ctx_.clock.now() + 1000);
  return p;
}

void Supervisor::loop() {
  std::unique_lock lk(mu_);
  while (!quit_) {
    Pass p = pass(lk);
    if (p.progress) continue;
    while (!kicked_ && !quit_ && ctx_.clock.now() < p.wake_at) ctx_.clock.wait_until(kick_cv_, lk, p.wake_at);
    kicked_ = false;
  }
}

bool Supervisor::execute(std::unique_lock<std::mutex>& lk, const sched::Action& a) {
  ReplicaRecord* r = find_task(a);
  switch (a.kind) {
    case sched::ActionKind::Create:
      return do_create(lk, a, false);
    case sched::ActionKind::Restart: {
      if (!r || (r->status.state != ReplicaState::Exited && r->status.state != ReplicaState::Created)) return false;
      if (a.policy_restart) {
        const sched::ServiceSpec* ss = service_spec(a.service);
        if (ss) sched::note_restart(ss->restart, r->status, ctx_.clock.now());
      }
      emit("restart", a.service, r->name, {{"reason", a.reason}});
      return do_create(lk, a, true);
    }
    case sched::ActionKind::Stop: {
      if (!r || r->status.state != ReplicaState::Running || r->status.container_id != a.container_id) return false;
      int sig = signal_number(a.signal);
      r->status.state = ReplicaState::Stopping;
      r->status.stop_requested_at = ctx_.clock.now();
      save(*r);
      // Out of DNS and the port pools first, then the signal: no new
      // connection reaches a replica that is shutting down (a scale-down
      // loses no request).
      rewire();
      // An already-dead one shows up as an exit; one whose node left cannot be reached.
      if (LocalNode* node = node_by_id(r->status.node)) (void)node->signal(a.container_id, sig ? sig : SIGTERM);
      emit("stop", a.service, r->name, {{"reason", a.reason}, {"signal", a.signal}});
      return true;
    }
    case sched::ActionKind::Kill: {
      if (!r || r->status.container_id != a.container_id || killed_.count(a.container_id)) return false;
      if (LocalNode* node = node_by_id(r->status.node)) (void)node->signal(a.container_id, SIGKILL);
      killed_.insert(a.container_id);
      emit("kill", a.service, r->name, {{"reason", a.reason}, {"signal", "SIGKILL"}});
      return true;
    }
    case sched::ActionKind::Remove:
      return do_remove(lk, a);
  }
  return false;
}

bool Supervisor::do_remove(std::unique_lock<std::mutex>& lk, const sched::Action& a) {
  const Task task{a.service, a.slot, a.incarnation};
  auto it = replicas_.find(task);
  if (it == replicas_.end()) return false;
  std::string id = it->second.status.container_id;
  std::string name = it->second.name;
  LocalNode* node = node_by_id(it->second.status.node);
  if (!id.empty()) {
    lk.unlock();
    auto rm = node ? node->remove({id}) : stack::Result<void>{};  // a node that left took its containers
    lk.lock();
    if (!rm) {
      emit("error", a.service, name, {{"reason", "remove: " + rm.error().message()}});
      return false;
    }
    killed_.erase(id);
    emit("destroy", a.service, name, {{"reason", a.reason}});
  }
  it = replicas_.find(task);
  if (it == replicas_.end() || it->second.status.container_id != id) return true;  // replaced meanwhile
  const sched::ServiceSpec* ss = service_spec(a.service);
  bool superseded = current_task(a.service, a.slot) != &it->second;
  bool wanted = false;
  if (ss)
    for (const auto& t : targets_of(*ss)) wanted = wanted || t.slot == a.slot;
  if (desired_.goal == sched::StackGoal::Down || !ss || !wanted || superseded) {
    drop_record(it->second.status);
    replicas_.erase(it);
    if (!has_task(a.service, a.slot)) errors_.erase({a.service, a.slot});
  } else {
    it->second.status.container_id.clear();
    it->second.status.state = ReplicaState::Pending;
    save(it->second);
  }
  rewire();
  return true;
}

void Supervisor::user_stop(const std::vector<std::string>& services) {
  std::lock_guard lk(mu_);
  for (auto& [task, r] : replicas_) {
    const std::string& service = std::get<0>(task);
    if (!selected(services, service)) continue;
    r.status.stopped_by_user = true;
    r.status.start_requested = false;
    if (r.status.state == ReplicaState::Running) {
      const sched::ServiceSpec* ss = service_spec(service);
      std::string sig = ss ? ss->stop_signal : "SIGTERM";
      int n = signal_number(sig);
      if (LocalNode* node = node_by_id(r.status.node)) (void)node->signal(r.status.container_id, n ? n : SIGTERM);
      r.status.state = ReplicaState::Stopping;
      r.status.stop_requested_at = ctx_.clock.now();
      emit("stop", service, r.name, {{"reason", "stopped by user"}, {"signal", sig}});
    }
    save(r);
  }
  rewire();
  kicked_ = true;
  kick_cv_.notify_all();
}

void Supervisor::user_start(const std::vector<std::string>& services) {
  std::lock_guard lk(mu_);
  for (auto& [task, r] : replicas_) {
    if (!selected(services, std::get<0>(task))) continue;
    r.status.stopped_by_user = false;
    if (r.status.state == ReplicaState::Exited || r.status.state == ReplicaState::Created)
      r.status.start_requested = true;
    save(r);
  }
  errors_.clear();
  kicked_ = true;
  kick_cv_.notify_all();
}

}  // namespace stack::orch
