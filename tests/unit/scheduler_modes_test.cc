// deploy.mode: global services (one replica per eligible node, following
// the nodes) and jobs (replicas that run to completion), through
// reconcile() with a node list, as the daemon calls it.
#include <gtest/gtest.h>

#include "scheduler/reconcile.h"
#include "scheduler/slots.h"
#include "tests/unit/scheduler_fixture.h"

namespace {

using namespace stack::sched;
using namespace stack::sched::fixture;

ServiceSpec global(std::string name = "agent") {
  ServiceSpec s = svc(std::move(name));
  s.mode = ServiceMode::Global;
  return s;
}

Decision up(const ServiceSpec& s, std::vector<ReplicaStatus> observed, const std::vector<NodeInfo>& nodes) {
  return reconcile(StackSpec{"demo", {s}}, ObservedStack{std::move(observed)}, StackGoal::Up, 5000, nodes);
}

using V = std::vector<std::string>;

TEST(SchedulerGlobalMode, OneReplicaPerNodePinnedToIt) {
  Decision d = up(global(), {}, {node("c"), node("a"), node("b")});
  EXPECT_EQ(placed(d), (V{"create agent 1 @a", "create agent 2 @b", "create agent 3 @c"}));
  EXPECT_TRUE(d.blocked.empty());
}

TEST(SchedulerGlobalMode, ANodeThatJoinsGetsTheLowestFreeSlotAndTheOthersAreLeftAlone) {
  Decision d = up(global(),
                  {on(replica("agent", 1, ReplicaState::Running), "a"), on(replica("agent", 3, ReplicaState::Running), "c")},
                  {node("a"), node("b"), node("c")});
  EXPECT_EQ(placed(d), (V{"create agent 2 @b"}));
}

TEST(SchedulerGlobalMode, ANodeThatLeavesHasItsReplicaRemovedNotMoved) {
  NodeInfo b = node("b");
  b.ready = false;
  Decision d = up(global(),
                  {on(replica("agent", 1, ReplicaState::Running), "a"), on(replica("agent", 2, ReplicaState::Running), "b")},
                  {node("a"), b});
  EXPECT_EQ(placed(d), (V{"remove agent 2"}));
}

TEST(SchedulerGlobalMode, DrainStopsTheNodesReplicaAndPauseKeepsItButTakesNoNewOne) {
  NodeInfo b = node("b");
  b.active = false;
  b.drain = true;
  NodeInfo c = node("c");
  c.active = false;  // pause
  NodeInfo d_ = node("d");
  d_.active = false;  // pause, nothing there yet
  Decision d = up(global(),
                  {on(replica("agent", 1, ReplicaState::Running), "a"), on(replica("agent", 2, ReplicaState::Running), "b"),
                   on(replica("agent", 3, ReplicaState::Running), "c")},
                  {node("a"), b, c, d_});
  EXPECT_EQ(placed(d), (V{"stop agent 2"}));
}

TEST(SchedulerGlobalMode, ConstraintsChooseTheNodesAndNoEligibleNodeIsOneBlockedLine) {
  ServiceSpec s = global();
  s.requirements.constraints = {"node.labels.zone==b"};
  NodeInfo a = node("a"), b = node("b");
  b.labels["zone"] = "b";
  EXPECT_EQ(placed(up(s, {}, {a, b})), (V{"create agent 1 @b"}));
  s.requirements.constraints = {"node.labels.zone==z"};
  Decision d = up(s, {}, {a, b});
  EXPECT_TRUE(d.actions.empty());
  ASSERT_EQ(d.blocked.size(), 1u);
  EXPECT_NE(d.blocked[0].find("agent blocked: no node satisfies: a: node.labels.zone==z (has no such label)"),
            std::string::npos)
      << d.blocked[0];
}

TEST(SchedulerGlobalMode, AReplicaThatDoesNotFitItsNodeStaysThereBlocked) {
  ServiceSpec s = global();
  s.requirements.cpus = 3;
  NodeInfo small = node("b");
  small.cpus = 2;
  Decision d = up(s, {}, {node("a"), small});
  EXPECT_EQ(placed(d), (V{"create agent 1 @a"}));
  ASSERT_EQ(d.blocked.size(), 1u);
  EXPECT_EQ(d.blocked[0], "agent blocked: no node satisfies: b: 2 of 3 cpus free");
}

TEST(SchedulerGlobalMode, AFailedReplicaRestartsOnItsOwnNodeAndAConfigChangeReplacesItThere) {
  ServiceSpec s = global();
  s.restart.mode = RestartMode::Always;
  s.restart.backoff_initial = 0;
  ReplicaStatus failed = on(exited_replica("agent", 2, 1, 1000), "b");
  NodeInfo a = node("a");
  a.cpus = 0.5;
  s.requirements.cpus = 1;  // b could not take it elsewhere either: it stays
  NodeInfo b = node("b");
  Decision d = up(s, {on(replica("agent", 1, ReplicaState::Exited), "a"), failed}, {a, b});
  EXPECT_EQ(placed(d), (V{"restart agent 2 @b"}));
  ASSERT_EQ(d.blocked.size(), 1u);  // a's restart: a cannot take it and it does not move
  EXPECT_NE(d.blocked[0].find("a: 0.5 of 1 cpus free"), std::string::npos) << d.blocked[0];

  ServiceSpec changed = global();
  changed.config_hash = "h2";
  ReplicaStatus old = on(replica("agent", 1, ReplicaState::Exited), "a");
  EXPECT_EQ(placed(up(changed, {old}, {node("a"), node("b")})),
            (V{"remove agent 1", "create agent 1 @a", "create agent 2 @b"}));
}

TEST(SchedulerGlobalMode, AReplicaStoppedForADrainIsStartedAgainWhenTheNodeIsActiveBeforeItWasRemoved) {
  ReplicaStatus stopped = on(exited_replica("agent", 2, 0, 4000), "b");
  stopped.stop_requested_at = 3000;
  Decision d = up(global(), {on(replica("agent", 1, ReplicaState::Running), "a"), stopped}, {node("a"), node("b")});
  EXPECT_EQ(placed(d), (V{"restart agent 2 @b"}));
  stopped.stop_requested_at = 0;  // it exited by itself: restart `no` holds
  d = up(global(), {on(replica("agent", 1, ReplicaState::Running), "a"), stopped}, {node("a"), node("b")});
  EXPECT_TRUE(d.actions.empty()) << placed(d).front();
}

TEST(SchedulerGlobalMode, WithoutANodeListItIsOneReplica) {
  Decision d = reconcile(StackSpec{"demo", {global()}}, ObservedStack{}, StackGoal::Up, 5000);
  EXPECT_EQ(summary(d), (V{"create agent 1"}));
}

TEST(SchedulerRemovedNode, TasksOnANodeTheListNoLongerHasAreLostAndReplaced) {
  ServiceSpec web = svc("web", 2);
  Decision d = up(web, {on(replica("web", 1, ReplicaState::Running), "a"), on(replica("web", 2, ReplicaState::Running), "gone")},
                  {node("a"), node("b")});
  EXPECT_EQ(placed(d), (V{"create web 2 @b"}));
  ServiceSpec agent = global();
  d = up(agent, {on(replica("agent", 1, ReplicaState::Running), "a"), on(replica("agent", 2, ReplicaState::Running), "gone")},
         {node("a")});
  EXPECT_EQ(placed(d), (V{"remove agent 2"})) << "no Stop: nothing could deliver it";
}

ServiceSpec job(int replicas) {
  ServiceSpec s = svc("migrate", replicas);
  s.mode = ServiceMode::ReplicatedJob;
  s.restart.mode = RestartMode::OnFailure;
  s.restart.backoff_initial = 0;
  return s;
}

TEST(SchedulerJobs, CompletedTasksStayCompleteAndFailedOnesRunAgain) {
  ServiceSpec s = job(3);
  Decision d = reconcile(StackSpec{"demo", {s}},
                         ObservedStack{{exited_replica("migrate", 1, 0, 1000), exited_replica("migrate", 2, 1, 1000)}},
                         StackGoal::Up, 5000);
  EXPECT_EQ(summary(d), (V{"restart migrate 2", "create migrate 3"}));
}

TEST(SchedulerJobs, ACompletedTaskOnADownNodeIsNotRunAgainButARunningOneIs) {
  ServiceSpec s = job(2);
  NodeInfo b = node("b");
  b.ready = false;
  Decision d = up(s, {on(exited_replica("migrate", 1, 0, 1000), "b"), on(replica("migrate", 2, ReplicaState::Running), "b")},
                  {node("a"), b});
  EXPECT_EQ(placed(d), (V{"create migrate 2 @a"}));
}

TEST(SchedulerJobs, AConfigChangeRunsACompletedJobAgain) {
  ServiceSpec s = job(1);
  s.config_hash = "h2";
  Decision d = reconcile(StackSpec{"demo", {s}}, ObservedStack{{exited_replica("migrate", 1, 0, 1000)}},
                         StackGoal::Up, 5000);
  EXPECT_EQ(summary(d), (V{"remove migrate 1", "create migrate 1"}));
}

TEST(SchedulerJobs, AGlobalJobRunsOncePerNodeAndOnANodeThatJoinsLater) {
  ServiceSpec s = job(1);
  s.mode = ServiceMode::GlobalJob;
  NodeInfo b = node("b");
  b.ready = false;  // down: its completed task stays, the job does not run again there
  Decision d = up(s, {on(exited_replica("migrate", 1, 0, 1000), "a"), on(exited_replica("migrate", 2, 0, 1000), "b")},
                  {node("a"), b, node("c")});
  EXPECT_EQ(placed(d), (V{"create migrate 3 @c"}));
  b.ready = true;
  d = up(s, {on(exited_replica("migrate", 1, 0, 1000), "a"), on(exited_replica("migrate", 2, 0, 1000), "b")},
         {node("a"), b});
  EXPECT_TRUE(d.actions.empty()) << placed(d).front();
}

TEST(SchedulerJobs, DependentsOfAGlobalServiceWaitForEveryNodesReplica) {
  ServiceSpec agent = global();
  ServiceSpec web = svc("web", 1, {dep("agent")});
  Decision d = reconcile(StackSpec{"demo", {agent, web}},
                         ObservedStack{{on(replica("agent", 1, ReplicaState::Running), "a")}}, StackGoal::Up, 5000,
                         {node("a"), node("b")});
  EXPECT_EQ(placed(d), (V{"create agent 2 @b"}));
  EXPECT_TRUE(mentions(d.blocked, "web waits for agent")) << (d.blocked.empty() ? "" : d.blocked[0]);
}

}  // namespace
