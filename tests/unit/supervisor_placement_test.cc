// Placement through the supervisor: every Create carries the node that
// feasibility and ranking chose (scheduler/placement.h), the container is
// made on that node, and everything else about the replica (signals,
// probes, exits, removal) goes to the node its status names. Fake nodes,
// fake clock; one node is a set of one.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/fake_stack.h"

namespace {

using namespace stack;
using test::FakeNode;
using test::FakeStack;

constexpr uint64_t GiB = 1ull << 30;

sched::NodeInfo node(const std::string& id, double cpus = 4, uint64_t memory = 8 * GiB, int64_t gpus = 0,
                     std::map<std::string, std::string> labels = {}) {
  sched::NodeInfo n = FakeNode::default_info(id);
  n.cpus = cpus;
  n.memory = memory;
  n.gpus = gpus;
  n.labels = std::move(labels);
  return n;
}

// "a:2 b:1": running replicas per node.
std::string spread(FakeStack& st, const std::vector<std::string>& nodes) {
  std::string out;
  for (const auto& id : nodes)
    out += (out.empty() ? "" : " ") + id + ":" + std::to_string(st.node(id).running().size());
  return out;
}

struct Row {
  const char* name;
  std::vector<sched::NodeInfo> nodes;
  int replicas;
  sched::Requirements requirements;
  std::string spread;   // after settling
  std::string blocked;  // in wait_settled's error; "" = settles
};

TEST(SupervisorPlacement, ReplicasGoWherePlacementPutsThem) {
  sched::Requirements none;
  sched::Requirements three_cpus;
  three_cpus.cpus = 3;
  sched::Requirements one_gpu;
  one_gpu.gpus = 1;
  sched::Requirements east;
  east.constraints = {"node.labels.zone==east"};
  const Row rows[] = {
      {"one node takes everything", {node("local")}, 3, none, "local:3", ""},
      {"equal nodes: spread", {node("a"), node("b")}, 4, none, "a:2 b:2", ""},
      {"reservations: bin-pack, then no room", {node("a"), node("b")}, 3, three_cpus, "a:1 b:1",
       "web blocked: no node satisfies: a: 1 of 3 cpus free; b: 1 of 3 cpus free"},
      {"a gpu: only the node that has one", {node("a"), node("b", 4, 8 * GiB, 2)}, 2, one_gpu, "a:0 b:2", ""},
      {"no gpu anywhere", {node("local")}, 1, one_gpu, "local:0",
       "web blocked: no node satisfies: local: 0 of 1 gpu free"},
      {"a constraint", {node("a", 4, 8 * GiB, 0, {{"zone", "west"}}), node("b", 4, 8 * GiB, 0, {{"zone", "east"}})},
       2, east, "a:0 b:2", ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    FakeStack st(row.nodes);
    st.add("web", row.replicas).requirements = row.requirements;
    st.start();
    st.settle();
    std::vector<std::string> ids;
    for (const auto& n : row.nodes) ids.push_back(n.id);
    EXPECT_EQ(spread(st, ids), row.spread);
    // The replica's status names the node that holds its container.
    for (const auto& id : ids)
      for (const auto& c : st.node(id).running()) EXPECT_EQ(st.replica(c.name)->status.node, id) << c.name;
    // A replica no node can take is pending with its reason: settled.
    auto settled = st.settled();
    EXPECT_TRUE(settled) << settled.error().message();
    const std::string prefix = "web blocked: ";
    if (!row.blocked.empty()) EXPECT_EQ(st.sup().unplaced()["web"], row.blocked.substr(prefix.size()));
    else EXPECT_TRUE(st.sup().unplaced().empty());
  }
}

// One host (enforce_requirements off): cluster placement (constraints,
// max_replicas_per_node) is ignored as Compose ignores it without Swarm,
// while reservations hold against the host's capacity.
TEST(SupervisorPlacement, OneHostIgnoresConstraintsButHoldsReservations) {
  sched::Requirements r;
  r.cpus = 1.5;
  r.constraints = {"node.labels.zone==mars"};
  r.max_per_node = 1;
  FakeStack st({node("local", 4, 8 * GiB, 0)});
  st.enforce_requirements = false;
  st.add("web", 2).requirements = r;
  st.start();
  st.settle();
  EXPECT_EQ(st.node().running_names(), (std::vector<std::string>{"demo-web-1", "demo-web-2"}));
  EXPECT_EQ(st.replica("demo-web-1")->status.node, "local");
  EXPECT_TRUE(st.settled());
}

TEST(SupervisorPlacement, OneHostKeepsAReplicaThatDoesNotFitPendingWithItsReason) {
  sched::Requirements r;
  r.cpus = 3;
  FakeStack st({node("local", 4, 8 * GiB, 0)});
  st.enforce_requirements = false;
  st.add("web", 2).requirements = r;
  sched::Requirements g;
  g.gpus = 1;
  st.add("train", 1).requirements = g;
  st.start();
  st.settle();
  // 3 of 4 cpus go to the first; the second and the GPU job wait.
  EXPECT_EQ(st.node().running_names(), (std::vector<std::string>{"demo-web-1"}));
  auto unplaced = st.sup().unplaced();
  EXPECT_EQ(unplaced["web"], "no node satisfies: local: 1 of 3 cpus free") << unplaced["web"];
  EXPECT_EQ(unplaced["train"], "no node satisfies: local: 0 of 1 gpu free") << unplaced["train"];
}

TEST(SupervisorPlacement, ARestartStaysOnItsNodeAndSignalsGoToIt) {
  FakeStack st({node("a"), node("b")});
  sched::ServiceSpec& web = st.add("web", 2);
  web.restart.mode = sched::RestartMode::Always;
  st.start();
  st.settle();
  ASSERT_EQ(spread(st, {"a", "b"}), "a:1 b:1");
  std::string on_b = st.node("b").running().front().name;

  st.node("b").exit(on_b, 1);
  ASSERT_TRUE(st.run_until([&] { return st.node("b").containers().size() == 2; }, 60000));
  EXPECT_EQ(spread(st, {"a", "b"}), "a:1 b:1");
  EXPECT_EQ(st.replica(on_b)->status.node, "b");
  EXPECT_EQ(st.node("a").containers().size(), 1u);

  // Scale to 1: the stop signal and the removal reach the node of slot 2.
  std::string slot2 = "demo-web-2";
  std::string node2 = st.replica(slot2)->status.node;
  web.replicas = 1;
  st.update();
  st.settle();
  test::FakeContainer last = st.node(node2).containers().back();
  EXPECT_EQ(last.name, slot2);
  EXPECT_EQ(last.signals, std::vector<int>{SIGTERM});
  EXPECT_EQ(st.node("a").list_ids().size() + st.node("b").list_ids().size(), 1u);
  EXPECT_TRUE(st.settled());
}

}  // namespace
