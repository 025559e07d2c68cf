#include "tests/support/fake_stack.h"

#include <gtest/gtest.h>

namespace stack::test {

namespace {
// Bounds on a test gone wrong (a supervisor that never settles); far above
// what any table row needs.
constexpr int kMaxSteps = 10000;
constexpr int kMaxWakeups = 100000;
}  // namespace

FakeStack::FakeStack(std::vector<sched::NodeInfo> nodes) {
  options_.root = "/nonexistent/fake-stack";  // make_plan names volume dirs; nothing touches them
  for (auto& info : nodes) {
    std::string id = info.id;
    nodes_[id] = std::make_unique<FakeNode>(clock, std::move(info));
  }
}

FakeStack::~FakeStack() { sup_.reset(); }

sched::ServiceSpec& FakeStack::add(const std::string& service, int replicas) {
  sched::ServiceSpec ss;
  ss.name = service;
  ss.replicas = replicas;
  ss.config_hash = "h1";
  order_.push_back(service);
  return specs_[service] = ss;
}

sched::ServiceSpec& FakeStack::spec(const std::string& service) { return specs_.at(service); }

orch::StackDesired FakeStack::desired() const {
  orch::StackDesired d;
  d.project.name = d.spec.name = kStack;
  for (const auto& name : order_) {
    const sched::ServiceSpec& ss = specs_.at(name);
    compose::Service s;
    s.name = name;
    s.image = "busybox";
    s.replicas = ss.replicas;
    s.networks.clear();
    d.project.services[name] = s;
    d.spec.services.push_back(ss);
  }
  return d;
}

FakeNode& FakeStack::node(const std::string& id) { return *nodes_.at(id); }

std::unique_ptr<orch::Supervisor> FakeStack::make() {
  std::map<std::string, orch::LocalNode*> set;
  for (auto& [id, n] : nodes_) set[id] = n.get();
  orch::SupervisorContext ctx{
      options_,
      std::make_shared<orch::StaticNodes>(set),
      [this](const compose::Project&, const std::vector<orch::WiredReplica>& replicas) {
        std::lock_guard lk(mu_);
        wiring_ = replicas;
      },
      bus_,
      store_,
      [this](std::function<void()> probe) {
        std::lock_guard lk(mu_);
        probes_.push_back(std::move(probe));
      },
      clock,
      enforce_requirements};
  return std::make_unique<orch::Supervisor>(std::move(ctx), desired(), std::vector<orch::ReplicaRecord>{});
}

void FakeStack::start() {
  sup_ = make();
  sup_->adopt();
}

void FakeStack::start_thread() {
  sup_ = make();
  sup_->start();
}

void FakeStack::update() { sup_->update(desired()); }

bool FakeStack::run_probes() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lk(mu_);
    batch.swap(probes_);
  }
  for (auto& p : batch) p();  // outside mu_ and the supervisor's lock, as on the pool
  return !batch.empty();
}

int64_t FakeStack::settle() {
  for (int i = 0; i < kMaxSteps; i++) {
    bool reported = false;
    for (auto& [_, n] : nodes_) reported = n->deliver() > 0 || reported;
    reported = run_probes() || reported;
    orch::Supervisor::Pass p = sup_->step();
    bool queued = false;
    for (auto& [_, n] : nodes_) queued = queued || n->queued_exits() > 0;
    {
      std::lock_guard lk(mu_);
      queued = queued || !probes_.empty();
    }
    if (!reported && !p.progress && !queued) return p.wake_at;
  }
  ADD_FAILURE() << "the supervisor did not settle in " << kMaxSteps << " steps";
  return INT64_MAX;
}

bool FakeStack::run_until(const std::function<bool()>& done, int64_t limit_ms) {
  const int64_t limit = clock.now() + limit_ms;
  for (int i = 0; i < kMaxWakeups; i++) {
    int64_t wake = settle();
    if (done()) return true;
    if (clock.now() >= limit) return false;
    // A wake-up in the past would be a supervisor bug; move on by 1 ms.
    clock.set(std::min(std::max(wake, clock.now() + 1), limit));
  }
  ADD_FAILURE() << "more than " << kMaxWakeups << " wake-ups";
  return false;
}

void FakeStack::run_for(int64_t ms) {
  run_until([] { return false; }, ms);
}

std::optional<orch::ReplicaRecord> FakeStack::replica(const std::string& name) {
  for (auto& r : sup_->replicas())
    if (r.name == name) return r;
  return std::nullopt;
}

std::optional<orch::WiredReplica> FakeStack::wired(const std::string& name) {
  std::lock_guard lk(mu_);
  for (const auto& w : wiring_)
    if (w.name == name) return w;
  return std::nullopt;
}

std::vector<std::string> FakeStack::events() {
  std::vector<std::string> out;
  for (const auto& e : bus_.recent(0)) out.push_back(e.type + " " + e.replica);
  return out;
}

stack::Result<void> FakeStack::settled(const std::vector<std::string>& services, bool healthy) {
  return sup_->wait_settled(services, healthy, clock.now());
}

}  // namespace stack::test
