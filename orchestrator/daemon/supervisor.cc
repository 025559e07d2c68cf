#include "orchestrator/daemon/supervisor.h"

#include <csignal>
#include <cstring>
#include <random>

#include <boost/asio/post.hpp>

#include "scheduler/health.h"
#include "scheduler/reconcile.h"
#include "scheduler/restart.h"

namespace stack::orch {
namespace {

using sched::ReplicaState;

std::string random_hex6() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06x", static_cast<unsigned>(gen() & 0xffffff));
  return buf;
}

std::chrono::system_clock::time_point at_ms(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

// Exit code recorded when the engine could not create or start a container
// (docker run uses 125 for "the daemon failed").
constexpr int kCreateFailed = 125;

}  // namespace

std::string replica_name(const compose::Project& project, const compose::Service& service, int slot) {
  if (!service.container_name.empty())
    return slot == 1 ? service.container_name : service.container_name + "-" + std::to_string(slot);
  return project.name + "-" + service.name + "-" + std::to_string(slot);
}

int signal_number(const std::string& name) {
  std::string n = name;
  if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) return std::stoi(n);
  if (n.rfind("SIG", 0) == 0) n = n.substr(3);
  for (int s = 1; s < NSIG; s++) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && n == abbrev) return s;
  }
  return 0;
}

ReplicaPlan make_plan(const compose::Project& project, const std::string& service, int slot, const std::string& id,
                      const std::map<std::string, net::NetworkInfo>& networks, const std::string& volume_root) {
  const compose::Service& s = project.services.at(service);
  ReplicaPlan p;
  p.id = id;
  p.name = replica_name(project, s, slot);
  p.stack = project.name;
  p.slot = slot;
  p.service = s;
  p.project_dir = project.working_dir;
  for (const auto& m : s.volumes)
    if (m.type == "volume" && !m.source.empty()) p.volume_dirs[m.source] = volume_dir(project, m.source, volume_root);
  for (const auto& key : ordered_networks(s)) {
    auto it = networks.find(key);
    if (it == networks.end()) continue;
    NetworkAttachment a;
    a.network = it->second;
    a.aliases = s.networks.at(key).aliases;
    a.ipv4_address = s.networks.at(key).ipv4_address;
    p.networks.push_back(std::move(a));
  }
  if (!p.networks.empty()) p.dns_server = p.networks.front().network.gateway;
  p.labels = {{"com.stack.project", project.name},
              {"com.stack.service", service},
              {"com.stack.slot", std::to_string(slot)},
              {"com.stack.name", p.name}};
  return p;
}

std::string volume_dir(const compose::Project& project, const std::string& key, const std::string& volume_root) {
  auto it = project.volumes.find(key);
  if (it != project.volumes.end() && it->second.external)
    return volume_root + "/" + (it->second.external_name.empty() ? key : it->second.external_name);
  return volume_root + "/" + project.name + "_" + key;
}

Supervisor::Supervisor(SupervisorContext ctx, StackDesired desired, std::vector<ReplicaRecord> replicas)
    : ctx_(ctx), desired_(std::move(desired)) {
  for (auto& r : replicas) replicas_[{r.status.service, r.status.slot}] = std::move(r);
  guard_->self = this;
}

Supervisor::~Supervisor() {
  {
    std::lock_guard g(guard_->m);
    guard_->self = nullptr;
  }
  stop_loop();
}

void Supervisor::start() {
  std::vector<std::string> watch_ids;
  {
    std::lock_guard lk(mu_);
    for (auto& [_, r] : replicas_)
      if (!r.status.container_id.empty() &&
          (r.status.state == ReplicaState::Running || r.status.state == ReplicaState::Stopping))
        watch_ids.push_back(r.status.container_id);
    rewire();
  }
  for (const auto& id : watch_ids) watch(id);
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

void Supervisor::update(StackDesired desired) {
  std::lock_guard lk(mu_);
  desired_ = std::move(desired);
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

void Supervisor::save(const ReplicaRecord& r) {
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

void Supervisor::rewire() {
  std::vector<WiredReplica> wired;
  for (const auto& [slot, r] : replicas_) {
    WiredReplica w;
    w.service = slot.first;
    w.slot = slot.second;
    w.name = r.name;
    w.container_id = r.status.container_id;
    w.addresses = r.addresses;
    bool running = r.status.state == ReplicaState::Running;
    sched::Health h = r.status.health.health;
    w.in_dns = running && h != sched::Health::Unhealthy;
    w.in_pool = running && (h == sched::Health::None || h == sched::Health::Healthy);
    wired.push_back(std::move(w));
  }
  ctx_.wiring.sync(desired_.project, wired);
}

void Supervisor::watch(const std::string& id) {
  auto g = guard_;
  auto r = ctx_.node.watch(id, [g, id](const ExitInfo& info) {
    std::lock_guard l(g->m);
    if (g->self) g->self->on_exit(id, info);
  });
  if (!r) {
    // Without a watch we would never see the exit: treat it as gone now.
    on_exit(id, ExitInfo{kCreateFailed, false, now_ms()});
  }
}

void Supervisor::on_exit(const std::string& id, const ExitInfo& info) {
  std::lock_guard lk(mu_);
  ReplicaRecord* r = find_by_id(id);
  if (!r || r->status.state == ReplicaState::Exited) return;
  r->status.state = ReplicaState::Exited;
  r->status.exit_code = info.exit_code;
  r->status.oom_killed = info.oom_killed;
  r->status.finished_at = info.finished_at_ms ? info.finished_at_ms : now_ms();
  r->pid = 0;
  killed_.erase(id);
  save(*r);
  if (info.oom_killed) emit("oom", r->status.service, r->name);
  emit("die", r->status.service, r->name, {{"exitCode", std::to_string(info.exit_code)}});
  rewire();
  kicked_ = true;
  kick_cv_.notify_all();
  changed_cv_.notify_all();
}

void Supervisor::on_probe(const std::string& id, const sched::ProbeResult& result) {
  std::lock_guard lk(mu_);
  probing_.erase(id);
  ReplicaRecord* r = find_by_id(id);
  const sched::ServiceSpec* ss = r ? service_spec(r->status.service) : nullptr;
  if (!r || !ss || r->status.state != ReplicaState::Running) return;
  sched::Health before = r->status.health.health;
  r->status.health = sched::health_on_result(ss->health, r->status.health, r->status.started_at, result);
  sched::Health after = r->status.health.health;
  save(*r);
  if (after != before) {
    rewire();  // unhealthy: out of DNS and the port pool at once; healthy: back in
    emit("health_status", r->status.service, r->name, {{"health", sched::to_string(after)}});
    changed_cv_.notify_all();
  }
  kicked_ = true;
  kick_cv_.notify_all();
}

int64_t Supervisor::schedule_probes(int64_t now) {
  int64_t next = INT64_MAX;
  for (auto& [slot, r] : replicas_) {
    if (r.status.state != ReplicaState::Running) continue;
    const sched::ServiceSpec* ss = service_spec(slot.first);
    const std::string& id = r.status.container_id;
    if (!ss || ss->health.kind == sched::ProbeKind::None || probing_.count(id)) continue;
    if (!sched::health_probe_due(ss->health, r.status.health, now)) {
      if (r.status.health.next_probe_at > 0) next = std::min(next, r.status.health.next_probe_at);
      continue;
    }
    std::string address;
    auto sit = desired_.project.services.find(slot.first);
    if (sit != desired_.project.services.end()) {
      auto nets = ordered_networks(sit->second);
      if (!nets.empty()) {
        auto a = r.addresses.find(network_name(desired_.project, nets.front()));
        if (a != r.addresses.end()) address = a->second;
      }
    }
    probing_.insert(id);
    boost::asio::post(ctx_.pool, [g = guard_, node = &ctx_.node, id, spec = ss->health, address] {
      sched::ProbeResult res = node->probe(id, spec, address);
      std::lock_guard l(g->m);
      if (g->self) g->self->on_probe(id, res);
    });
  }
  return next;
}

void Supervisor::loop() {
  std::unique_lock lk(mu_);
  while (!quit_) {
    int64_t now = now_ms();
    sched::ObservedStack observed;
    for (const auto& [_, r] : replicas_) observed.replicas.push_back(r.status);
    sched::Decision d = sched::reconcile(desired_.spec, observed, desired_.goal, now);
    blocked_ = d.blocked;
    int64_t next = std::min(d.wake_at.value_or(INT64_MAX), schedule_probes(now));
    bool progress = false;
    for (const auto& a : d.actions) {
      if (quit_) break;
      progress = execute(lk, a) || progress;
    }
    changed_cv_.notify_all();
    if (progress) continue;
    // Only repeated Kills of containers that have not died yet: retry in 1 s.
    if (!d.actions.empty()) next = std::min(next, now_ms() + 1000);
    auto woken = [this] { return kicked_ || quit_; };
    if (next == INT64_MAX) kick_cv_.wait(lk, woken);
    else kick_cv_.wait_until(lk, at_ms(next), woken);
    kicked_ = false;
  }
}

bool Supervisor::execute(std::unique_lock<std::mutex>& lk, const sched::Action& a) {
  auto it = replicas_.find({a.service, a.slot});
  ReplicaRecord* r = it == replicas_.end() ? nullptr : &it->second;
  switch (a.kind) {
    case sched::ActionKind::Create:
      return do_create(lk, a.service, a.slot, false, a.reason);
    case sched::ActionKind::Restart: {
      if (!r || (r->status.state != ReplicaState::Exited && r->status.state != ReplicaState::Created)) return false;
      if (a.policy_restart) {
        const sched::ServiceSpec* ss = service_spec(a.service);
        if (ss) sched::note_restart(ss->restart, r->status, now_ms());
      }
      emit("restart", a.service, r->name, {{"reason", a.reason}});
      return do_create(lk, a.service, a.slot, true, a.reason);
    }
    case sched::ActionKind::Stop: {
      if (!r || r->status.state != ReplicaState::Running || r->status.container_id != a.container_id) return false;
      int sig = signal_number(a.signal);
      (void)ctx_.node.signal(a.container_id, sig ? sig : SIGTERM);  // an already-dead one shows up as an exit
      r->status.state = ReplicaState::Stopping;
      r->status.stop_requested_at = now_ms();
      save(*r);
      emit("stop", a.service, r->name, {{"reason", a.reason}, {"signal", a.signal}});
      rewire();
      return true;
    }
    case sched::ActionKind::Kill: {
      if (!r || r->status.container_id != a.container_id || killed_.count(a.container_id)) return false;
      (void)ctx_.node.signal(a.container_id, SIGKILL);
      killed_.insert(a.container_id);
      emit("kill", a.service, r->name, {{"reason", a.reason}, {"signal", "SIGKILL"}});
      return true;
    }
    case sched::ActionKind::Remove:
      return do_remove(lk, a);
  }
  return false;
}

bool Supervisor::do_create(std::unique_lock<std::mutex>& lk, const std::string& service, int slot,
                           bool restart, const std::string& reason) {
  const sched::ServiceSpec* ss = service_spec(service);
  if (!ss || !desired_.project.services.count(service)) return false;
  ReplicaRecord& r = replicas_[{service, slot}];
  if (!r.status.container_id.empty() &&
      (r.status.state == ReplicaState::Running || r.status.state == ReplicaState::Stopping))
    return false;
  std::string old = r.status.container_id;
  // Restart counts belong to the slot: they survive policy restarts and a
  // re-creation after a reboot, and start over only with a new config.
  bool new_config = r.status.config_hash != ss->config_hash;
  std::string id = desired_.project.name + "-" + service + "-" + std::to_string(slot) + "-" + random_hex6();
  ReplicaPlan plan = make_plan(desired_.project, service, slot, id, desired_.networks, ctx_.options.root + "/volumes");
  sched::ReplicaStatus& s = r.status;
  s.stack = desired_.project.name;
  s.service = service;
  s.slot = slot;
  s.node = "local";
  s.container_id = id;
  s.state = ReplicaState::Created;
  s.health = {};
  s.exit_code = 0;
  s.oom_killed = false;
  s.created_at = now_ms();
  s.started_at = s.finished_at = s.stop_requested_at = 0;
  s.stopped_by_user = s.start_requested = false;
  if (!restart && new_config) {
    s.restart_count = s.restart_streak = 0;
    s.restart_times.clear();
  }
  s.config_hash = ss->config_hash;
  r.name = plan.name;
  r.image = plan.service.image;
  r.command = plan.service.command.value_or(std::vector<std::string>{});
  r.addresses.clear();
  save(r);
  emit("create", service, r.name, {{"image", r.image}, {"reason", reason}});

  lk.unlock();
  // The old incarnation's teardown (veth, netns, overlay: tens of ms) is off
  // the crash-to-running path: it goes after the new one started, unless the
  // new one needs what the old holds (a static address).
  bool static_ip = false;
  for (const auto& n : plan.networks) static_ip = static_ip || !n.ipv4_address.empty();
  if (!old.empty() && static_ip) (void)ctx_.node.remove({old});
  auto started = ctx_.node.create_and_start(plan);
  if (!old.empty() && !static_ip) (void)ctx_.node.remove({old});
  lk.lock();

  ReplicaRecord* cur = find_by_id(id);
  if (!cur) {  // the slot went away meanwhile (down): do not leak the container
    if (started) {
      lk.unlock();
      (void)ctx_.node.remove({id});
      lk.lock();
    }
    return true;
  }
  if (!started) {
    cur->status.state = ReplicaState::Exited;
    cur->status.exit_code = kCreateFailed;
    cur->status.finished_at = now_ms();
    errors_[{service, slot}] = cur->name + ": " + started.error().message();
    save(*cur);
    emit("error", service, cur->name, {{"reason", started.error().message()}});
    return true;
  }
  errors_.erase({service, slot});
  cur->status.state = ReplicaState::Running;
  cur->status.started_at = started->started_at_ms ? started->started_at_ms : now_ms();
  if (ss->health.kind != sched::ProbeKind::None)
    cur->status.health = sched::health_on_start(ss->health, cur->status.started_at);
  cur->pid = started->pid;
  cur->shim_pid = started->shim_pid;
  cur->netns_path = started->netns_path;
  // The node reports addresses by network name; accept compose keys too.
  for (const auto& [net, ip] : started->addresses) {
    auto k = desired_.networks.find(net);
    cur->addresses[k != desired_.networks.end() ? k->second.name : net] = ip;
  }
  save(*cur);
  emit("start", service, cur->name, {{"pid", std::to_string(cur->pid)}});
  rewire();
  lk.unlock();
  watch(id);
  lk.lock();
  return true;
}

bool Supervisor::do_remove(std::unique_lock<std::mutex>& lk, const sched::Action& a) {
  auto it = replicas_.find({a.service, a.slot});
  if (it == replicas_.end()) return false;
  std::string id = it->second.status.container_id;
  std::string name = it->second.name;
  if (!id.empty()) {
    lk.unlock();
    auto rm = ctx_.node.remove({id});
    lk.lock();
    if (!rm) {
      emit("error", a.service, name, {{"reason", "remove: " + rm.error().message()}});
      return false;
    }
    killed_.erase(id);
    emit("destroy", a.service, name, {{"reason", a.reason}});
  }
  it = replicas_.find({a.service, a.slot});
  if (it == replicas_.end() || it->second.status.container_id != id) return true;  // replaced meanwhile
  const sched::ServiceSpec* ss = service_spec(a.service);
  if (desired_.goal == sched::StackGoal::Down || !ss || a.slot > ss->replicas) {
    (void)delete_replica(ctx_.store, desired_.project.name, a.service, a.slot);
    replicas_.erase(it);
    errors_.erase({a.service, a.slot});
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
  for (auto& [slot, r] : replicas_) {
    if (!selected(services, slot.first)) continue;
    r.status.stopped_by_user = true;
    r.status.start_requested = false;
    if (r.status.state == ReplicaState::Running) {
      const sched::ServiceSpec* ss = service_spec(slot.first);
      std::string sig = ss ? ss->stop_signal : "SIGTERM";
      int n = signal_number(sig);
      (void)ctx_.node.signal(r.status.container_id, n ? n : SIGTERM);
      r.status.state = ReplicaState::Stopping;
      r.status.stop_requested_at = now_ms();
      emit("stop", slot.first, r.name, {{"reason", "stopped by user"}, {"signal", sig}});
    }
    save(r);
  }
  rewire();
  kicked_ = true;
  kick_cv_.notify_all();
}

void Supervisor::user_start(const std::vector<std::string>& services) {
  std::lock_guard lk(mu_);
  for (auto& [slot, r] : replicas_) {
    if (!selected(services, slot.first)) continue;
    r.status.stopped_by_user = false;
    if (r.status.state == ReplicaState::Exited || r.status.state == ReplicaState::Created)
      r.status.start_requested = true;
    save(r);
  }
  errors_.clear();
  kicked_ = true;
  kick_cv_.notify_all();
}

void Supervisor::interrupt_waits() {
  std::lock_guard lk(mu_);
  interrupted_ = true;
  changed_cv_.notify_all();
}

rt::Result<void> Supervisor::wait_settled(const std::vector<std::string>& services, bool healthy,
                                          int64_t deadline_ms) {
  std::unique_lock lk(mu_);
  for (;;) {
    for (const auto& [slot, e] : errors_)
      if (selected(services, slot.first)) return rt::fail(e);
    bool done = true;
    for (const auto& ss : desired_.spec.services) {
      if (!selected(services, ss.name)) continue;
      for (const auto& b : blocked_)
        if (b.rfind(ss.name + " blocked: ", 0) == 0) return rt::fail("service " + b);
      for (const auto& [slot, r] : replicas_) {
        if (slot.first != ss.name) continue;
        const sched::ReplicaStatus& s = r.status;
        if (slot.second > ss.replicas) {
          done = false;  // still being scaled down
          continue;
        }
        bool ok = s.started_at > 0 && s.config_hash == ss.config_hash && !s.start_requested;
        if (healthy)
          ok = ok && s.state == ReplicaState::Running &&
               (s.health.health == sched::Health::None || s.health.health == sched::Health::Healthy);
        done = done && ok;
      }
      for (int n = 1; n <= ss.replicas; n++) done = done && replicas_.count({ss.name, n});
    }
    if (done) return {};
    if (quit_) return rt::fail("stack " + desired_.project.name + " is no longer supervised");
    if (interrupted_)
      return rt::fail("stackd is stopping; stack " + desired_.project.name + " converges after its restart", ECANCELED);
    if (deadline_ms > 0) {
      if (now_ms() >= deadline_ms) {
        std::string why = blocked_.empty() ? "" : ": " + blocked_.front();
        return rt::fail("timed out waiting for stack " + desired_.project.name + why, ETIMEDOUT);
      }
      changed_cv_.wait_until(lk, at_ms(deadline_ms));
    } else {
      changed_cv_.wait(lk);
    }
  }
}

rt::Result<void> Supervisor::wait_stopped(const std::vector<std::string>& services, int64_t deadline_ms) {
  std::unique_lock lk(mu_);
  auto stopped = [&] {
    for (const auto& [slot, r] : replicas_)
      if (selected(services, slot.first) &&
          (r.status.state == ReplicaState::Running || r.status.state == ReplicaState::Stopping))
        return false;
    return true;
  };
  while (!stopped()) {
    if (quit_) return rt::fail("stack " + desired_.project.name + " is no longer supervised");
    if (interrupted_)
      return rt::fail("stackd is stopping; stack " + desired_.project.name + " stops after its restart", ECANCELED);
    if (now_ms() >= deadline_ms) return rt::fail("timed out stopping " + desired_.project.name, ETIMEDOUT);
    changed_cv_.wait_until(lk, at_ms(deadline_ms));
  }
  return {};
}

rt::Result<void> Supervisor::wait_gone(int64_t deadline_ms) {
  std::unique_lock lk(mu_);
  while (!replicas_.empty()) {
    if (quit_) return rt::fail("stack " + desired_.project.name + " is no longer supervised");
    if (interrupted_)
      return rt::fail("stackd is stopping; stack " + desired_.project.name + " is removed after its restart", ECANCELED);
    if (now_ms() >= deadline_ms) return rt::fail("timed out removing " + desired_.project.name, ETIMEDOUT);
    changed_cv_.wait_until(lk, at_ms(deadline_ms));
  }
  return {};
}

}  // namespace stack::orch
