// Replicas across a cluster (tests/support/cluster_harness.h: three stackd,
// each in its own network namespace): node 0 leads (one etcd member), nodes
// 1 and 2 join as workers. The leader places each replica on a node
// (scheduler/placement.h), the node's assignment runner starts it and
// reports back; `stack ps` on the leader shows where each runs, and each
// node's runtime holds exactly its share. A node whose stackd is killed is
// down once its heartbeat lease ends and its replicas are started on the
// others; when it comes back it removes the containers it still had.
// Waits poll what a user sees (ps, the nodes' runtimes); nothing asserts
// how long anything took.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <future>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/cluster_fixture.h"

namespace stack::test {
namespace {

using nlohmann::json;

class ClusterPlacement : public WorkerCluster {
 protected:
  // The container ids ps shows running on `node`, sorted.
  static std::vector<std::string> ids_on(const json& ps, const std::string& node) {
    std::vector<std::string> out;
    for (auto& r : ps)
      if (r.value("state", "") == "running" && r.value("node", "") == node) out.push_back(r["container_id"]);
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(ClusterPlacement, SixReplicasSpreadOverThreeNodesAndALostNodesReplicasRunElsewhere) {
  const std::string file = write_stack("spread", idle_stack("spread", 6));
  json list = up_over(file, 3);
  ASSERT_EQ(running_per_node(list).size(), 3u) << list.dump();
  // Two on each node, and each node's runtime holds exactly the two ps names.
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(running_per_node(list)[id_of(n)], 2) << "node " << n << ": " << list.dump();
    EXPECT_EQ(h_->containers(n), ids_on(list, id_of(n))) << "node " << n;
  }
  auto table = h_->stack(0, {"-f", file, "ps"});
  EXPECT_NE(table.out.find(id_of(1)), std::string::npos) << "the NODE column names the nodes:\n" << table.out;

  // Node 2's stackd dies (its containers keep running, as when it is cut
  // off): once its heartbeat ends it is down and its two replicas start on
  // the others.
  const auto lost = h_->containers(2);
  h_->stop(2, SIGKILL);
  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_for([&] {
    list = ps(file);
    auto per = running_per_node(list);
    return per[id_of(0)] + per[id_of(1)] == 6;
  })) << list.dump();
  std::cerr << "replicas of the killed node running elsewhere after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at).count()
            << " ms\n";
  for (auto& r : list)
    if (r.value("state", "") == "running") {
      EXPECT_NE(r.value("node", ""), id_of(2)) << r.dump();
    }
  EXPECT_EQ(h_->containers(0).size() + h_->containers(1).size(), 6u);
  EXPECT_EQ(h_->containers(2), lost) << "a node cut off keeps its containers running";

  // It comes back: the superseded containers go; six replicas, no duplicate.
  ASSERT_EQ(h_->start(2), "");
  EXPECT_TRUE(wait_for([&] { return h_->containers(2).empty(); })) << "still on node 2: " << h_->containers(2).size();
  list = ps(file);
  EXPECT_EQ(running_per_node(list)[id_of(0)] + running_per_node(list)[id_of(1)], 6) << list.dump();
  std::set<std::string> names;
  for (auto& r : list) EXPECT_TRUE(names.insert(r.value("name", "")).second) << "twice: " << r.dump();

  // Down leaves nothing on any node.
  down_leaves_nothing(file);
  EXPECT_EQ(ps(file).size(), 0u);
}

TEST_F(ClusterPlacement, ConstraintsChooseTheNodesAndAReplicaNoNodeSatisfiesStaysPendingWithItsReason) {
  const std::string file = write_stack("placed", R"(name: placed
services:
  pinned:
    image: stack-demo/busybox:1
    deploy:
      replicas: 2
      placement:
        constraints: ["node.id==)" + id_of(1) + R"("]
)" + kIdleCommand + R"(  workers:
    image: stack-demo/busybox:1
    deploy:
      replicas: 4
      placement:
        constraints: ["node.role==worker"]
)" + kIdleCommand);
  auto up = h_->stack(0, {"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;
  json list;
  ASSERT_TRUE(wait_for([&] {
    list = ps(file);
    return running_total(list) == 6;
  })) << list.dump();
  std::map<std::string, std::map<std::string, int>> where;  // service -> node -> count
  for (auto& r : list) where[r["service"]][r["node"]]++;
  EXPECT_EQ(where["pinned"], (std::map<std::string, int>{{id_of(1), 2}})) << list.dump();
  EXPECT_EQ(where["workers"].count(id_of(0)), 0u) << "the manager is no worker: " << list.dump();
  EXPECT_EQ(where["workers"][id_of(1)] + where["workers"][id_of(2)], 4) << list.dump();
  EXPECT_EQ(h_->containers(0).size(), 0u);

  const std::string zoned = write_stack("zoned", R"(name: zoned
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      placement:
        constraints: ["node.labels.zone==b"]
    command: ["sh", "-c", "sleep 1000"]
)");
  // No node has the label: the stack is up with its replica pending, the
  // reason in up's output, ps and the events (Swarm's behaviour: a node may
  // join or be labelled later).
  auto pending = h_->stack(0, {"-f", zoned, "up", "-d"});
  EXPECT_EQ(pending.status, 0) << pending.err;
  auto zoned_ps = ps(zoned);
  ASSERT_EQ(zoned_ps.size(), 1u) << zoned_ps.dump();
  EXPECT_EQ(zoned_ps[0].value("state", ""), "pending") << zoned_ps.dump();
  EXPECT_NE(zoned_ps[0].value("reason", "").find("no node satisfies"), std::string::npos) << zoned_ps.dump();
  EXPECT_NE(zoned_ps[0].value("reason", "").find("node.labels.zone==b"), std::string::npos) << zoned_ps.dump();
  auto table = h_->stack(0, {"-f", zoned, "ps"});
  EXPECT_NE(table.out.find("pending: no node satisfies"), std::string::npos) << table.out;
  // up's progress comes from the stack's events.
  EXPECT_NE(pending.out.find("Service app"), std::string::npos) << pending.out;
  EXPECT_NE(pending.out.find("Pending: no node satisfies"), std::string::npos) << pending.out;
  auto zoned_down = h_->stack(0, {"-f", zoned, "down"});
  ASSERT_EQ(zoned_down.status, 0) << zoned_down.err;
  down_leaves_nothing(file);
}

// Drain: each replica on the node starts on another node and is healthy
// before its old one is stopped (the events say in which order), then the
// node holds nothing. Back to active with a label, it takes new replicas.
TEST_F(ClusterPlacement, DrainMovesReplicasOffEachNewOneHealthyBeforeItsOldOneStops) {
  const std::string file = write_stack("drained", R"(name: drained
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      replicas: 3
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
)" + kIdleCommand);
  auto up = h_->stack(0, {"-f", file, "up", "-d", "--wait"});
  ASSERT_EQ(up.status, 0) << up.err;
  json list = ps(file);
  std::string moved;  // the replica node 1 runs
  for (auto& r : list)
    if (r.value("node", "") == id_of(1)) moved = r.value("name", "");
  ASSERT_FALSE(moved.empty()) << list.dump();

  // The stack's events while the node drains (events follow; timeout ends them).
  auto events = std::async(std::launch::async, [&] { return h_->stack(0, {"-f", file, "events", "--json"}, 25); });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto bad = h_->stack(0, {"node", "update", "--availability", "sleep", id_of(1)});
  EXPECT_NE(bad.status, 0);
  auto drain = h_->stack(0, {"node", "update", "--availability", "drain", id_of(1)});
  ASSERT_EQ(drain.status, 0) << drain.err;
  EXPECT_EQ(drain.out, id_of(1) + "\n");
  EXPECT_TRUE(wait_for([&] {
    list = ps(file);
    int serving = 0;
    for (auto& r : list) serving += r.value("state", "") == "running" && r.value("health", "") == "healthy";
    return h_->containers(1).empty() && serving == 3 && running_per_node(list).count(id_of(1)) == 0;
  })) << list.dump();
  for (auto& n : nodes(0))
    if (n["id"] == id_of(1)) EXPECT_EQ(n["availability"], "drain") << n.dump();

  auto seen = events.get();
  int created = -1, healthy = -1, stopped = -1, i = 0;
  for (size_t at = 0, end; (end = seen.out.find('\n', at)) != std::string::npos; at = end + 1, ++i) {
    auto e = json::parse(seen.out.substr(at, end - at), nullptr, false);
    if (e.is_discarded() || e.value("replica", "") != moved) continue;
    std::string type = e.value("type", ""), reason = e["attrs"].value("reason", "");
    if (type == "create" && reason.find("is drained") != std::string::npos && created < 0) created = i;
    if (type == "health_status" && e["attrs"].value("health", "") == "healthy" && created >= 0 && healthy < 0) healthy = i;
    if (type == "stop" && reason == "superseded" && stopped < 0) stopped = i;
  }
  EXPECT_GE(created, 0) << seen.out;
  EXPECT_GT(healthy, created) << seen.out;
  EXPECT_GT(stopped, healthy) << "the old one stopped only once the new one was healthy:\n" << seen.out;

  // Active again, with a label: a replica constrained to it goes there.
  ASSERT_EQ(h_->stack(0, {"node", "update", "--availability", "active", "--label-add", "zone=b", id_of(1)}).status, 0);
  auto zoned = h_->stack(0, {"-f", write_stack("zb", R"(name: zb
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      placement:
        constraints: ["node.labels.zone==b"]
)" + kIdleCommand), "up", "-d"});
  ASSERT_EQ(zoned.status, 0) << zoned.err;
  EXPECT_EQ(h_->containers(1).size(), 1u) << "the labelled node takes the zone's replica";
  ASSERT_EQ(h_->stack(0, {"-f", h_->root(0) + "/zb.yaml", "down"}).status, 0);
  down_leaves_nothing(file);
}

// deploy.mode global: one replica on each node, pinned to it; a drained
// node's replica stops and nothing replaces it elsewhere; active again, the
// node gets one back. A global job runs once on each node and is complete.
TEST_F(ClusterPlacement, AGlobalServiceRunsOnEveryNodeAndFollowsDrainAndAGlobalJobCompletesOnEach) {
  const std::string file = write_stack("everywhere", R"(name: everywhere
services:
  agent:
    image: stack-demo/busybox:1
    deploy:
      mode: global
)" + kIdleCommand + R"(  once:
    image: stack-demo/busybox:1
    deploy:
      mode: global-job
    command: ["sh", "-c", "echo ran"]
)");
  auto up = h_->stack(0, {"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;
  json list;
  auto per_node = [&](const std::string& service, const std::string& state) {
    std::map<std::string, int> out;
    for (auto& r : list)
      if (r.value("service", "") == service && r.value("state", "") == state) out[r.value("node", "")]++;
    return out;
  };
  const std::map<std::string, int> one_each{{id_of(0), 1}, {id_of(1), 1}, {id_of(2), 1}};
  ASSERT_TRUE(wait_for([&] {
    list = ps(file);
    return per_node("agent", "running") == one_each && per_node("once", "complete") == one_each;
  })) << list.dump();
  auto table = h_->stack(0, {"-f", file, "ps"});
  EXPECT_NE(table.out.find("complete"), std::string::npos) << table.out;
  auto scale = h_->stack(0, {"-f", file, "scale", "agent=5"});
  EXPECT_NE(scale.status, 0);
  EXPECT_NE(scale.err.find("one replica per node"), std::string::npos) << scale.err;

  ASSERT_EQ(h_->stack(0, {"node", "update", "--availability", "drain", id_of(2)}).status, 0);
  const std::map<std::string, int> two{{id_of(0), 1}, {id_of(1), 1}};
  EXPECT_TRUE(wait_for([&] {
    list = ps(file);
    return per_node("agent", "running") == two;
  })) << "the drained node's replica stops and is not moved: " << list.dump();
  EXPECT_EQ(per_node("once", "complete"), one_each) << "the job ran there: " << list.dump();

  ASSERT_EQ(h_->stack(0, {"node", "update", "--availability", "active", id_of(2)}).status, 0);
  EXPECT_TRUE(wait_for([&] {
    list = ps(file);
    return per_node("agent", "running") == one_each;
  })) << list.dump();
  int once_lines = 0;
  for (auto& r : list) once_lines += r.value("service", "") == "once";
  EXPECT_EQ(once_lines, 3) << "the job does not run again: " << list.dump();

  down_leaves_nothing(file);
  EXPECT_EQ(ps(file).size(), 0u);
}

// A true partition: node 2's network goes (its stackd and containers keep
// running, cut off from etcd). The leader sees it down and runs its replica
// elsewhere; the cut-off node keeps serving what it had. When the network
// comes back, the node finds its replica superseded and removes it: one
// replica per slot again.
TEST_F(ClusterPlacement, APartitionedNodeKeepsItsContainersAndLeavesNoDuplicateWhenItReturns) {
  const std::string file = write_stack("cut", idle_stack("cut", 3));
  json list = up_over(file, 3);
  ASSERT_EQ(running_per_node(list).size(), 3u) << list.dump();
  const auto held = h_->containers(2);
  ASSERT_EQ(held.size(), 1u);

  ASSERT_EQ(h_->partition(2, true), "");
  EXPECT_TRUE(wait_for([&] {
    list = ps(file);
    auto per = running_per_node(list);
    return per[id_of(0)] + per[id_of(1)] == 3;
  })) << list.dump();
  EXPECT_EQ(h_->containers(2), held) << "a node cut off keeps its container";

  ASSERT_EQ(h_->partition(2, false), "");
  EXPECT_TRUE(wait_for([&] { return h_->containers(2).empty(); })) << "the superseded container stays on node 2";
  EXPECT_TRUE(wait_for([&] {
    for (auto& n : nodes(0))
      if (n["id"] == id_of(2)) return n["status"] == "ready";
    return false;
  })) << nodes(0).dump();
  list = ps(file);
  std::set<int> slots;
  int running = 0;
  for (auto& r : list) {
    EXPECT_TRUE(slots.insert(r.value("replica", 0)).second) << "slot twice: " << list.dump();
    running += r.value("state", "") == "running";
  }
  EXPECT_EQ(running, 3) << list.dump();
  EXPECT_EQ(h_->containers(0).size() + h_->containers(1).size(), 3u);

  down_leaves_nothing(file);
}

}  // namespace
}  // namespace stack::test
