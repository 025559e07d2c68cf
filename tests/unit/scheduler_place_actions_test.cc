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

NodeInfo node(std::string id, double cpus = 4) {
  NodeInfo n;
  n.id = std::move(id);
  n.cpus = cpus;
  n.memory = 8ull << 30;
  return n;
}

ReplicaStatus on(ReplicaStatus r, std::string node_id) {
  r.node = std::move(node_id);
  return r;
}

// "create web 1 @a", in order; dropped actions are missing.
std::vector<std::string> placed(const Decision& d) {
  std::vector<std::string> out;
  for (const Action& a : d.actions)
    out.push_back(std::string(to_string(a.kind)) + " " + a.service + " " + std::to_string(a.slot) +
                  (a.node.empty() ? "" : " @" + a.node));
  return out;
}

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

TEST(SchedulerPlaceActions, WithoutNodesReconcileLeavesTheNodeOpen) {
  StackSpec spec;
  spec.services.push_back(svc("web", 1));
  Decision d = reconcile(spec, {}, StackGoal::Up, 1000);
  EXPECT_EQ(placed(d), std::vector<std::string>{"create web 1"});
}

}  // namespace
