#include "orchestrator/daemon/cluster/cluster_nodes.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <random>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/cluster/prefix_follower.h"
#include "orchestrator/api/api_json.h"
#include "orchestrator/daemon/cluster/remote_exec.h"

namespace stack::orch {
namespace {

using namespace std::chrono_literals;

// How long a node may take to create and start a replica (an image pull
// included) before the leader gives up on it.
constexpr auto kCreateLimit = std::chrono::minutes(5);
// How long a ready node may take to remove a replica (SIGKILL, then teardown).
constexpr auto kRemoveLimit = 60s;

std::string nonce() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::to_string(gen());
}

std::string route(const std::string& id, const std::string& verb) { return "/v1/node/containers/" + id + "/" + verb; }

class RemoteNode final : public LocalNode {
 public:
  RemoteNode(ClusterNodes& cluster, std::string id) : cluster_(cluster), id_(std::move(id)) {}

  stack::Result<void> ensure_image(const std::string&, const compose::PullRule&,
                                   const std::function<void(const std::string&)>&) override {
    return {};  // the node pulls what an assignment needs before creating it
  }
  stack::Result<compose::Healthcheck> image_healthcheck(const std::string& ref) override {
    return stack::fail("image " + ref + " on node " + id_ + ": not readable from the leader", ENOTSUP);
  }

  bool concurrent_creates() const override { return true; }

  stack::Result<ReplicaRuntime> create_and_start(const ReplicaPlan& plan) override {
    if (!plan.source) return stack::fail("assign " + plan.id + ": the plan has no source", EINVAL);
    const std::string key = cluster_keys::assign(id_) + plan.id;
    STACK_TRY_CTX(cluster_.publish_source(plan), "assign " + plan.name + " to node " + id_);
    STACK_TRY_CTX(cluster_.assignments().write({StoreOp::Put, key, assignment_to_json(plan), 0}),
                  "assign " + plan.name + " to node " + id_);
    auto report = cluster_.wait_report(id_, plan.id, [](const TaskReport* r) { return r != nullptr; }, kCreateLimit);
    if (report && report->state != TaskReport::State::Failed) return report->runtime;
    (void)remove({plan.id});
    if (report) return stack::fail("node " + id_ + ": " + report->error, EIO);
    if (!cluster_.ready(id_)) return stack::fail("node " + id_ + " went down while starting " + plan.name, EHOSTDOWN);
    return stack::fail("node " + id_ + " did not start " + plan.name + " in time", ETIMEDOUT);
  }

  stack::Result<void> watch(const std::string& id, std::function<void(const ExitInfo&)> on_exit) override {
    cluster_.watch_exit(id, std::move(on_exit));
    return {};
  }

  stack::Result<void> signal(const std::string& id, int signal) override {
    return cluster_.store().put(cluster_keys::signals(id_) + id, signal_to_json(signal, nonce()));
  }

  stack::Result<void> remove(const std::vector<std::string>& ids) override {
    cluster_.cancel_watches(ids);
    std::vector<StoreOp> ops;
    for (const auto& id : ids)
      for (const auto& prefix : {cluster_keys::assign(id_), cluster_keys::signals(id_), cluster_keys::probes(id_)})
        ops.push_back(StoreOp{StoreOp::Delete, prefix + id, "", 0});
    STACK_TRY_CTX(cluster_.store().commit(ops), "remove from node " + id_);
    // A down node removes them when it returns (its runner's first pass).
    for (const auto& id : ids) {
      auto left = cluster_.wait_report(id_, id, [](const TaskReport* r) { return r == nullptr; }, kRemoveLimit);
      if (left && cluster_.ready(id_))
        return stack::fail("node " + id_ + " did not remove " + id + " in time", ETIMEDOUT);
    }
    return {};
  }

  stack::Result<std::optional<ReplicaRuntime>> reattach(const std::string& id) override {
    auto report = cluster_.wait_report(id_, id, [](const TaskReport*) { return true; }, 0ms);
    if (!report || report->state == TaskReport::State::Failed) return std::optional<ReplicaRuntime>{};
    return std::optional<ReplicaRuntime>{report->runtime};
  }

  std::vector<std::string> list_ids() override {
    std::vector<std::string> out;
    const std::string prefix = cluster_keys::assign(id_);
    auto all = cluster_.store().list(prefix);
    if (all)
      for (const auto& [key, _] : *all) out.push_back(key.substr(prefix.size()));
    return out;
  }

  sched::ProbeResult probe(const std::string& id, const sched::HealthSpec& spec, const std::string& address) override {
    ProbeRequest request{spec, address, nonce()};
    sched::ProbeResult failed;
    failed.exit_code = 1;
    if (auto put = cluster_.store().put(cluster_keys::probes(id_) + id, probe_request_to_json(request)); !put) {
      failed.output = "probe via node " + id_ + ": " + put.error().message();
      return failed;
    }
    auto answered = [&](const TaskReport* r) { return r && r->probe && r->probe_nonce == request.nonce; };
    auto report = cluster_.wait_report(id_, id, answered, std::chrono::milliseconds(spec.timeout) + 5s);
    if (report && answered(&*report)) return *report->probe;
    failed.output = "node " + id_ + " did not answer the probe";
    return failed;
  }

  // Run there, its frames relayed to the client as they come (remote_exec.h).
  stack::Result<std::unique_ptr<ExecSession>> exec(const std::string& id, const ExecRequest& request) override {
    return cluster_.exec_on(id_, id, request);
  }
  // Log files by their names on the node (the node resolves a name among
  // the replica's own files, never a path the leader chose).
  std::vector<std::string> log_files(const std::string& id) override {
    auto answer = cluster_.ask(id_, route(id, "logs"));
    std::vector<std::string> names;
    if (!answer) {
      spdlog::warn("logs of {} on node {}: {}", id, id_, answer.error().message());
      return names;
    }
    for (const auto& f : answer->value("files", nlohmann::json::array()))
      if (f.is_string()) names.push_back(f.get<std::string>().substr(f.get<std::string>().rfind('/') + 1));
    return names;
  }
  std::vector<std::string> read_log(const std::string& id, const std::string& file, uint64_t& offset) override {
    if (file.empty() || file.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
                            std::string::npos)
      return {};
    auto answer = cluster_.ask(id_, route(id, "logs") + "?file=" + file + "&offset=" + std::to_string(offset));
    if (!answer) return {};
    std::vector<std::string> lines;
    for (const auto& l : answer->value("lines", nlohmann::json::array()))
      if (l.is_string()) lines.push_back(l.get<std::string>());
    offset = answer->value("offset", offset);
    return lines;
  }
  stack::Result<std::string> top(const std::string& id) override {
    auto answer = cluster_.ask(id_, route(id, "top"));
    if (!answer) return tl::unexpected(answer.error().wrap("top " + id + " on node " + id_));
    return answer->dump();
  }
  stack::Result<std::string> stats(const std::string& id) override {
    auto answer = cluster_.ask(id_, route(id, "stats"));
    if (!answer) return tl::unexpected(answer.error().wrap("stats " + id + " on node " + id_));
    return answer->dump();
  }

 private:
  ClusterNodes& cluster_;
  const std::string id_;
};

// A node's own replicas: everything through the store like any node (so a
// new leader finds them as assignments), but exec, logs, top and stats
// straight from this host.
class SelfNode final : public LocalNode {
 public:
  SelfNode(std::unique_ptr<LocalNode> remote, LocalNode& local) : remote_(std::move(remote)), local_(local) {}
  stack::Result<void> ensure_image(const std::string& ref, const compose::PullRule& rule,
                                   const std::function<void(const std::string&)>& progress) override {
    return local_.ensure_image(ref, rule, progress);
  }
  stack::Result<compose::Healthcheck> image_healthcheck(const std::string& ref) override {
    return local_.image_healthcheck(ref);
  }
  stack::Result<ReplicaRuntime> create_and_start(const ReplicaPlan& plan) override {
    return remote_->create_and_start(plan);
  }
  stack::Result<void> watch(const std::string& id, std::function<void(const ExitInfo&)> fn) override {
    return remote_->watch(id, std::move(fn));
  }
  stack::Result<void> signal(const std::string& id, int sig) override { return remote_->signal(id, sig); }
  stack::Result<void> remove(const std::vector<std::string>& ids) override { return remote_->remove(ids); }
  stack::Result<std::optional<ReplicaRuntime>> reattach(const std::string& id) override {
    return remote_->reattach(id);
  }
  std::vector<std::string> list_ids() override { return remote_->list_ids(); }
  sched::ProbeResult probe(const std::string& id, const sched::HealthSpec& spec, const std::string& address) override {
    return local_.probe(id, spec, address);
  }
  stack::Result<std::unique_ptr<ExecSession>> exec(const std::string& id, const ExecRequest& r) override {
    return local_.exec(id, r);
  }
  stack::Result<std::unique_ptr<ExecSession>> attach(const std::string& id, bool forward_exit) override {
    return local_.attach(id, forward_exit);
  }
  std::vector<std::string> log_files(const std::string& id) override { return local_.log_files(id); }
  std::vector<std::string> read_log(const std::string& id, const std::string& file, uint64_t& offset) override {
    return local_.read_log(id, file, offset);
  }
  stack::Result<std::string> top(const std::string& id) override { return local_.top(id); }
  stack::Result<std::string> stats(const std::string& id) override { return local_.stats(id); }

 private:
  std::unique_ptr<LocalNode> remote_;
  LocalNode& local_;
};

}  // namespace

stack::Result<std::shared_ptr<ClusterNodes>> ClusterNodes::open(StateStore& store, std::string self,
                                                                LocalNode* self_node, PeerCredentials credentials) {
  std::shared_ptr<ClusterNodes> c(new ClusterNodes(store, std::move(self), self_node, std::move(credentials)));
  // Each first listing is applied before this returns: restore() reattaches
  // from the reports right after.
  const std::pair<const char*, void (ClusterNodes::*)(const std::string&, const std::string*)> followed[] = {
      {cluster_keys::kNodes, &ClusterNodes::apply_node},
      {cluster_keys::kAlive, &ClusterNodes::apply_alive},
      {cluster_keys::kTasks, &ClusterNodes::apply_task}};
  for (const auto& [prefix, apply] : followed) {
    auto f = PrefixFollower::start(store, prefix, [raw = c.get(), fn = apply](const std::string& rest, const std::string* v) {
      (raw->*fn)(rest, v);
    });
    if (!f) return tl::unexpected(f.error());
    c->followers_.push_back(std::move(*f));
  }
  return c;
}

stack::Result<std::pair<std::string, int>> ClusterNodes::endpoint(const std::string& node) {
  std::lock_guard lk(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return stack::fail("node " + node + " is not in the cluster", ENOENT);
  return std::pair{it->second.view.address, it->second.view.api_port};
}

stack::Result<nlohmann::json> ClusterNodes::ask(const std::string& node, const std::string& target,
                                                const std::string& body, int timeout_s) {
  auto at = endpoint(node);
  if (!at) return tl::unexpected(at.error());
  return peer_call(credentials_, body.empty() ? "GET" : "POST", at->first, at->second, target, body, timeout_s);
}

stack::Result<std::unique_ptr<ExecSession>> ClusterNodes::exec_on(const std::string& node, const std::string& id,
                                                                   const ExecRequest& request) {
  auto at = endpoint(node);
  if (!at) return tl::unexpected(at.error());
  return open_remote_exec(credentials_, node, at->first, at->second, id, request);
}

ClusterNodes::~ClusterNodes() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    on_change_ = nullptr;
  }
  notify_waiters("");
  followers_.clear();
}

void ClusterNodes::apply_node(const std::string& id, const std::string* value) {
  std::optional<NodeView> view;
  if (value) {
    auto parsed = node_from_json(nlohmann::json::parse(*value, nullptr, false));
    if (parsed) view = *parsed;
  }
  {
    std::lock_guard lk(mu_);
    Entry& e = nodes_[id];
    if (view) e.view = *view;
    e.view.id = id;
    if (!e.node) {
      auto remote = std::make_unique<RemoteNode>(*this, id);
      if (id == self_ && self_node_)
        e.node = std::make_unique<SelfNode>(std::move(remote), *self_node_);
      else
        e.node = std::move(remote);
    }
    if (!value) e.view.status = "removed";
  }
  changed();
}

void ClusterNodes::apply_alive(const std::string& id, const std::string* value) {
  {
    std::lock_guard lk(mu_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return;
    if (it->second.alive == (value != nullptr)) return;
    it->second.alive = value != nullptr;
    spdlog::info("cluster: node {} is {}", id, value ? "ready" : "down");
  }
  changed();
  notify_waiters("");
}

void ClusterNodes::notify_waiters(const std::string& id) {
  std::lock_guard lk(mu_);
  if (id.empty()) {
    for (auto& [_, cv] : waiters_) cv->notify_all();
    return;
  }
  auto [from, to] = waiters_.equal_range(id);
  for (auto it = from; it != to; ++it) it->second->notify_all();
}

void ClusterNodes::apply_task(const std::string& rest, const std::string* value) {
  auto slash = rest.find('/');
  if (slash == std::string::npos) return;
  const std::string id = rest.substr(slash + 1);
  std::function<void(const ExitInfo&)> fire;
  ExitInfo info;
  {
    std::lock_guard lk(mu_);
    if (!value) {
      reports_.erase(id);
    } else {
      auto r = report_from_json(*value);
      if (!r) {
        spdlog::warn("cluster: report of {}: {}", id, r.error().message());
        return;
      }
      reports_[id] = *r;
      if (r->state != TaskReport::State::Running) {
        auto w = exit_watches_.find(id);
        if (w != exit_watches_.end()) {
          fire = std::move(w->second);
          exit_watches_.erase(w);
          info = r->state == TaskReport::State::Exited ? r->exit : ExitInfo{125, false, 0};
        }
      }
    }
  }
  notify_waiters(id);
  if (fire) fire(info);
}

void ClusterNodes::changed() {
  std::function<void()> fn;
  {
    std::lock_guard lk(mu_);
    fn = on_change_;
  }
  if (fn) fn();
}

std::vector<sched::NodeInfo> ClusterNodes::nodes() {
  std::lock_guard lk(mu_);
  std::vector<sched::NodeInfo> out;
  for (const auto& [id, e] : nodes_) {
    if (e.view.status == "removed") continue;
    sched::NodeInfo n;
    n.id = id;
    n.hostname = e.view.hostname;
    n.cpus = e.view.cpus;
    n.memory = static_cast<uint64_t>(e.view.memory_bytes);
    n.gpus = e.view.gpus;
    n.labels = e.view.labels;
    n.role = e.view.role;
    n.os = e.view.os;
    n.arch = e.view.arch;
    n.ready = e.alive;
    n.active = e.view.availability == "active";
    n.drain = e.view.availability == "drain";
    out.push_back(std::move(n));
  }
  return out;
}

LocalNode* ClusterNodes::find(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = nodes_.find(id);
  return it == nodes_.end() || it->second.view.status == "removed" ? nullptr : it->second.node.get();
}

void ClusterNodes::on_change(std::function<void()> fn) {
  std::lock_guard lk(mu_);
  on_change_ = std::move(fn);
}

stack::Result<void> ClusterNodes::publish_source(const ReplicaPlan& plan) {
  const SourceText source = source_text(plan);
  std::lock_guard lk(sources_mu_);  // the creates of a batch wait for the first one's write
  if (auto it = published_.find(source.key); it != published_.end() && it->second.lock() == plan.source) return {};
  STACK_TRY_CTX(store_.put(source.key, *source.body), "write " + source.key);
  std::erase_if(published_, [](const auto& e) { return e.second.expired(); });
  published_[source.key] = plan.source;
  // The stack's older sources beyond the kept ones go (oldest first).
  const std::string prefix = source.key.substr(0, source.key.rfind('/') + 1);
  auto all = store_.range(prefix, {.prefix = true});
  if (!all) return {};  // kept a while longer; the next publish or `down` removes them
  std::vector<KeyValue> kvs = std::move(all->kvs);
  std::sort(kvs.begin(), kvs.end(), [](const KeyValue& a, const KeyValue& b) { return a.create_revision > b.create_revision; });
  std::vector<StoreOp> drop;
  for (size_t i = kKeptSources; i < kvs.size(); i++)
    if (kvs[i].key != source.key) drop.push_back({StoreOp::Delete, kvs[i].key, "", 0});
  if (!drop.empty()) (void)store_.commit(drop);
  return {};
}

bool ClusterNodes::ready(const std::string& node) {
  std::lock_guard lk(mu_);
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.alive;
}

std::optional<TaskReport> ClusterNodes::wait_report(const std::string& node, const std::string& id,
                                                    const std::function<bool(const TaskReport*)>& done,
                                                    std::chrono::milliseconds limit) {
  std::unique_lock lk(mu_);
  auto current = [&]() -> const TaskReport* {
    auto it = reports_.find(id);
    return it == reports_.end() ? nullptr : &it->second;
  };
  auto down = [&] {
    auto it = nodes_.find(node);
    return it == nodes_.end() || !it->second.alive;
  };
  // A waiter of its own: a report wakes the waiters of that container
  // alone (a leader placing thousands has as many waiting).
  std::condition_variable cv;
  auto waiting = waiters_.emplace(id, &cv);
  cv.wait_for(lk, limit, [&] { return stopping_ || done(current()) || down(); });
  waiters_.erase(waiting);
  const TaskReport* r = current();
  return r ? std::optional<TaskReport>(*r) : std::nullopt;
}

void ClusterNodes::watch_exit(const std::string& id, std::function<void(const ExitInfo&)> fn) {
  ExitInfo info;
  {
    std::lock_guard lk(mu_);
    auto it = reports_.find(id);
    if (it == reports_.end() || it->second.state == TaskReport::State::Running) {
      exit_watches_[id] = std::move(fn);
      return;
    }
    info = it->second.state == TaskReport::State::Exited ? it->second.exit : ExitInfo{125, false, 0};
  }
  fn(info);  // already exited: at once, as LocalNode::watch does
}

void ClusterNodes::cancel_watches(const std::vector<std::string>& ids) {
  std::lock_guard lk(mu_);
  for (const auto& id : ids) exit_watches_.erase(id);
}

}  // namespace stack::orch
