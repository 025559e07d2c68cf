#include "tests/support/fake_node.h"

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace stack::test {

sched::NodeInfo FakeNode::default_info(const std::string& id) {
  sched::NodeInfo n;
  n.id = id;
  n.hostname = "fake-" + id;
  n.cpus = 4;
  n.memory = 8ull << 30;
  return n;
}

FakeNode::FakeNode(orch::Clock& clock, sched::NodeInfo info) : clock_(clock), info_(std::move(info)) {}

FakeContainer* FakeNode::find(const std::string& id) {
  for (auto& c : containers_)
    if (c.id == id) return &c;
  return nullptr;
}

void FakeNode::end(FakeContainer& c, int code, bool oom_killed) {
  if (!c.running) return;
  c.running = false;
  c.exit_code = code;
  c.finished_at = clock_.now();
  queued_.push_back({c.id, orch::ExitInfo{code, oom_killed, c.finished_at}});
}

void FakeNode::exit(const std::string& name, int code, bool oom_killed) {
  std::lock_guard lk(mu_);
  for (auto& c : containers_)
    if (c.name == name && c.running) end(c, code, oom_killed);
}

void FakeNode::script_probes(const std::string& name_or_service, std::vector<int> codes) {
  std::lock_guard lk(mu_);
  probe_scripts_[name_or_service] = std::move(codes);
}

void FakeNode::ignore_signal(const std::string& service, int signal) {
  std::lock_guard lk(mu_);
  ignored_.insert({service, signal});
}

void FakeNode::fail_creates(const std::string& service, std::string message) {
  std::lock_guard lk(mu_);
  create_failures_[service] = std::move(message);
}

size_t FakeNode::deliver() {
  std::vector<std::pair<std::function<void(const orch::ExitInfo&)>, orch::ExitInfo>> due;
  {
    std::lock_guard lk(mu_);
    std::vector<std::pair<std::string, orch::ExitInfo>> later;
    for (auto& [id, info] : queued_) {
      auto w = watches_.find(id);
      if (w == watches_.end()) {
        later.push_back({id, info});  // reported once it is watched
        continue;
      }
      due.push_back({std::move(w->second), info});
      watches_.erase(w);
    }
    queued_ = std::move(later);
  }
  // Outside mu_: the watcher takes the supervisor's lock, which is held
  // around calls into this node.
  for (auto& [fn, info] : due) fn(info);
  return due.size();
}

std::vector<FakeContainer> FakeNode::containers() const {
  std::lock_guard lk(mu_);
  return containers_;
}

std::vector<FakeContainer> FakeNode::running() const {
  std::lock_guard lk(mu_);
  std::vector<FakeContainer> out;
  for (const auto& c : containers_)
    if (c.running) out.push_back(c);
  return out;
}

std::vector<std::string> FakeNode::running_names() const {
  std::vector<std::string> out;
  for (const auto& c : running()) out.push_back(c.name);
  std::sort(out.begin(), out.end());
  return out;
}

int FakeNode::probes_of(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = probes_run_.find(name);
  return it == probes_run_.end() ? 0 : it->second;
}

size_t FakeNode::queued_exits() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (const auto& [id, info] : queued_) n += watches_.count(id);
  return n;
}

stack::Result<void> FakeNode::ensure_image(const std::string&, const compose::PullRule&,
                                           const std::function<void(const std::string&)>&) {
  return {};
}

stack::Result<compose::Healthcheck> FakeNode::image_healthcheck(const std::string&) { return compose::Healthcheck{}; }

stack::Result<orch::ReplicaRuntime> FakeNode::create_and_start(const orch::ReplicaPlan& plan) {
  std::lock_guard lk(mu_);
  if (auto f = create_failures_.find(plan.service.name); f != create_failures_.end())
    return stack::fail("create " + plan.name + ": " + f->second, EIO);
  FakeContainer c;
  c.id = plan.id;
  c.name = plan.name;
  c.service = plan.service.name;
  c.slot = plan.slot;
  c.started_at = clock_.now();
  containers_.push_back(c);
  orch::ReplicaRuntime rr;
  rr.id = plan.id;
  rr.pid = next_pid_++;
  rr.shim_pid = next_pid_++;
  rr.started_at_ms = c.started_at;
  int host = 2;
  for (const auto& a : plan.networks) rr.addresses[a.network.name] = "10.88.0." + std::to_string(host++);
  return rr;
}

stack::Result<void> FakeNode::watch(const std::string& id, std::function<void(const orch::ExitInfo&)> on_exit) {
  std::lock_guard lk(mu_);
  FakeContainer* c = find(id);
  if (!c || c->removed) return stack::fail("watch " + id + ": no such container", ESRCH);
  watches_[id] = std::move(on_exit);
  return {};
}

stack::Result<void> FakeNode::signal(const std::string& id, int signal) {
  std::lock_guard lk(mu_);
  FakeContainer* c = find(id);
  if (!c || c->removed) return stack::fail("signal " + id + ": no such container", ESRCH);
  c->signals.push_back(signal);
  if (signal == SIGKILL || !ignored_.count({c->service, signal})) end(*c, 128 + signal, false);
  return {};
}

stack::Result<void> FakeNode::remove(const std::vector<std::string>& ids) {
  std::lock_guard lk(mu_);
  for (const auto& id : ids) {
    FakeContainer* c = find(id);
    if (!c) continue;  // idempotent, as the real node
    c->running = false;
    c->removed = true;
    watches_.erase(id);  // no exit is reported for a removed container
    std::erase_if(queued_, [&](const auto& q) { return q.first == id; });
  }
  return {};
}

// As the real node after a daemon restart: the facts of a container that was
// not removed (running, or exited and still held), none otherwise.
stack::Result<std::optional<orch::ReplicaRuntime>> FakeNode::reattach(const std::string& id) {
  std::lock_guard lk(mu_);
  FakeContainer* c = find(id);
  if (!c || c->removed) return std::optional<orch::ReplicaRuntime>();
  orch::ReplicaRuntime rr;
  rr.id = id;
  rr.running = c->running;
  rr.started_at_ms = c->started_at;
  return std::optional<orch::ReplicaRuntime>(rr);
}

std::vector<std::string> FakeNode::list_ids() {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& c : containers_)
    if (!c.removed) out.push_back(c.id);
  return out;
}

sched::ProbeResult FakeNode::probe(const std::string& id, const sched::HealthSpec&, const std::string&) {
  std::lock_guard lk(mu_);
  sched::ProbeResult r;
  r.start = r.end = clock_.now();
  FakeContainer* c = find(id);
  if (!c) {
    r.exit_code = 1;
    r.output = "no such container";
    return r;
  }
  probes_run_[c->name]++;
  int n = probes_of_id_[c->id]++;  // each incarnation plays the script from the start
  auto script = probe_scripts_.find(c->name);
  if (script == probe_scripts_.end()) script = probe_scripts_.find(c->service);
  if (script != probe_scripts_.end() && !script->second.empty()) {
    const std::vector<int>& codes = script->second;
    r.exit_code = codes[std::min<size_t>(static_cast<size_t>(n), codes.size() - 1)];
  }
  r.output = "probe " + std::to_string(n + 1) + ": exit " + std::to_string(r.exit_code);
  return r;
}

stack::Result<std::unique_ptr<orch::ExecSession>> FakeNode::exec(const std::string& id, const orch::ExecRequest&) {
  return stack::fail("exec " + id + ": the fake node runs no processes", ENOTSUP);
}

std::vector<std::string> FakeNode::log_files(const std::string&) { return {}; }

stack::Result<std::string> FakeNode::top(const std::string&) { return std::string("{}"); }

stack::Result<std::string> FakeNode::stats(const std::string&) { return std::string("{}"); }

sched::NodeInfo FakeNode::describe() { return info_; }

}  // namespace stack::test
