// The single-node Engine (engine.h): one Supervisor per stack (supervisor.h)
// over a LocalNode, a NetworkManager (state <root>/net) and the embedded
// DnsServer (its own io_context thread), with a small thread pool for health
// probes. Mutating operations on one stack are serialised by a per-stack
// lock; reads (ps, logs, events) never wait for them.
//
// Persisted state (StateStore): stacks/<name> = {"project": <compose
// to_json>, "goal": "up|stopped|down"}; replicas/<stack>/<service>/<slot>
// (replica_store.h); events/<seq> (events.h).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "netplane/dns_server.h"
#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/engine/events.h"
#include "orchestrator/daemon/node/local_node.h"
#include "orchestrator/daemon/engine/netwiring.h"
#include "orchestrator/daemon/engine/node_directory.h"
#include "orchestrator/daemon/engine/supervisor.h"

namespace stack::orch {

// ENOENT naming the first of `services` the project does not have.
stack::Result<void> check_services(const compose::Project& project, const std::vector<std::string>& services,
                                const char* verb);

// What a cluster node hands the engine when it leads (stackd_main.cc). The
// node-local pieces are the node's own, shared with its assignment runner
// (daemon/cluster/assignment_runner.h); they outlive the engine.
struct ClusterEngineParts {
  net::NetworkManager* networks = nullptr;  // on the node's own state (<root>/node.db), not etcd
  LocalNode* node = nullptr;                // this host's hands (image checks, `stack run`)
  std::shared_ptr<NodeDirectory> nodes;     // the cluster's nodes (cluster_nodes.h)
  std::string self;                         // this node's id
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, StateStore& store);
  EngineImpl(const EngineOptions& options, StateStore& store, ClusterEngineParts cluster);
  ~EngineImpl() override;
  stack::Result<void> init();

  stack::Result<void> restore() override;
  stack::Result<std::vector<ReplicaView>> up(const compose::Project& project, const UpOptions& options) override;
  stack::Result<void> down(const std::string& stack, bool remove_volumes) override;
  stack::Result<void> stop(const std::string& stack, const std::vector<std::string>& services) override;
  stack::Result<void> start(const std::string& stack, const std::vector<std::string>& services) override;
  stack::Result<void> restart(const std::string& stack, const std::vector<std::string>& services) override;
  stack::Result<void> scale(const std::string& stack, const std::map<std::string, int>& replicas) override;
  stack::Result<void> rollback(const std::string& stack, const std::string& service) override;  // engine_rollout.cc
  stack::Result<compose::Project> rollback_target(const std::string& stack, const std::string& service) override;
  stack::Result<std::string> plan(const compose::Project& project) override;  // engine_plan.cc
  stack::Result<std::string> autoscale(const std::string& stack) override;    // engine_autoscale.cc
  std::vector<StackView> stacks() override;
  stack::Result<compose::Project> project(const std::string& stack) override;
  stack::Result<std::vector<ReplicaView>> ps(const std::string& stack) override;
  stack::Result<void> logs(const std::string& stack, const LogOptions& options,
                        const std::function<bool(const LogLine&)>& sink, const std::atomic<bool>& cancel) override;
  stack::Result<std::unique_ptr<ExecSession>> exec(const ExecRequest& request) override;
  stack::Result<std::unique_ptr<ExecSession>> attach(const ExecRequest& request) override;
  stack::Result<std::unique_ptr<ExecSession>> run(const ExecRequest& request, bool remove) override;
  stack::Result<std::string> top(const std::string& stack) override;
  stack::Result<std::string> stats(const std::string& stack) override;
  Subscription subscribe(uint64_t since_seq, std::function<void(const Event&)> sink) override;
  void shutdown() override;
  void interrupt_waits() override;

  // engine_autoscale.cc: `file`'s autoscaled services with the count they
  // run now (`current`, nullptr for a new stack), within the file's min..max;
  // and `stack scale` of an autoscaled service, which holds it at `n`
  // (min = max = n) until the next up. Returns whether it was autoscaled.
  static compose::Project autoscaled_counts(const compose::Project& file, const StackDesired* current);
  static bool pin_autoscale(compose::Service& service, int n);

 private:
  std::shared_ptr<Supervisor> find(const std::string& stack);
  stack::Result<std::shared_ptr<Supervisor>> need(const std::string& stack);
  std::shared_ptr<std::mutex> op_lock(const std::string& stack);
  // The stack's record: its project, goal and services' previous definitions.
  stack::Result<void> save_stack(const compose::Project& project, sched::StackGoal goal,
                                 const std::map<std::string, std::string>& previous);
  std::map<std::string, compose::Healthcheck> image_healthchecks(const compose::Project& project);
  stack::Result<void> teardown(const std::string& stack, bool remove_volumes);
  std::vector<ReplicaView> views(Supervisor& sup);
  void emit(const std::string& stack, const std::string& type, std::map<std::string, std::string> attrs = {});
  SupervisorContext context();
  // engine_rollout.cc: `current`'s previous definitions, with those of the
  // services whose config `next` changes replaced by their current one.
  static std::map<std::string, std::string> previous_definitions(const StackDesired& current,
                                                                 const compose::Project& next);
  int64_t stop_deadline(Supervisor& sup);

  EngineOptions options_;
  StateStore& store_;
  std::unique_ptr<net::NetworkManager> own_networks_;  // single node: ours; cluster: the node's
  net::NetworkManager* networks_ = nullptr;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::unique_ptr<net::DnsServer> dns_;
  std::unique_ptr<LocalNode> own_node_;
  LocalNode* node_ = nullptr;  // this host
  std::shared_ptr<NodeDirectory> nodes_;  // where replicas go: {"local": node_}, or the cluster's
  std::string self_;  // cluster: this node's id (only its replicas are wired here); "" on one host
  // The node of a replica (nullptr: its node left).
  LocalNode* node_of(const ReplicaRecord& r) { return nodes_->find(r.status.node); }
  // The running replica exec and attach reach: its node and container id.
  stack::Result<std::pair<LocalNode*, std::string>> running_replica(const ExecRequest& request, const std::string& verb);
  std::unique_ptr<NetWiring> wiring_;
  std::unique_ptr<EventBus> events_;
  boost::asio::thread_pool pool_{4};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Supervisor>> stacks_;
  std::map<std::string, std::shared_ptr<std::mutex>> op_locks_;
  bool shut_ = false;
  bool interrupted_ = false;  // interrupt_waits(): stacks made after it are interrupted too
};

}  // namespace stack::orch
