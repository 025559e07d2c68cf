#include "orchestrator/daemon/cluster/assignment_runner.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <filesystem>

#include "orchestrator/daemon/cluster/cluster_keys.h"

namespace stack::orch {
namespace {

// The exit code reported for a container this node no longer has (its shim
// went with a reboot) and for one it could not create (docker's 125).
constexpr int kGoneExitCode = 255;

}  // namespace

stack::Result<std::unique_ptr<AssignmentRunner>> AssignmentRunner::start(StateStore& store, std::string self,
                                                                          LocalNode& node,
                                                                          net::NetworkManager& networks,
                                                                          std::string volume_root) {
  std::unique_ptr<AssignmentRunner> r(
      new AssignmentRunner(store, std::move(self), node, networks, std::move(volume_root)));
  AssignmentRunner* raw = r.get();
  const std::string tasks = cluster_keys::tasks(raw->self_);
  auto reported = store.range(tasks, RangeOptions{true, 0});
  if (!reported) return tl::unexpected(reported.error().wrap("read " + tasks));
  for (const auto& kv : reported->kvs) {
    auto rep = report_from_json(kv.value);
    if (rep) raw->reports_[kv.key.substr(tasks.size())] = *rep;
  }
  // The first listing only collects (and queues creates that adopt() finds
  // already made); adopt() then compares it with this host.
  auto assigned = PrefixFollower::start(store, cluster_keys::assign(raw->self_),
                                        [raw](const std::string& id, const std::string* value) {
                                          std::lock_guard lk(raw->mu_);
                                          if (raw->listing_) {
                                            raw->assigned_.insert(id);
                                            if (value) raw->ops_.push_back({Op::Create, id, *value});
                                            return;
                                          }
                                          bool had = raw->assigned_.count(id) > 0;
                                          if (value && !had) {
                                            raw->assigned_.insert(id);
                                            raw->ops_.push_back({Op::Create, id, *value});
                                          } else if (!value && had) {
                                            raw->assigned_.erase(id);
                                            raw->ops_.push_back({Op::Remove, id, ""});
                                          }
                                          raw->cv_.notify_all();
                                        },
                                        [raw] { raw->republish(); });
  if (!assigned) return tl::unexpected(assigned.error());
  std::set<std::string> snapshot;
  {
    std::lock_guard lk(raw->mu_);
    raw->listing_ = false;
    snapshot = raw->assigned_;
  }
  raw->followers_.push_back(std::move(*assigned));
  raw->adopt(snapshot);
  auto signals = PrefixFollower::start(store, cluster_keys::signals(raw->self_),
                                       [raw](const std::string& id, const std::string* value) {
                                         if (value) raw->push({Op::Signal, id, *value});
                                       });
  if (!signals) return tl::unexpected(signals.error());
  raw->followers_.push_back(std::move(*signals));
  auto probes = PrefixFollower::start(store, cluster_keys::probes(raw->self_),
                                      [raw](const std::string& id, const std::string* value) {
                                        if (!value) return;
                                        std::lock_guard lk(raw->mu_);
                                        raw->probe_queue_.emplace_back(id, *value);
                                        raw->cv_.notify_all();
                                      });
  if (!probes) return tl::unexpected(probes.error());
  raw->followers_.push_back(std::move(*probes));
  raw->worker_ = std::thread([raw] { raw->work(); });
  raw->prober_ = std::thread([raw] { raw->probes(); });
  return r;
}

AssignmentRunner::~AssignmentRunner() {
  followers_.clear();  // no more ops arrive
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (prober_.joinable()) prober_.join();
}

void AssignmentRunner::push(Op op) {
  std::lock_guard lk(mu_);
  ops_.push_back(std::move(op));
  cv_.notify_all();
}

// Before the worker runs: this host's containers against the assignments.
void AssignmentRunner::adopt(const std::set<std::string>& assigned) {
  std::set<std::string> local;
  for (const auto& id : node_.list_ids()) {
    if (assigned.count(id)) {
      local.insert(id);
      continue;
    }
    spdlog::info("cluster: removing {}: no longer assigned to this node", id);
    (void)node_.remove({id});
    drop_report(id);
  }
  std::vector<std::string> stale;
  {
    std::lock_guard lk(report_mu_);
    for (const auto& [id, _] : reports_)
      if (!assigned.count(id)) stale.push_back(id);
  }
  for (const auto& id : stale) drop_report(id);
  for (const auto& id : assigned) {
    auto facts = local.count(id) ? node_.reattach(id) : stack::Result<std::optional<ReplicaRuntime>>(std::nullopt);
    if (facts && *facts) {
      if ((*facts)->running)
        report(id, [&](TaskReport& r) {
          r.state = TaskReport::State::Running;
          r.runtime = **facts;
        });
      watch_exit(id);  // one that exited while stackd was away is reported at once
      continue;
    }
    if (local.count(id)) (void)node_.remove({id});  // leftovers of a container whose shim is gone
    bool reported;
    {
      std::lock_guard lk(report_mu_);
      reported = reports_.count(id) > 0;
    }
    if (!reported) continue;  // never made here: its queued Create makes it
    report(id, [](TaskReport& r) {
      if (r.state == TaskReport::State::Running) {
        r.state = TaskReport::State::Exited;
        r.exit = ExitInfo{kGoneExitCode, false, 0};
        r.error = "its container is gone (the node restarted)";
      }
    });
  }
}

void AssignmentRunner::work() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return stopping_ || !ops_.empty(); });
    if (stopping_) return;
    Op op = std::move(ops_.front());
    ops_.pop_front();
    lk.unlock();
    switch (op.kind) {
      case Op::Create: create(op.id, op.text); break;
      case Op::Remove: remove(op.id); break;
      case Op::Signal: {
        auto sig = signal_from_json(op.text);
        if (sig) (void)node_.signal(op.id, *sig);
        (void)store_.remove(cluster_keys::signals(self_) + op.id);  // delivered once
        break;
      }
    }
    lk.lock();
  }
}

void AssignmentRunner::probes() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return stopping_ || !probe_queue_.empty(); });
    if (stopping_) return;
    auto [id, text] = std::move(probe_queue_.front());
    probe_queue_.pop_front();
    lk.unlock();
    auto request = probe_request_from_json(text);
    if (request) {
      sched::ProbeResult result = node_.probe(id, request->spec, request->address);
      report(id, [&](TaskReport& r) {
        r.probe = result;
        r.probe_nonce = request->nonce;
      });
    }
    (void)store_.remove(cluster_keys::probes(self_) + id);
    lk.lock();
  }
}

stack::Result<std::shared_ptr<const PlanSource>> AssignmentRunner::source(const std::string& key) {
  if (auto it = sources_.find(key); it != sources_.end()) return it->second;
  auto text = store_.get(key);
  if (!text) return tl::unexpected(text.error().wrap("read " + key));
  if (!*text) return stack::fail(key + ": no such source (the stack went down or changed since)", ENOENT);
  auto parsed = source_from_json(**text);
  if (!parsed) return tl::unexpected(parsed.error().wrap(key));
  if (sources_.size() >= 16) sources_.clear();  // a few stacks' current ones; dropped ones are read again
  sources_.emplace(key, *parsed);
  return *parsed;
}

void AssignmentRunner::create(const std::string& id, const std::string& text) {
  {
    std::lock_guard lk(report_mu_);
    if (reports_.count(id)) return;  // adopted, or made already
  }
  auto fail = [&](const std::string& why) {
    spdlog::warn("cluster: assignment {}: {}", id, why);
    report(id, [&](TaskReport& r) {
      r.state = TaskReport::State::Failed;
      r.error = why;
      r.exit = ExitInfo{kGoneExitCode, false, 0};
    });
  };
  auto plan = plan_from_assignment(text, volume_root_, [this](const std::string& key) { return source(key); });
  if (!plan) return fail(plan.error().message());
  std::error_code ec;
  for (const auto& [key, dir] : plan->volume_dirs) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail("volume " + key + ": create " + dir + ": " + ec.message());
  }
  std::set<std::string> used;
  for (const auto& a : plan->networks) {
    bool existed = networks_.find_network(a.network.name).has_value();
    net::NetworkConfig cfg;
    cfg.name = a.network.name;
    cfg.subnet = a.network.subnet;
    cfg.gateway = a.network.gateway;
    cfg.internal = a.network.internal;
    cfg.mtu = a.network.mtu;
    auto made = networks_.create_network(cfg);
    if (!made) return fail("network " + a.network.name + ": " + made.error().message());
    used.insert(a.network.name);
    if (!existed) {
      std::lock_guard lk(mu_);
      made_networks_.insert(a.network.name);
    }
  }
  {
    std::lock_guard lk(mu_);
    networks_of_[id] = used;
  }
  auto image = node_.ensure_image(plan->service.image, compose::PullRule{}, [](const std::string&) {});
  if (!image) {
    remove_networks_unused();
    return fail("image " + plan->service.image + ": " + image.error().message());
  }
  auto started = node_.create_and_start(*plan);
  if (!started) {
    {
      std::lock_guard lk(mu_);
      networks_of_.erase(id);
    }
    remove_networks_unused();
    return fail(started.error().message());
  }
  report(id, [&](TaskReport& r) {
    r.state = TaskReport::State::Running;
    r.runtime = *started;
  });
  watch_exit(id);
}

void AssignmentRunner::remove(const std::string& id) {
  if (auto rm = node_.remove({id}); !rm) spdlog::warn("cluster: remove {}: {}", id, rm.error().message());
  drop_report(id);
  {
    std::lock_guard lk(mu_);
    networks_of_.erase(id);
  }
  remove_networks_unused();
}

void AssignmentRunner::watch_exit(const std::string& id) {
  auto w = node_.watch(id, [this, id](const ExitInfo& info) {
    report(id, [&](TaskReport& r) {
      r.state = TaskReport::State::Exited;
      r.exit = info;
      r.runtime.running = false;
    });
  });
  if (!w)
    report(id, [&](TaskReport& r) {
      r.state = TaskReport::State::Exited;
      r.exit = ExitInfo{kGoneExitCode, false, 0};
      r.error = "watch: " + w.error().message();
    });
}

void AssignmentRunner::report(const std::string& id, const std::function<void(TaskReport&)>& change) {
  std::lock_guard lk(report_mu_);
  TaskReport& r = reports_[id];
  change(r);
  if (auto put = store_.put(cluster_keys::tasks(self_) + id, report_to_json(r)); !put)
    spdlog::warn("cluster: report {}: {}", id, put.error().message());
}

void AssignmentRunner::republish() {
  std::lock_guard lk(report_mu_);
  for (const auto& [id, r] : reports_)
    if (auto put = store_.put(cluster_keys::tasks(self_) + id, report_to_json(r)); !put)
      spdlog::warn("cluster: report {}: {}", id, put.error().message());
}

void AssignmentRunner::drop_report(const std::string& id) {
  std::lock_guard lk(report_mu_);
  reports_.erase(id);
  if (auto rm = store_.remove(cluster_keys::tasks(self_) + id); !rm)
    spdlog::warn("cluster: report {}: {}", id, rm.error().message());
}

void AssignmentRunner::remove_networks_unused() {
  std::vector<std::string> unused;
  {
    std::lock_guard lk(mu_);
    for (const auto& name : made_networks_) {
      bool in_use = false;
      for (const auto& [_, nets] : networks_of_) in_use = in_use || nets.count(name);
      if (!in_use) unused.push_back(name);
    }
    for (const auto& n : unused) made_networks_.erase(n);
  }
  for (const auto& n : unused) (void)networks_.remove_network(n);
}

}  // namespace stack::orch
