// place_actions(): the Create and Restart actions of a decision get their
// node; what replicas already hold on each node counts, a Restart stays
// home while it fits, and one that fits nowhere is dropped and reported.
#include <gtest/gtest.h>

#include "scheduler/placement.h"
#include "scheduler/reconcile.h"
#include "tests/unit/scheduler_fixture.h"

namespace {

using namespace stack::sched;
using namespace stack::sched::fixture;

struct Row {
  const char* name;
  double cpus_each;  // web's reservation
  int replicas;
  std::vector<ReplicaStatus> observed;
  std::vector<std::string> placed;
  std::vector<std::string> blocked;
};

TEST(SchedulerPlaceActions, CreatesAndRestartsGetANodeOrAreReportedBlocked) {
  const Row rows[] = {
      {"spread over empty nodes", 0, 3, {}, {"create web 1 @a", "create web 2 @b", "create web 3 @a"}, {}},
      {"running replicas count", 0, 2, {on(replica("web", 1, ReplicaState::Running), "a")},
       {"create web 2 @b"}, {}},
      {"reservations fill nodes, then nothing fits", 3, 3, {},
       {"create web 1 @a", "create web 2 @b"},
       {"web blocked: no node satisfies: a: 1 of 3 cpus free; b: 1 of 3 cpus free"}},
      {"an exited replica holds nothing", 3, 1, {on(exited_replica("web", 1, 1, 1000), "a")},
       {"restart web 1 @a"}, {}},
      {"a restart moves when its node is full", 3, 2,
       {on(replica("web", 1, ReplicaState::Running), "a"), on(exited_replica("web", 2, 1, 1000), "a")},
       {"restart web 2 @b"}, {}},
      {"a restart stays home when it fits", 0, 2,
       {on(replica("web", 1, ReplicaState::Running), "a"), on(exited_replica("web", 2, 1, 1000), "a")},
       {"restart web 2 @a"}, {}},
      {"a stop is not placed", 0, 0, {on(replica("web", 1, ReplicaState::Running), "b")}, {"stop web 1"}, {}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    StackSpec spec;
    spec.name = "demo";
    spec.services.push_back(svc("web", row.replicas));
    spec.services[0].requirements.cpus = row.cpus_each;
    spec.services[0].restart.mode = RestartMode::Always;
    ObservedStack observed{row.observed};
    Decision d = reconcile(spec, observed, StackGoal::Up, 1000000, {node("a"), node("b")});
    EXPECT_EQ(placed(d), row.placed);
    EXPECT_EQ(d.blocked, row.blocked);
  }
}

NodeInfo down(std::string id) {
  NodeInfo n = node(std::move(id));
  n.ready = false;
  return n;
}

ReplicaStatus task(ReplicaStatus r, int incarnation) {
  r.incarnation = incarnation;
  return r;
}

// A node whose heartbeat is gone: its tasks are lost. The current one is
// replaced on a ready node whatever the restart policy (here `no`); a lost
// superseded one, or any under stop/down, is removed without a Stop first.
TEST(SchedulerPlaceActions, TasksOnADownNodeAreReplacedElsewhereAndRemovedWithoutAStop) {
  StackSpec spec;
  spec.name = "demo";
  spec.services.push_back(svc("web", 3));
  spec.services[0].restart.mode = RestartMode::No;
  std::vector<ReplicaStatus> observed{on(replica("web", 1, ReplicaState::Running), "a"),
                                      on(replica("web", 2, ReplicaState::Running), "b"),
                                      on(replica("web", 3, ReplicaState::Stopping), "b")};
  const std::vector<NodeInfo> nodes{node("a"), down("b"), node("c")};
  Decision d = reconcile(spec, ObservedStack{observed}, StackGoal::Up, 1000000, nodes);
  EXPECT_EQ(placed(d), (std::vector<std::string>{"create web 2 @c", "create web 3 @a"}));
  ASSERT_EQ(d.actions.size(), 2u);
  EXPECT_EQ(d.actions[0].reason, "node b is down, replica 2/3");
  EXPECT_FALSE(d.wake_at.has_value()) << "a lost Stopping task has no grace deadline";

  // Once replaced, the lost task is superseded: removed, not stopped.
  observed.push_back(on(task(replica("web", 2, ReplicaState::Running), 2), "c"));
  observed.push_back(on(task(replica("web", 3, ReplicaState::Running), 2), "a"));
  d = reconcile(spec, ObservedStack{observed}, StackGoal::Up, 1000000, nodes);
  EXPECT_EQ(placed(d), (std::vector<std::string>{"remove web 3", "remove web 2"}));

  // The same node back up: nothing is lost, nothing is replaced.
  d = reconcile(spec, ObservedStack{{observed[0], observed[1]}}, StackGoal::Up, 1000000,
                {node("a"), node("b"), node("c")});
  EXPECT_EQ(placed(d), (std::vector<std::string>{"create web 3 @c"}));

  // Down: a lost task is removed at once; a live one is stopped first.
  d = reconcile(spec, ObservedStack{{observed[0], observed[1]}}, StackGoal::Down, 1000000, nodes);
  EXPECT_EQ(placed(d), (std::vector<std::string>{"stop web 1", "remove web 2"}));
}

// Drain: a running task on a drained node gets a successor on another node
// first; the drained one is stopped only once that one serves (healthy).
TEST(SchedulerPlaceActions, ATaskOnADrainedNodeMovesStartFirst) {
  StackSpec spec;
  spec.name = "demo";
  spec.services.push_back(svc("web", 2));
  spec.services[0].health = exec_check();
  NodeInfo drained = node("a");
  drained.drain = true;
  drained.active = false;
  const std::vector<NodeInfo> nodes{drained, node("b"), node("c")};
  std::vector<ReplicaStatus> observed{on(replica("web", 1, ReplicaState::Running, Health::Healthy), "a"),
                                      on(replica("web", 2, ReplicaState::Running, Health::Healthy), "b")};
  Decision d = reconcile(spec, ObservedStack{observed}, StackGoal::Up, 1000000, nodes);
  EXPECT_EQ(placed(d), std::vector<std::string>{"create web 1 @c"});
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].reason, "node a is drained, replica 1/2");

  observed.push_back(on(task(replica("web", 1, ReplicaState::Running, Health::Starting), 2), "c"));
  d = reconcile(spec, ObservedStack{observed}, StackGoal::Up, 1000000, nodes);
  EXPECT_EQ(placed(d), std::vector<std::string>{}) << "the successor is not healthy yet: the old one serves";

  observed.back().health.health = Health::Healthy;
  d = reconcile(spec, ObservedStack{observed}, StackGoal::Up, 1000000, nodes);
  EXPECT_EQ(placed(d), std::vector<std::string>{"stop web 1"});
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].incarnation, 1);

  observed.back().health.health = Health::Starting;
  d = reconcile(spec, ObservedStack{observed}, StackGoal::Down, 1000000, nodes);
  EXPECT_EQ(placed(d), (std::vector<std::string>{"stop web 2", "stop web 1", "stop web 1"}))
      << "down stops everything, the drained one too";
}

TEST(SchedulerPlaceActions, WithoutNodesReconcileLeavesTheNodeOpen) {
  StackSpec spec;
  spec.services.push_back(svc("web", 1));
  Decision d = reconcile(spec, {}, StackGoal::Up, 1000);
  EXPECT_EQ(placed(d), std::vector<std::string>{"create web 1"});
}

}  // namespace
