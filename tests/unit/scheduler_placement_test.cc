// Placement: feasibility (readiness, cpus, memory, gpus, constraints) with
// the explanation of every rejection, then bin-pack ranking with spread.
#include <gtest/gtest.h>

#include "scheduler/placement.h"

namespace {

using namespace stack::sched;

constexpr uint64_t GiB = 1024ull * 1024 * 1024;

NodeInfo node(std::string id, double cpus = 4, uint64_t memory = 8 * GiB, int64_t gpus = 0) {
  NodeInfo n;
  n.id = id;
  n.hostname = "host-" + id;
  n.cpus = cpus;
  n.memory = memory;
  n.gpus = gpus;
  return n;
}

ServiceSpec service(double cpus = 0, uint64_t memory = 0, int64_t gpus = 0,
                    std::vector<std::string> constraints = {}) {
  ServiceSpec s;
  s.name = "train";
  s.requirements.cpus = cpus;
  s.requirements.memory = memory;
  s.requirements.gpus = gpus;
  s.requirements.constraints = std::move(constraints);
  return s;
}

TEST(SchedulerPlacement, AGpuServiceNeedsANodeWithAFreeGpu) {
  PlacementResult r = place(service(0, 0, 1), {node("local")});
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.explanation, "no node satisfies: local: 0 of 1 gpu free");

  NodeInfo busy = node("busy", 4, 8 * GiB, 2);
  busy.gpus_used = 2;
  NodeInfo free = node("free", 4, 8 * GiB, 2);
  free.gpus_used = 1;
  r = place(service(0, 0, 1), {busy, free});
  EXPECT_EQ(r.node, "free") << r.explanation;

  r = place(service(0, 0, 2), {busy, free});
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.explanation, "no node satisfies: busy: 0 of 2 gpus free; free: 1 of 2 gpus free");
}

TEST(SchedulerPlacement, AllGpusNeedsAnIdleNodeWithAtLeastOne) {
  NodeInfo partly = node("partly", 4, 8 * GiB, 4);
  partly.gpus_used = 1;
  NodeInfo idle = node("idle", 4, 8 * GiB, 4);
  EXPECT_EQ(place(service(0, 0, -1), {partly, idle}).node, "idle");
  PlacementResult r = place(service(0, 0, -1), {partly, node("cpu-only")});
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.explanation,
            "no node satisfies: partly: 3 of 4 gpus free (all requested); cpu-only: no gpu (all "
            "requested)");
}

TEST(SchedulerPlacement, ExplainsEveryReasonANodeIsRejected) {
  NodeInfo n = node("n1", 2, 1 * GiB);
  n.ready = false;
  n.cpus_used = 1.5;
  n.memory_used = 512ull * 1024 * 1024;
  PlacementResult r = place(service(1, 1 * GiB), {n});
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(
      r.explanation,
      "no node satisfies: n1: not ready, 0.5 of 1 cpus free, 512 MiB of 1024 MiB memory free");
  EXPECT_EQ(place(service(), {}).explanation, "no node satisfies: no nodes");
}

TEST(SchedulerPlacement, Constraints) {
  NodeInfo a = node("a");
  a.labels = {{"zone", "east"}, {"disk", "ssd"}};
  NodeInfo b = node("b");
  b.labels = {{"zone", "west"}};
  struct Case {
    std::string constraint;
    std::string placed;  // "" = infeasible
  } cases[] = {
      {"node.labels.zone==east", "a"},
      {"node.labels.zone == west", "b"},
      {"node.labels.zone!=east", "b"},
      {"node.labels.disk==ssd", "a"},
      {"node.labels.disk!=ssd", "b"},  // an unset label is != anything
      {"node.hostname==host-b", "b"},
      {"node.id==a", "a"},
      {"node.id!=a", "b"},
      {"node.labels.gpu==yes", ""},
  };
  for (const Case& c : cases) {
    PlacementResult r = place(service(0, 0, 0, {c.constraint}), {a, b});
    EXPECT_EQ(r.node, c.placed) << c.constraint << ": " << r.explanation;
  }
  PlacementResult r = place(service(0, 0, 0, {"node.labels.gpu==yes"}), {a, b});
  EXPECT_EQ(r.explanation,
            "no node satisfies: a: node.labels.gpu==yes (has no such label); "
            "b: node.labels.gpu==yes (has no such label)");
  r = place(service(0, 0, 0, {"node.labels.zone==east", "node.id==b"}), {a, b});
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.explanation,
            "no node satisfies: a: node.id==b (has a); b: node.labels.zone==east (has west)");
}

TEST(SchedulerPlacement, AMalformedConstraintIsNamed) {
  for (const char* bad : {"zone==east", "node.labels.zone", "node.color==red", "node.labels.==x"}) {
    PlacementResult r = place(service(0, 0, 0, {bad}), {node("a")});
    EXPECT_EQ(r.node, "") << bad;
    EXPECT_NE(r.explanation.find(std::string("\"") + bad + "\""), std::string::npos)
        << r.explanation;
  }
}

TEST(SchedulerPlacement, BinPacksOntoTheMostUtilisedNodeThatFits) {
  NodeInfo empty = node("empty", 4, 8 * GiB);
  NodeInfo half = node("half", 4, 8 * GiB);
  half.cpus_used = 2;
  half.memory_used = 4 * GiB;
  NodeInfo full = node("full", 4, 8 * GiB);
  full.cpus_used = 3.5;
  full.memory_used = 7 * GiB;
  EXPECT_EQ(place(service(0.5, 1 * GiB), {empty, half, full}).node, "full");
  EXPECT_EQ(place(service(1, 1 * GiB), {empty, half, full}).node, "half");  // full cannot fit it
  EXPECT_EQ(place(service(3, 1 * GiB), {empty, half, full}).node, "empty");
  PlacementResult r = place(service(1, 1 * GiB), {empty, half, full});
  EXPECT_NE(r.explanation.find("placed on half"), std::string::npos) << r.explanation;
}

TEST(SchedulerPlacement, SpreadsAServiceAcrossEquallyUsedNodes) {
  NodeInfo a = node("a"), b = node("b"), c = node("c");
  a.replicas_of_service["train"] = 2;
  b.replicas_of_service["train"] = 1;
  c.replicas_of_service["train"] = 1;
  c.replicas_of_service["other"] = 5;                // other services do not count
  EXPECT_EQ(place(service(), {a, b, c}).node, "b");  // tie b/c goes to the smaller id
  b.replicas_of_service["train"] = 3;
  EXPECT_EQ(place(service(), {a, b, c}).node, "c");
}

}  // namespace

namespace {

NodeInfo with(NodeInfo n, int replicas_of_train, std::map<std::string, std::string> labels = {}) {
  n.replicas_of_service["train"] = replicas_of_train;
  n.labels = std::move(labels);
  return n;
}

TEST(SchedulerPlacement, MaxReplicasPerNodeRejectsAFullNode) {
  ServiceSpec s = service();
  s.requirements.max_per_node = 2;
  PlacementResult r = place(s, {with(node("a"), 2), with(node("b"), 1)});
  EXPECT_EQ(r.node, "b") << r.explanation;
  r = place(s, {with(node("a"), 2), with(node("b"), 2)});
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.explanation,
            "no node satisfies: a: max_replicas_per_node 2 reached; b: max_replicas_per_node 2 reached");
}

TEST(SchedulerPlacement, RoleAndPlatformConstraintsAndAvailability) {
  NodeInfo m = node("m"), w = node("w");
  m.role = "manager";
  w.role = "worker";
  m.os = w.os = "linux";
  m.arch = "amd64";
  w.arch = "arm64";
  EXPECT_EQ(place(service(0, 0, 0, {"node.role==worker"}), {m, w}).node, "w");
  EXPECT_EQ(place(service(0, 0, 0, {"node.platform.arch==amd64", "node.platform.os==linux"}), {m, w}).node, "m");
  w.active = false;  // drain or pause
  PlacementResult r = place(service(0, 0, 0, {"node.role==worker"}), {m, w});
  EXPECT_EQ(r.explanation, "no node satisfies: m: node.role==worker (has manager); w: not active (drain or pause)");
}

// Spread over zones first (the zone with fewer of the service's replicas,
// counted over all its nodes), then the usual ranking inside it; nodes
// without the label are one group of their own.
TEST(SchedulerPlacement, SpreadPreferencesBalanceLabelValuesFirst) {
  ServiceSpec s = service();
  s.requirements.spread = {"zone"};
  std::vector<NodeInfo> nodes{with(node("a1"), 1, {{"zone", "a"}}), with(node("a2"), 0, {{"zone", "a"}}),
                              with(node("b1"), 1, {{"zone", "b"}}), with(node("c1"), 0)};
  EXPECT_EQ(place(s, nodes).node, "c1") << "zone a has 1, zone b 1, the unlabelled group 0";
  nodes[3] = with(node("c1"), 1);
  EXPECT_EQ(place(s, nodes).node, "a2") << "a tie of groups: the emptier node (spread), then the id";
  nodes[1] = with(node("a2"), 1, {{"zone", "a"}});
  EXPECT_EQ(place(s, nodes).node, "b1") << "zone a has 2 now";
}

}  // namespace
