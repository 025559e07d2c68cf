#include "orchestrator/daemon/engine/engine_impl.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "orchestrator/compose/build.h"
#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/store/net_state_store.h"
#include "orchestrator/daemon/engine/stack_spec.h"
#include "scheduler/reconcile.h"

namespace stack::orch {
namespace fs = std::filesystem;
using nlohmann::json;

stack::Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& options, StateStore& store) {
  auto e = std::make_unique<EngineImpl>(options, store);
  STACK_TRY(e->init());
  return std::unique_ptr<Engine>(std::move(e));
}

stack::Result<std::unique_ptr<Engine>> Engine::open_leader(const EngineOptions& options, StateStore& store,
                                                          ClusterEngineParts parts) {
  auto e = std::make_unique<EngineImpl>(options, store, std::move(parts));
  STACK_TRY(e->init());
  return std::unique_ptr<Engine>(std::move(e));
}

EngineImpl::EngineImpl(const EngineOptions& options, StateStore& store) : options_(options), store_(store) {}

EngineImpl::EngineImpl(const EngineOptions& options, StateStore& store, ClusterEngineParts cluster)
    : options_(options),
      store_(store),
      networks_(cluster.networks),
      node_(cluster.node),
      nodes_(std::move(cluster.nodes)),
      self_(std::move(cluster.self)) {}

EngineImpl::~EngineImpl() { shutdown(); }

stack::Result<void> EngineImpl::init() {
  std::error_code ec;
  fs::create_directories(options_.root + "/volumes", ec);
  if (ec) return stack::fail("create " + options_.root + "/volumes", ec.value());
  if (!networks_) {
    auto nm = net::NetworkManager::open(store_net_state(store_, options_.root + "/net"));
    if (!nm) return tl::unexpected(nm.error().wrap("open network manager"));
    own_networks_ = std::move(*nm);
    networks_ = own_networks_.get();
  }
  net::DnsOptions dns_options;
  dns_options.port = options_.dns_port;
  auto dns = net::DnsServer::create(io_, dns_options);
  if (!dns) return tl::unexpected(dns.error().wrap("start dns"));
  dns_ = std::move(*dns);
  work_.emplace(io_.get_executor());
  io_thread_ = std::thread([this] { io_.run(); });
  if (!node_) {
    auto node = LocalNode::open(options_, *networks_);
    if (!node) return tl::unexpected(node.error().wrap("open local node"));
    own_node_ = std::move(*node);
    node_ = own_node_.get();
    nodes_ = std::make_shared<StaticNodes>(std::map<std::string, LocalNode*>{{kLocalNodeId, node_}});
  }
  // A node that joins, goes down or comes back: every stack reconciles.
  nodes_->on_change([this] {
    std::lock_guard lk(mu_);
    for (auto& [_, s] : stacks_) s->kick();
  });
  wiring_ = std::make_unique<NetWiring>(*networks_, *dns_);
  events_ = std::make_unique<EventBus>(&store_);
  return {};
}

void EngineImpl::shutdown() {
  std::map<std::string, std::shared_ptr<Supervisor>> stacks;
  {
    std::lock_guard lk(mu_);
    if (shut_) return;
    shut_ = true;
    stacks.swap(stacks_);
  }
  if (nodes_) nodes_->on_change(nullptr);
  for (auto& [_, s] : stacks) s->stop_loop();
  stacks.clear();
  pool_.join();
  work_.reset();
  io_.stop();
  if (io_thread_.joinable()) io_thread_.join();
}

void EngineImpl::interrupt_waits() {
  std::lock_guard lk(mu_);
  interrupted_ = true;
  for (auto& [_, s] : stacks_) s->interrupt_waits();
}

SupervisorContext EngineImpl::context() {
  return SupervisorContext{
      options_,
      nodes_,
      // In a cluster only this node's replicas: DNS and published ports here
      // reach the bridges of this host (across nodes: the overlay's work).
      [w = wiring_.get(), self = self_](const compose::Project& p, const std::vector<WiredReplica>& r) {
        if (self.empty()) return w->sync(p, r);
        std::vector<WiredReplica> here;
        for (const auto& x : r)
          if (x.node == self) here.push_back(x);
        w->sync(p, here);
      },
      *events_,
      store_,
      [pool = &pool_](std::function<void()> probe) { boost::asio::post(*pool, std::move(probe)); },
      system_clock(),
      // One host: only reservations; a cluster places by every requirement.
      /*enforce_requirements=*/!self_.empty(),
      // Rollbacks, called by a supervisor under its own lock: nothing here
      // takes a supervisor's lock.
      [this](const compose::Project& p) { return stack_spec(p, image_healthchecks(p)); },
      [this](const compose::Project& p) { return wiring_->publish(p); },
      [this](const StackDesired& d) { return save_stack(d.project, d.goal, d.previous); }};
}

std::shared_ptr<Supervisor> EngineImpl::find(const std::string& stack) {
  std::lock_guard lk(mu_);
  auto it = stacks_.find(stack);
  return it == stacks_.end() ? nullptr : it->second;
}

stack::Result<std::shared_ptr<Supervisor>> EngineImpl::need(const std::string& stack) {
  auto s = find(stack);
  if (!s) return stack::fail("no such stack: " + stack, ENOENT);
  return s;
}

std::shared_ptr<std::mutex> EngineImpl::op_lock(const std::string& stack) {
  std::lock_guard lk(mu_);
  auto& m = op_locks_[stack];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

void EngineImpl::emit(const std::string& stack, const std::string& type, std::map<std::string, std::string> attrs) {
  Event e;
  e.stack = stack;
  e.type = type;
  e.attrs = std::move(attrs);
  events_->publish(std::move(e));
}

stack::Result<void> check_services(const compose::Project& project, const std::vector<std::string>& services,
                                const char* verb) {
  for (const auto& s : services)
    if (!project.services.count(s)) return stack::fail(std::string(verb) + ": no such service: " + s, ENOENT);
  return {};
}

stack::Result<void> EngineImpl::save_stack(const compose::Project& project, sched::StackGoal goal,
                                           const std::map<std::string, std::string>& previous) {
  json v{{"project", json::parse(compose::to_json(project, -1))},
         {"goal", sched::to_string(goal)},
         {"previous", previous}};
  auto r = store_.put("stacks/" + project.name, v.dump());
  if (!r) return tl::unexpected(r.error().wrap("save stack " + project.name));
  return {};
}

std::map<std::string, compose::Healthcheck> EngineImpl::image_healthchecks(const compose::Project& project) {
  std::map<std::string, compose::Healthcheck> out;
  for (const auto& [name, s] : project.services) {
    if (s.healthcheck || s.native_probe) continue;
    auto hc = node_->image_healthcheck(s.image);
    if (hc && !hc->test.empty()) out[name] = *hc;
  }
  return out;
}

int64_t EngineImpl::stop_deadline(Supervisor& sup) {
  int64_t grace = 0;
  for (const auto& s : sup.desired().spec.services) grace = std::max(grace, s.stop_grace);
  return now_ms() + grace + 30000;  // grace, then SIGKILL and its reaping
}

stack::Result<std::vector<ReplicaView>> EngineImpl::up(const compose::Project& file_project, const UpOptions& options) {
  if (file_project.name.empty()) return stack::fail("up: the project has no name", EINVAL);
  auto op = op_lock(file_project.name);
  std::lock_guard op_guard(*op);
  // An autoscaled service keeps the count its autoscaling reached (engine_autoscale.cc).
  std::shared_ptr<Supervisor> running = find(file_project.name);
  std::optional<StackDesired> before;
  if (running) before = running->desired();
  const compose::Project project = autoscaled_counts(file_project, before ? &*before : nullptr);
  STACK_TRY(check_services(project, options.services, "up"));

  // Everything that can fail for reasons outside us is checked before
  // anything is created: published ports, then images (pulled when missing).
  STACK_TRY(wiring_->check_ports(project));
  for (const auto& [name, s] : project.services) {
    // build: without image: names an image that only a build makes
    // (compose/build.h): never pulled, it runs once it is in the store.
    // image_healthcheck() reads the image's config from the store alone, so
    // it fails exactly when the image is not there.
    bool built = compose::image_is_built(project, s);
    if (built && !node_->image_healthcheck(s.image)) return stack::fail(unbuilt_image_message(s), ENOENT);
    auto rule = compose::parse_pull_policy(s.pull_policy, s.pull_refresh_after);
    if (!rule) return stack::fail("services." + name + ".pull_policy: " + rule.error().context, EINVAL);
    if (options.pull_always && rule->mode != compose::PullRule::Mode::Build) rule->mode = compose::PullRule::Mode::Always;
    if (built) rule->mode = compose::PullRule::Mode::Missing;  // present: checked above
    auto img = node_->ensure_image(s.image, *rule, [&](const std::string& line) {
      emit(project.name, "pull", {{"image", s.image}, {"progress", line}});
    });
    if (!img && s.build) return stack::fail(unbuilt_image_message(s, img.error().message()), ENOENT);
    if (!img) return tl::unexpected(img.error().wrap("services." + name + ".image " + s.image));
  }
  auto spec = stack_spec(project, image_healthchecks(project));
  if (!spec) return tl::unexpected(spec.error());

  std::shared_ptr<Supervisor> sup = running;
  bool existed = sup != nullptr;
  // Services whose config changes keep what they were, for a rollback.
  std::map<std::string, std::string> previous = existed ? previous_definitions(sup->desired(), project) : std::map<std::string, std::string>{};
  // Rollouts this up begins are numbered after this.
  const uint64_t serial = existed ? sup->rollout_serial() : 0;
  std::vector<std::string> made_networks, made_volumes;
  auto rollback = [&] {
    if (existed) return;
    wiring_->unpublish_all(project.name);
    wiring_->forget_dns(project.name);
    wiring_->remove_network_names(made_networks);
    for (const auto& d : made_volumes) fs::remove_all(d);
    (void)store_.remove("stacks/" + project.name);
  };
  for (const auto& [key, v] : project.volumes) {
    std::string dir = volume_dir(project, key, options_.root + "/volumes");
    std::error_code ec;
    if (fs::create_directories(dir, ec)) made_volumes.push_back(dir);
    if (ec) {
      rollback();
      return stack::fail("volumes." + key + ": create " + dir, ec.value());
    }
  }
  if (auto r = save_stack(project, sched::StackGoal::Up, previous); !r) {
    rollback();
    return tl::unexpected(r.error());
  }
  auto nets = wiring_->ensure_networks(project, &made_networks);
  if (!nets) {
    rollback();
    return tl::unexpected(nets.error());
  }
  for (const auto& n : made_networks) emit(project.name, "network-create", {{"network", n}});
  if (auto r = wiring_->publish(project); !r) {
    rollback();
    return tl::unexpected(r.error());
  }

  StackDesired desired{project, *spec, sched::StackGoal::Up, *nets, std::move(previous)};
  if (existed) {
    sup->update(std::move(desired), /*resume=*/true);
    sup->user_start(options.services);
  } else {
    sup = std::make_shared<Supervisor>(context(), std::move(desired), std::vector<ReplicaRecord>{});
    sup->start();
    std::lock_guard lk(mu_);
    stacks_[project.name] = sup;
    if (interrupted_) sup->interrupt_waits();
  }
  emit(project.name, "up");
  int64_t deadline = options.wait_timeout_ms > 0 ? now_ms() + options.wait_timeout_ms : 0;
  if (auto w = sup->wait_settled(options.services, options.wait, deadline, serial); !w) {
    emit(project.name, "error", {{"reason", w.error().message()}});
    // Interrupted by stackd's stop: the stack is stored with goal up and the
    // next stackd finishes it; rolling back here would only slow the exit.
    if (!existed && w.error().code != ECANCELED) {
      (void)teardown(project.name, false);
      rollback();
    }
    return tl::unexpected(w.error().wrap("up " + project.name));
  }
  // The last of this up's events: `stack up` reads its progress until it.
  emit(project.name, "settled");
  return views(*sup);
}

stack::Result<void> EngineImpl::teardown(const std::string& stack, bool remove_volumes) {
  auto sup = find(stack);
  if (!sup) return stack::fail("no such stack: " + stack, ENOENT);
  compose::Project project = sup->project();
  (void)save_stack(project, sched::StackGoal::Down, {});  // a crash mid-down resumes the down on restore
  sup->set_goal(sched::StackGoal::Down);
  auto gone = sup->wait_gone(stop_deadline(*sup));
  // stackd is stopping: goal down is stored, restore() finishes the down.
  if (!gone && gone.error().code == ECANCELED) return tl::unexpected(gone.error().wrap("down " + stack));
  if (!gone)
    for (const auto& r : sup->replicas())
      if (LocalNode* n = node_of(r); n && !r.status.container_id.empty()) (void)n->remove({r.status.container_id});
  sup->stop_loop();
  {
    std::lock_guard lk(mu_);
    stacks_.erase(stack);
  }
  wiring_->unpublish_all(stack);
  wiring_->forget_dns(stack);
  auto nets = wiring_->remove_networks(project);
  for (const auto& [key, def] : project.networks)
    if (!def.external) emit(stack, "network-remove", {{"network", network_name(project, key)}});
  // sources/<stack>/: what a cluster's assignments were cut from (cluster/assignment.h).
  auto st = store_.commit({{StoreOp::DeletePrefix, "replicas/" + stack + "/", ""},
                           {StoreOp::DeletePrefix, "rollouts/" + stack + "/", ""},
                           {StoreOp::DeletePrefix, "autoscale/" + stack + "/", ""},
                           {StoreOp::DeletePrefix, "sources/" + stack + "/", ""},
                           {StoreOp::Delete, "stacks/" + stack, ""}});
  if (remove_volumes) {
    for (const auto& [key, v] : project.volumes)
      if (!v.external) fs::remove_all(volume_dir(project, key, options_.root + "/volumes"));
    std::error_code ec;  // gone already: nothing to remove
    fs::remove_all(anonymous_volumes_root(options_.root + "/volumes", stack), ec);
  }
  emit(stack, "down");
  if (!nets) return tl::unexpected(nets.error());
  if (!st) return tl::unexpected(st.error().wrap("down " + stack));
  return {};
}

stack::Result<void> EngineImpl::down(const std::string& stack, bool remove_volumes) {
  auto op = op_lock(stack);
  std::lock_guard op_guard(*op);
  return teardown(stack, remove_volumes);
}

stack::Result<void> EngineImpl::stop(const std::string& stack, const std::vector<std::string>& services) {
  auto op = op_lock(stack);
  std::lock_guard op_guard(*op);
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  StackDesired d = (*sup)->desired();
  const compose::Project& p = d.project;
  STACK_TRY(check_services(p, services, "stop"));
  (*sup)->user_stop(services);
  if (services.empty()) {
    STACK_TRY(save_stack(p, sched::StackGoal::Stopped, d.previous));
    (*sup)->set_goal(sched::StackGoal::Stopped);
  }
  return (*sup)->wait_stopped(services, stop_deadline(**sup));
}

stack::Result<void> EngineImpl::start(const std::string& stack, const std::vector<std::string>& services) {
  auto op = op_lock(stack);
  std::lock_guard op_guard(*op);
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  StackDesired d = (*sup)->desired();
  const compose::Project& p = d.project;
  STACK_TRY(check_services(p, services, "start"));
  if ((*sup)->goal() != sched::StackGoal::Up) {
    STACK_TRY(save_stack(p, sched::StackGoal::Up, d.previous));
    (*sup)->set_goal(sched::StackGoal::Up);
  }
  (*sup)->user_start(services);
  return (*sup)->wait_settled(services, false, 0);
}

stack::Result<void> EngineImpl::restart(const std::string& stack, const std::vector<std::string>& services) {
  STACK_TRY(stop(stack, services));
  return start(stack, services);
}

stack::Result<void> EngineImpl::scale(const std::string& stack, const std::map<std::string, int>& replicas) {
  auto op = op_lock(stack);
  std::lock_guard op_guard(*op);
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  StackDesired d = (*sup)->desired();
  std::vector<std::string> services;
  for (const auto& [name, n] : replicas) {
    auto it = d.project.services.find(name);
    if (it == d.project.services.end()) return stack::fail("scale: no such service: " + name, ENOENT);
    if (n < 0) return stack::fail("scale: " + name + ": replicas must be >= 0", EINVAL);
    if (it->second.deploy.mode == "global" || it->second.deploy.mode == "global-job")
      return stack::fail("scale: " + name + " is " + it->second.deploy.mode +
                             " (one replica per node): scale can only be used with replicated or replicated-job mode",
                         EINVAL);
    it->second.replicas = n;  // the one count (compose/model.h)
    services.push_back(name);
    std::map<std::string, std::string> attrs{{"service", name}, {"replicas", std::to_string(n)}};
    if (pin_autoscale(it->second, n)) attrs["autoscale"] = "held at " + std::to_string(n) + " until the next up";
    emit(stack, "scale", attrs);
  }
  set_replicas(d.spec, d.project);  // config_hash leaves replicas out: nothing is replaced
  STACK_TRY(save_stack(d.project, d.goal, d.previous));
  (*sup)->update(std::move(d));
  return (*sup)->wait_settled(services, false, 0);
}

std::vector<StackView> EngineImpl::stacks() {
  std::map<std::string, std::shared_ptr<Supervisor>> all;
  {
    std::lock_guard lk(mu_);
    all = stacks_;
  }
  std::vector<StackView> out;
  for (const auto& [name, sup] : all) {
    StackDesired d = sup->desired();
    StackView v;
    v.name = name;
    v.goal = sched::to_string(d.goal);
    v.services = static_cast<int>(d.project.services.size());
    v.files = d.project.files;
    for (const auto& r : sup->replicas()) {
      v.replicas++;
      if (r.status.state == sched::ReplicaState::Running) v.running++;
    }
    out.push_back(std::move(v));
  }
  return out;
}

stack::Result<compose::Project> EngineImpl::project(const std::string& stack) {
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  return (*sup)->project();
}

std::vector<ReplicaView> EngineImpl::views(Supervisor& sup) {
  compose::Project p = sup.project();
  auto ports = wiring_->ports_of(p.name);
  std::vector<ReplicaView> out;
  std::vector<ReplicaRecord> tasks = sup.replicas();  // by service, slot, incarnation
  for (size_t i = 0; i < tasks.size(); i++) {
    const ReplicaRecord& r = tasks[i];
    const sched::ReplicaStatus& s = r.status;
    // One line per slot: its current task, and an older one only while its
    // container still runs (a slot in a restart shows the new task alone).
    bool superseded = i + 1 < tasks.size() && tasks[i + 1].status.service == s.service &&
                      tasks[i + 1].status.slot == s.slot;
    if (superseded && s.state != sched::ReplicaState::Running && s.state != sched::ReplicaState::Stopping) continue;
    ReplicaView v;
    v.stack = p.name;
    v.service = s.service;
    v.name = r.name.empty() ? p.name + "-" + s.service + "-" + std::to_string(s.slot) : r.name;
    v.replica = s.slot;
    v.container_id = s.container_id;
    v.image = r.image;
    v.state = sched::to_string(s.state);
    if (s.state == sched::ReplicaState::Exited && !s.stopped_by_user && s.restart_count > 0) v.state = "restarting";
    auto sit = p.services.find(s.service);
    bool job = sit != p.services.end() && sit->second.deploy.mode.size() > 4 &&
               sit->second.deploy.mode.compare(sit->second.deploy.mode.size() - 4, 4, "-job") == 0;
    if (job && s.state == sched::ReplicaState::Exited && s.exit_code == 0 && !s.oom_killed) v.state = "complete";
    if (s.health.health != sched::Health::None) v.health = sched::to_string(s.health.health);
    v.pid = s.state == sched::ReplicaState::Running ? r.pid : 0;
    if (sit != p.services.end()) {
      auto nets = ordered_networks(sit->second);
      if (!nets.empty())
        if (auto a = r.addresses.find(network_name(p, nets.front())); a != r.addresses.end()) v.ip = a->second;
      v.command = sit->second.command.value_or(r.command);
    }
    for (const auto& pp : ports)
      if (pp.service == s.service)
        v.ports.push_back({pp.mapping.host_ip, pp.mapping.host_port, pp.port.target, pp.mapping.protocol});
    v.restarts = s.restart_count;
    v.exit_code = s.exit_code;
    v.node = s.node.empty() ? "local" : s.node;
    v.created_at = s.created_at;
    v.started_at = s.started_at;
    v.finished_at = s.finished_at;
    out.push_back(std::move(v));
  }
  // Slots no node could take yet have no task: one pending line each, with
  // why (a global service that no node is eligible for: one line).
  auto targets = sup.slot_targets();
  for (const auto& [service, reason] : sup.unplaced()) {
    auto sit = p.services.find(service);
    if (sit == p.services.end()) continue;
    std::vector<int> slots;
    for (const auto& t : targets[service]) slots.push_back(t.slot);
    if (slots.empty()) slots.push_back(1);
    for (int slot : slots) {
      bool shown = false;
      for (const auto& v : out) shown = shown || (v.service == sit->first && v.replica == slot);
      if (shown) continue;
      ReplicaView v;
      v.stack = p.name;
      v.service = sit->first;
      v.name = replica_name(p, sit->second, slot);
      v.replica = slot;
      v.image = sit->second.image;
      v.state = "pending";
      v.reason = reason;
      v.node = "";
      out.push_back(std::move(v));
    }
  }
  return out;
}

stack::Result<std::vector<ReplicaView>> EngineImpl::ps(const std::string& stack) {
  if (!stack.empty() && stack != "_all") {
    auto sup = need(stack);
    if (!sup) return tl::unexpected(sup.error());
    return views(**sup);
  }
  std::map<std::string, std::shared_ptr<Supervisor>> all;
  {
    std::lock_guard lk(mu_);
    all = stacks_;
  }
  std::vector<ReplicaView> out;
  for (const auto& [_, sup] : all) {
    auto v = views(*sup);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

stack::Result<std::unique_ptr<ExecSession>> EngineImpl::exec(const ExecRequest& request) {
  auto target = running_replica(request, "exec");
  if (!target) return tl::unexpected(target.error());
  return target->first->exec(target->second, request);
}

stack::Result<std::unique_ptr<ExecSession>> EngineImpl::attach(const ExecRequest& request) {
  auto target = running_replica(request, "attach");
  if (!target) return tl::unexpected(target.error());
  return target->first->attach(target->second, true);
}

stack::Result<std::pair<LocalNode*, std::string>> EngineImpl::running_replica(const ExecRequest& request,
                                                                              const std::string& verb) {
  auto sup = need(request.stack);
  if (!sup) return tl::unexpected(sup.error());
  // The slot's running task (the newest when two run), else its current one.
  const ReplicaRecord* pick = nullptr;
  std::vector<ReplicaRecord> tasks = (*sup)->replicas();
  for (const auto& r : tasks)
    if (r.status.service == request.service && r.status.slot == request.index &&
        (!pick || pick->status.state != sched::ReplicaState::Running || r.status.state == sched::ReplicaState::Running))
      pick = &r;
  if (pick) {
    if (pick->status.state != sched::ReplicaState::Running)
      return stack::fail(verb + ": " + pick->name + " is not running (" + sched::to_string(pick->status.state) + ")", ESRCH);
    LocalNode* n = node_of(*pick);
    if (!n) return stack::fail(verb + ": " + pick->name + ": its node " + pick->status.node + " left the cluster", ESRCH);
    return std::pair<LocalNode*, std::string>{n, pick->status.container_id};
  }
  return stack::fail(verb + ": no replica " + std::to_string(request.index) + " of service " + request.service, ENOENT);
}

stack::Result<std::string> EngineImpl::top(const std::string& stack) {
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  json out = json::object();
  for (const auto& r : (*sup)->replicas()) {
    if (r.status.state != sched::ReplicaState::Running) continue;
    LocalNode* n = node_of(r);
    if (!n) continue;
    auto t = n->top(r.status.container_id);
    if (!t) continue;  // exited meanwhile
    out[r.name] = json::parse(*t, nullptr, false);
  }
  return out.dump();
}

stack::Result<std::string> EngineImpl::stats(const std::string& stack) {
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  json out = json::array();
  for (const auto& r : (*sup)->replicas()) {
    if (r.status.state != sched::ReplicaState::Running) continue;
    LocalNode* n = node_of(r);
    if (!n) continue;
    auto t = n->stats(r.status.container_id);
    if (!t) continue;
    json j = json::parse(*t, nullptr, false);
    if (!j.is_object()) continue;
    j["name"] = r.name;
    out.push_back(std::move(j));
  }
  return out.dump();
}

Engine::Subscription EngineImpl::subscribe(uint64_t since_seq, std::function<void(const Event&)> sink) {
  return events_->subscribe(since_seq, std::move(sink));
}

}  // namespace stack::orch
