// Nodes join a cluster (tests/support/cluster_harness.h: three stackd, each
// in its own network namespace on a test bridge): a worker and a second
// manager join with the tokens `node init` printed, the manager's etcd
// member joins etcd, and every node shows in `node ls` from any node. A
// token whose CA digest does not match the manager's, or whose secret is
// wrong, is refused and leaves nothing on either side.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

#include "orchestrator/daemon/store/etcd_members.h"
#include "orchestrator/daemon/store/etcd_store.h"
#include "tests/integration/cluster_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ClusterJoin : public ThreeNodes {
 protected:
  // The token line `node init` / `join-token` printed.
  static std::string token_in(const std::string& out) {
    auto at = out.find("--token ");
    return at == std::string::npos ? "" : out.substr(at + 8, out.find(' ', at + 8) - at - 8);
  }
};

TEST_F(ClusterJoin, AWorkerAndAManagerJoinAndEveryNodeSeesAllThree) {
  auto init = h_->stack(0, {"node", "init", "--advertise-addr", h_->address(0)});
  ASSERT_EQ(init.status, 0) << init.err;
  std::string worker_token = token_in(init.out);
  ASSERT_FALSE(worker_token.empty()) << init.out;
  auto mt = h_->stack(0, {"node", "join-token", "-q", "manager"});
  ASSERT_EQ(mt.status, 0) << mt.err;
  std::string manager_token = mt.out.substr(0, mt.out.find('\n'));

  auto w = h_->stack(1, {"node", "join", "--token", worker_token, "--advertise-addr", h_->address(1),
                         h_->address(0) + ":2377"});
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_NE(w.out.find("as a worker"), std::string::npos) << w.out;
  auto m = h_->stack(2, {"node", "join", "--token", manager_token, "--advertise-addr", h_->address(2),
                         h_->address(0)});
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_NE(m.out.find("as a manager"), std::string::npos) << m.out;

  for (int n = 0; n < 3; ++n) {
    json list;
    // The last node's heartbeat shows once its restarted stackd is up.
    for (int i = 0; i < 100; ++i) {
      list = nodes(n);
      int ready = 0;
      for (auto& node : list) ready += node["status"] == "ready";
      if (ready == 3) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(list.size(), 3u) << "from node " << n << ": " << list.dump();
    int managers = 0, leaders = 0, selves = 0;
    for (auto& node : list) {
      EXPECT_EQ(node["status"], "ready") << node.dump();
      managers += node["role"] == "manager";
      leaders += node["leader"].get<bool>();
      selves += node["self"].get<bool>();
    }
    EXPECT_EQ(managers, 2) << list.dump();
    EXPECT_EQ(leaders, 1) << list.dump();
    EXPECT_EQ(selves, 1) << list.dump();
  }
  auto leader = nodes(0);
  for (auto& node : leader)
    if (node["leader"].get<bool>()) EXPECT_EQ(node["address"], h_->address(0));

  // Two managers, two etcd members, each with its certificate.
  auto members = orch::etcd_member_list(etcd_as(0));
  ASSERT_TRUE(members) << members.error().message();
  EXPECT_EQ(members->size(), 2u);
  EXPECT_TRUE(fs::exists(h_->root(2) + "/etcd/data")) << "the joining manager runs a member";
  EXPECT_FALSE(fs::exists(h_->root(1) + "/etcd")) << "a worker runs none";

  // etcd knows each node by its certificate: the worker's may write its
  // own record and heartbeat, and nothing else, nor read the CA's key.
  auto self_id = [&](int n) {
    for (auto& node : nodes(n))
      if (node["self"].get<bool>()) return node["id"].get<std::string>();
    return std::string();
  };
  auto as_node = [&](int n) {
    auto s = orch::open_etcd_store(etcd_as(n));
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  };
  const std::string worker_id = self_id(1), leader_id = self_id(0);
  auto worker = as_node(1);
  ASSERT_TRUE(worker);
  auto own = worker->get("nodes/" + worker_id);
  ASSERT_TRUE(own && *own) << "a worker reads its record";
  EXPECT_TRUE(worker->put("nodes/" + worker_id, **own)) << "and writes it";
  auto other = worker->put("nodes/" + leader_id, "{}");
  ASSERT_FALSE(other) << "a worker cannot change another node's record";
  EXPECT_NE(other.error().message().find("permission denied"), std::string::npos) << other.error().message();
  EXPECT_FALSE(worker->put("stacks/evil", "{}")) << "nor the stacks";
  EXPECT_FALSE(worker->remove("alive/" + leader_id)) << "nor another node's heartbeat";
  // Its own tasks: it reads its assignments and reports on them; another
  // node's it can neither assign, report on, nor signal.
  EXPECT_TRUE(worker->get("assign/" + worker_id + "/x")) << "reads its assignments";
  EXPECT_FALSE(worker->put("assign/" + worker_id + "/x", "{}")) << "but does not assign itself work";
  EXPECT_TRUE(worker->put("tasks/" + worker_id + "/x", "{}")) << "reports on its own";
  EXPECT_TRUE(worker->remove("tasks/" + worker_id + "/x"));
  EXPECT_FALSE(worker->put("assign/" + leader_id + "/x", "{}")) << "nor another node's";
  EXPECT_FALSE(worker->put("tasks/" + leader_id + "/x", "{}")) << "nor reports for another node";
  EXPECT_FALSE(worker->put("signals/" + leader_id + "/x", "{}")) << "nor signals another node's containers";
  EXPECT_FALSE(worker->get("assign/" + leader_id + "/x")) << "nor reads another node's assignments";
  EXPECT_FALSE(worker->get("cluster/ca")) << "nor read the CA's key";
  EXPECT_FALSE(worker->get("cluster/secrets")) << "nor the join secrets";
  auto manager = as_node(2);
  ASSERT_TRUE(manager);
  EXPECT_TRUE(manager->get("cluster/ca")) << "a manager may (it admits nodes)";
  EXPECT_EQ(nodes(0).size(), 3u) << "the refused writes changed nothing";

  // Stack verbs belong to the leader.
  auto ls_worker = h_->stack(1, {"-p", "shop", "ps"});
  EXPECT_NE(ls_worker.status, 0);
  EXPECT_NE(ls_worker.err.find("does not lead"), std::string::npos) << ls_worker.err;
}

TEST_F(ClusterJoin, AWrongCaDigestOrSecretIsRefusedAndLeavesNothing) {
  auto init = h_->stack(0, {"node", "init", "--advertise-addr", h_->address(0)});
  ASSERT_EQ(init.status, 0) << init.err;
  std::string token = token_in(init.out);
  ASSERT_EQ(token.size(), 8u + 64 + 1 + 32) << token;

  // Another cluster's CA: the digest differs in one place.
  std::string wrong_ca = token;
  wrong_ca[8] = wrong_ca[8] == '0' ? '1' : '0';
  auto r1 = h_->stack(1, {"node", "join", "--token", wrong_ca, "--advertise-addr", h_->address(1), h_->address(0)});
  EXPECT_NE(r1.status, 0);
  EXPECT_NE(r1.err.find("does not match the token"), std::string::npos) << r1.err;

  // The right CA, a wrong secret: the manager refuses.
  std::string wrong_secret = token;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  auto r2 = h_->stack(1, {"node", "join", "--token", wrong_secret, "--advertise-addr", h_->address(1), h_->address(0)});
  EXPECT_NE(r2.status, 0);
  EXPECT_NE(r2.err.find("matches neither"), std::string::npos) << r2.err;
  EXPECT_EQ(r2.err.find(wrong_secret.substr(8 + 65)), std::string::npos) << "the secret is not echoed";

  // A malformed token never leaves the node.
  auto r3 = h_->stack(1, {"node", "join", "--token", "STACK-1-nothex", h_->address(0)});
  EXPECT_NE(r3.status, 0);
  EXPECT_NE(r3.err.find("join token"), std::string::npos) << r3.err;

  EXPECT_FALSE(fs::exists(h_->root(1) + "/cluster")) << "nothing of the refused joins on the node";
  EXPECT_EQ(nodes(0).size(), 1u) << "nothing of them in the cluster";
  EXPECT_EQ(h_->stack(1, {"ls"}).status, 0) << "the node still serves as a single node";
}

}  // namespace
}  // namespace stack::test
