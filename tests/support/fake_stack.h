// One stack's Supervisor over fake nodes and a fake clock, driven step by
// step: the table tests of the supervisor loop (tests/unit/supervisor_*)
// run on it without root, without threads and in milliseconds.
//
//   FakeStack st;                      // one node, "local"
//   st.add("web").restart.mode = sched::RestartMode::Always;
//   st.start();                        // the supervisor, without its thread
//   st.settle();                       // steps until nothing is left to do now
//   st.node().exit("demo-web-1", 1);   // the container crashes
//   st.run_until([&] { ... }, 60'000); // time moves from wake-up to wake-up
//
// settle() alternates supervisor passes with what the nodes report (exits)
// and the probes the supervisor asked for, until a pass changes nothing and
// nothing is queued. Time only moves in run_until/run_for: to the next
// wake-up the supervisor asked for, never past it, so every restart and
// probe happens at exactly the time the scheduler chose.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "orchestrator/daemon/engine/events.h"
#include "orchestrator/daemon/engine/supervisor.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_node.h"
#include "tests/support/memory_store.h"

namespace stack::test {

class FakeStack {
 public:
  static constexpr const char* kStack = "demo";

  // Nodes by their description; default: one node, "local".
  explicit FakeStack(std::vector<sched::NodeInfo> nodes = {FakeNode::default_info(orch::kLocalNodeId)});
  ~FakeStack();

  // A service of the stack (compose model and scheduler spec together, no
  // networks, config hash "h1"); edit the returned spec (the reference
  // stays valid) before start() or before update().
  sched::ServiceSpec& add(const std::string& service, int replicas = 1);
  sched::ServiceSpec& spec(const std::string& service);
  // Makes the supervisor (adopt(), no loop thread).
  void start();
  // Makes the supervisor with its loop thread (start()), as stackd does;
  // then settle() and run_* must not be used: the thread runs the passes.
  void start_thread();
  // Hands the current desired state (after edits of spec()) to the supervisor.
  void update();

  // Steps until idle; returns the last pass's wake_at (INT64_MAX: none).
  int64_t settle();
  // Settles and moves the clock from wake-up to wake-up until `done()` holds
  // after a settle (true) or `limit_ms` from now has passed (false).
  bool run_until(const std::function<bool()>& done, int64_t limit_ms);
  void run_for(int64_t ms);

  FakeClock clock;
  // SupervisorContext::enforce_requirements; set before start().
  bool enforce_requirements = true;
  FakeNode& node(const std::string& id = orch::kLocalNodeId);
  orch::Supervisor& sup() { return *sup_; }
  orch::StateStore& store() { return store_; }

  // The supervisor's record of `replica` ("demo-web-1"); nullptr when none.
  std::optional<orch::ReplicaRecord> replica(const std::string& name);
  // The last wiring of `replica` sent to the network plane.
  std::optional<orch::WiredReplica> wired(const std::string& name);
  // Every event so far, as "type replica" ("restart demo-web-1").
  std::vector<std::string> events();
  // wait_settled() without waiting: ok, or why not now.
  stack::Result<void> settled(const std::vector<std::string>& services = {}, bool healthy = false);

 private:
  bool run_probes();
  std::unique_ptr<orch::Supervisor> make();

  orch::EngineOptions options_;
  MemoryStore store_;
  orch::EventBus bus_{nullptr};
  std::map<std::string, std::unique_ptr<FakeNode>> nodes_;
  orch::StackDesired desired() const;

  std::vector<std::string> order_;                   // services as added
  std::map<std::string, sched::ServiceSpec> specs_;  // stable references for the tests
  std::mutex mu_;  // probes_ and wiring_: filled from inside supervisor calls
  std::deque<std::function<void()>> probes_;
  std::vector<orch::WiredReplica> wiring_;  // the last set sent
  std::unique_ptr<orch::Supervisor> sup_;
};

}  // namespace stack::test
