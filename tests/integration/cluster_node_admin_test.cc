// `stack node inspect` and `stack node rm` on the three-node harness (node 0
// leads, nodes 1 and 2 are workers). rm refuses this node and a node that is
// still up; a down node is forgotten: its replicas run elsewhere, it leaves
// `node ls`, and its certificate opens nothing in etcd any more.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>

#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/store/etcd_members.h"
#include "orchestrator/daemon/store/etcd_store.h"
#include "tests/integration/cluster_fixture.h"

namespace stack::test {
namespace {

using nlohmann::json;

class ClusterNodeAdmin : public WorkerCluster {};

TEST_F(ClusterNodeAdmin, InspectShowsANodeAndRmForgetsADownOneWhoseReplicasRunElsewhere) {
  const std::string file = write_stack("three", idle_stack("three", 3));
  json list = up_over(file, 3);
  ASSERT_EQ(running_per_node(list).size(), 3u) << list.dump();

  auto inspect = h_->stack(0, {"node", "inspect", id_of(1).substr(0, 6)});
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  auto shown = json::parse(inspect.out, nullptr, false);
  ASSERT_TRUE(shown.is_array() && shown.size() == 1) << inspect.out;
  EXPECT_EQ(shown[0].value("id", ""), id_of(1));
  EXPECT_EQ(shown[0].value("role", ""), "worker");
  EXPECT_EQ(shown[0].value("status", ""), "ready");
  EXPECT_EQ(shown[0].value("tasks", -1), 1) << inspect.out;
  auto missing = h_->stack(0, {"node", "inspect", "nosuchnode"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("no such node: nosuchnode"), std::string::npos) << missing.err;

  // Refused: the node answering, and a node that is up.
  auto self = h_->stack(0, {"node", "rm", id_of(0)});
  EXPECT_NE(self.status, 0);
  EXPECT_NE(self.err.find("is this node"), std::string::npos) << self.err;
  auto up_node = h_->stack(0, {"node", "rm", id_of(2)});
  EXPECT_NE(up_node.status, 0);
  EXPECT_NE(up_node.err.find("is not down and can't be removed"), std::string::npos) << up_node.err;
  EXPECT_EQ(nodes(0).size(), 3u) << "a refusal changes nothing";
  auto worker_rm = h_->stack(1, {"node", "rm", id_of(2)});
  EXPECT_NE(worker_rm.status, 0);
  EXPECT_NE(worker_rm.err.find("is a worker"), std::string::npos) << worker_rm.err;

  // Node 2's stackd dies; once down, rm forgets it.
  h_->stop(2, SIGKILL);
  ASSERT_TRUE(wait_for([&] {
    for (auto& n : nodes(0))
      if (n["id"] == id_of(2)) return n["status"] == "down";
    return false;
  }));
  auto rm = h_->stack(0, {"node", "rm", id_of(2)});
  ASSERT_EQ(rm.status, 0) << rm.err;
  EXPECT_EQ(rm.out, id_of(2) + "\n");
  auto left = nodes(0);
  EXPECT_EQ(left.size(), 2u) << left.dump();
  for (auto& n : left) EXPECT_NE(n["id"], id_of(2));
  EXPECT_TRUE(wait_for([&] {
    list = ps(file);
    auto per = running_per_node(list);
    return per[id_of(0)] + per[id_of(1)] == 3 && !per.count(id_of(2));
  })) << list.dump();
  for (auto& r : list) EXPECT_NE(r.value("node", ""), id_of(2)) << "no task stays on a removed node: " << r.dump();

  // Its certificate opens nothing any more.
  auto as_removed = orch::open_etcd_store(etcd_as(2));
  if (as_removed) {
    auto read = (*as_removed)->get("assign/" + id_of(2) + "/x");
    EXPECT_FALSE(read) << "a removed node still reads its keys";
  }
  auto as_worker = orch::open_etcd_store(etcd_as(1));
  ASSERT_TRUE(as_worker) << as_worker.error().message();
  EXPECT_TRUE((*as_worker)->get("assign/" + id_of(1) + "/x")) << "the other worker is untouched";

  down_leaves_nothing(file, {0, 1});
}

// `node leave` on a worker: its containers and networks go, the leader sees
// it down at once and runs its replicas on the others, and it answers as a
// single node afterwards. The last manager is refused.
TEST_F(ClusterNodeAdmin, AWorkerLeavesItsContainersGoAndTheLeaderRunsItsReplicasElsewhere) {
  const std::string file = write_stack("three", idle_stack("three", 3));
  json list = up_over(file, 3);
  ASSERT_EQ(running_per_node(list).size(), 3u) << list.dump();

  auto manager = h_->stack(0, {"node", "leave"});
  EXPECT_NE(manager.status, 0);
  EXPECT_NE(manager.err.find("is the last manager"), std::string::npos) << manager.err;

  auto leave = h_->stack(1, {"node", "leave"}, 90);
  ASSERT_EQ(leave.status, 0) << leave.err;
  EXPECT_NE(leave.out.find("left the cluster"), std::string::npos) << leave.out;
  EXPECT_TRUE(h_->containers(1).empty()) << "its containers are gone";
  auto single = h_->stack(1, {"node", "ls"});
  EXPECT_NE(single.status, 0);
  EXPECT_NE(single.err.find("not in a cluster"), std::string::npos) << single.err;
  EXPECT_EQ(h_->stack(1, {"ls"}).status, 0) << "it serves as a single node";

  EXPECT_TRUE(wait_for([&] {
    for (auto& n : nodes(0))
      if (n["id"] == id_of(1)) return n["status"] == "down";
    return false;
  })) << nodes(0).dump();
  EXPECT_TRUE(wait_for([&] {
    list = ps(file);
    auto per = running_per_node(list);
    return per[id_of(0)] + per[id_of(2)] == 3 && !per.count(id_of(1));
  })) << list.dump();
  auto rm = h_->stack(0, {"node", "rm", id_of(1)});
  EXPECT_EQ(rm.status, 0) << rm.err;

  down_leaves_nothing(file, {0, 2});
}

// promote makes a worker a manager (a certificate for its key, root rights
// in etcd, an etcd member of its own), so it answers stack verbs; demote
// makes it a worker again (member removed, rights cut). The last manager
// is not demoted; a worker's certificate changes no node's role.
TEST_F(ClusterNodeAdmin, PromoteAndDemoteChangeANodesRoleItsCertificateAndItsEtcdMember) {
  auto role_of = [&](int n) {
    for (auto& node : nodes(0))
      if (node["id"] == id_of(n)) return node["role"].get<std::string>() + "/" + node["status"].get<std::string>();
    return std::string("?");
  };
  auto members = [&] {
    auto m = orch::etcd_member_list(etcd_as(0));
    return m ? static_cast<int>(m->size()) : -1;
  };
  EXPECT_EQ(members(), 1);
  auto last = h_->stack(0, {"node", "demote", id_of(0)});
  EXPECT_NE(last.status, 0);
  EXPECT_NE(last.err.find("is this node"), std::string::npos) << last.err;

  auto promote = h_->stack(0, {"node", "promote", id_of(1)}, 60);
  ASSERT_EQ(promote.status, 0) << promote.err;
  EXPECT_NE(promote.out.find("is now a manager"), std::string::npos) << promote.out;
  EXPECT_TRUE(wait_for([&] { return role_of(1) == "manager/ready"; })) << nodes(0).dump();
  EXPECT_TRUE(wait_for([&] { return members() == 2; })) << "its own etcd member";
  // Stack verbs on it reach the leader now (which knows no stack "none").
  EXPECT_TRUE(wait_for([&] { return h_->stack(1, {"-p", "none", "ps"}).err.find("no such stack") != std::string::npos; }))
      << h_->stack(1, {"-p", "none", "ps"}).err;
  auto manager_store = orch::open_etcd_store(etcd_as(1));
  ASSERT_TRUE(manager_store) << manager_store.error().message();
  EXPECT_TRUE((*manager_store)->get("cluster/ca")) << "a manager's certificate reads what managers read";

  auto again = h_->stack(0, {"node", "promote", id_of(1)});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("already a manager"), std::string::npos) << again.err;
  auto as_worker = orch::peer_call(orch::PeerCredentials::under(h_->root(2)), "POST", h_->address(1), 2377,
                                   "/v1/node/identity/role", "{}");
  ASSERT_FALSE(as_worker);
  EXPECT_NE(as_worker.error().message().find("only a manager"), std::string::npos) << as_worker.error().message();

  auto demote = h_->stack(0, {"node", "demote", id_of(1)}, 60);
  ASSERT_EQ(demote.status, 0) << demote.err;
  EXPECT_TRUE(wait_for([&] { return role_of(1) == "worker/ready"; })) << nodes(0).dump();
  EXPECT_EQ(members(), 1);
  CmdResult worker_ps;
  EXPECT_TRUE(wait_for([&] {
    worker_ps = h_->stack(1, {"-p", "none", "ps"});
    return worker_ps.err.find("does not lead") != std::string::npos;
  })) << "stack verbs on the demoted node: " << worker_ps.err;
  auto worker_store = orch::open_etcd_store(etcd_as(1));
  ASSERT_TRUE(worker_store) << worker_store.error().message();
  EXPECT_FALSE((*worker_store)->get("cluster/ca")) << "a demoted node's certificate is a worker's again";
  EXPECT_FALSE(std::filesystem::exists(h_->root(1) + "/etcd/data")) << "its member's data is gone";

  // The leading manager leaves in one verb: another manager (node 1,
  // promoted again) takes the lead, node 0's etcd member and user go, and
  // node 0 is a single node.
  ASSERT_EQ(h_->stack(0, {"node", "promote", id_of(1)}, 60).status, 0);
  ASSERT_TRUE(wait_for([&] { return role_of(1) == "manager/ready" && members() == 2; })) << nodes(0).dump();
  // Node 0's credentials, kept aside: its leave removes its etcd user.
  TempDir kept;
  orch::EtcdOptions as_0 = etcd_as(0, 1);
  for (std::string* f : {&as_0.ca_file, &as_0.cert_file, &as_0.key_file}) {
    const std::string copy = kept.path() + "/" + std::filesystem::path(*f).filename().string();
    std::filesystem::copy_file(*f, copy);
    *f = copy;
  }
  ASSERT_TRUE(orch::open_etcd_store(as_0)) << "node 0's certificate opens etcd through node 1's member";
  // Worker node 2 joined when node 0's member was etcd's only one: it
  // learns of node 1's (endpoint_sync.h).
  auto endpoints_of_2 = [&] {
    auto j = json::parse(read_file(h_->root(2) + "/cluster/cluster.json"), nullptr, false);
    return j.is_discarded() ? json::array() : j.value("etcd_endpoints", json::array());
  };
  ASSERT_TRUE(wait_for([&] { return endpoints_of_2().size() == 2; })) << endpoints_of_2().dump();
  auto leave = h_->stack(0, {"node", "leave"}, 90);
  ASSERT_EQ(leave.status, 0) << leave.err;
  EXPECT_NE(leave.out.find("left the cluster"), std::string::npos) << leave.out;
  auto nodes_on_1 = [&] {
    auto r = h_->stack(1, {"node", "ls", "--format", "json"});
    auto j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json::array() : j;
  };
  EXPECT_TRUE(wait_for([&] {
    for (auto& n : nodes_on_1())
      if (n["id"] == id_of(1) && n["leader"] == true) return true;
    return false;
  })) << nodes_on_1().dump();
  for (auto& n : nodes_on_1())
    if (n["id"] == id_of(0)) EXPECT_EQ(n["status"], "down") << n.dump();
  auto left = orch::etcd_member_list(etcd_as(1, 1));
  ASSERT_TRUE(left) << left.error().message();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().name, id_of(1));
  EXPECT_FALSE(orch::open_etcd_store(as_0)) << "node 0's certificate no longer opens etcd";
  auto single = h_->stack(0, {"node", "ls"});
  EXPECT_NE(single.err.find("not in a cluster"), std::string::npos) << single.err;
  EXPECT_FALSE(std::filesystem::exists(h_->root(0) + "/etcd")) << "its member's data is gone";
  EXPECT_EQ(h_->stack(1, {"node", "rm", id_of(0)}).status, 0);
  // Node 2, cut off from the member it knew, restarts onto node 1's.
  EXPECT_TRUE(wait_for([&] {
    for (auto& n : nodes_on_1())
      if (n["id"] == id_of(2)) return n["status"] == "ready";
    return false;
  })) << nodes_on_1().dump();
}

}  // namespace
}  // namespace stack::test
