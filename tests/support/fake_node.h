// A node in memory (orch::LocalNode) for table tests of the supervisor: no
// containers, no root, no threads. It records what it was asked to do and
// lets the test script what the containers do: exit (with a code, or by a
// signal), fail to start, pass or fail health probes.
//
// Exits are never reported from inside a node call: the supervisor calls
// the node with its own lock held, as the real node's exit watcher reports
// from its own thread. They queue until deliver(), which the test (or its
// harness) calls between supervisor steps.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/daemon/node/local_node.h"
#include "orchestrator/daemon/engine/supervisor_clock.h"
#include "scheduler/placement.h"

namespace stack::test {

struct FakeContainer {
  std::string id;
  std::string name;  // replica name: <stack>-<service>-<slot>
  std::string service;
  int slot = 0;
  int64_t started_at = 0;
  bool running = true;
  bool removed = false;
  int exit_code = 0;
  int64_t finished_at = 0;
  std::vector<int> signals;  // as received, in order
};

class FakeNode final : public orch::LocalNode {
 public:
  // 4 cpus, 8 GiB, no GPUs, ready.
  static sched::NodeInfo default_info(const std::string& id);

  explicit FakeNode(orch::Clock& clock, sched::NodeInfo info = default_info(orch::kLocalNodeId));

  // --- what the test makes happen
  // The running container of replica `name` exits with `code`.
  void exit(const std::string& name, int code, bool oom_killed = false);
  // Health probes of a replica (by name) or of every replica of a service:
  // these exit codes in order, the last one repeating; each incarnation
  // plays them from the start. Unscripted: 0.
  void script_probes(const std::string& name_or_service, std::vector<int> codes);
  // The service's containers do not exit on `signal` (SIGKILL always kills).
  // Otherwise a signal ends a container with 128 + signal, as a process
  // without a handler.
  void ignore_signal(const std::string& service, int signal);
  // create_and_start() of the service's replicas fails with `message`.
  void fail_creates(const std::string& service, std::string message);
  // Reports the queued exits to their watchers; returns how many.
  size_t deliver();

  // --- what the test reads
  std::vector<FakeContainer> containers() const;  // every incarnation, oldest first
  std::vector<FakeContainer> running() const;
  std::vector<std::string> running_names() const;  // sorted
  int probes_of(const std::string& name) const;    // probes run on replica `name`
  size_t queued_exits() const;

  // --- orch::LocalNode
  stack::Result<void> ensure_image(const std::string& ref, const compose::PullRule& rule,
                                const std::function<void(const std::string&)>& progress) override;
  stack::Result<compose::Healthcheck> image_healthcheck(const std::string& ref) override;
  stack::Result<orch::ReplicaRuntime> create_and_start(const orch::ReplicaPlan& plan) override;
  stack::Result<void> watch(const std::string& id, std::function<void(const orch::ExitInfo&)> on_exit) override;
  stack::Result<void> signal(const std::string& id, int signal) override;
  stack::Result<void> remove(const std::vector<std::string>& ids) override;
  stack::Result<std::optional<orch::ReplicaRuntime>> reattach(const std::string& id) override;
  std::vector<std::string> list_ids() override;
  sched::ProbeResult probe(const std::string& id, const sched::HealthSpec& spec, const std::string& address) override;
  stack::Result<std::unique_ptr<orch::ExecSession>> exec(const std::string& id, const orch::ExecRequest& request) override;
  std::vector<std::string> log_files(const std::string& id) override;
  stack::Result<std::string> top(const std::string& id) override;
  stack::Result<std::string> stats(const std::string& id) override;
  sched::NodeInfo describe() override;

 private:
  FakeContainer* find(const std::string& id);  // mu_ held
  void end(FakeContainer& c, int code, bool oom_killed);  // mu_ held

  orch::Clock& clock_;
  sched::NodeInfo info_;
  mutable std::mutex mu_;
  std::vector<FakeContainer> containers_;
  std::map<std::string, std::function<void(const orch::ExitInfo&)>> watches_;  // id -> watcher
  std::vector<std::pair<std::string, orch::ExitInfo>> queued_;                // exits not yet reported
  std::map<std::string, std::vector<int>> probe_scripts_;
  std::map<std::string, int> probes_run_;     // replica name -> probes run
  std::map<std::string, int> probes_of_id_;   // container id -> probes run (its script position)
  std::set<std::pair<std::string, int>> ignored_;  // (service, signal)
  std::map<std::string, std::string> create_failures_;
  int next_pid_ = 1000;
};

}  // namespace stack::test
