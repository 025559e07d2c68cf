// Three managers (tests/support/cluster_harness.h): three etcd members, so
// losing any one loses nothing. A killed node (stackd and its member, kill
// -9) shows down once its heartbeat lease ends, comes back ready when it
// restarts, and when the leader is killed another manager takes the leader
// key. Stack verbs work on every manager: the others relay to the leader. The test waits for each of these and asserts what `node ls` shows,
// never how long it took.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <future>
#include <thread>

#include "orchestrator/daemon/store/etcd_members.h"
#include "tests/integration/cluster_fixture.h"

namespace stack::test {
namespace {

using nlohmann::json;

class ClusterFailover : public ThreeNodes {
 protected:
  // Node n's view once `pred` holds for it (up to 60 s), else its last view.
  json until(int n, const std::function<bool(const json&)>& pred) {
    json list;
    for (int i = 0; i < 300; ++i) {
      list = nodes(n);
      if (pred(list)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return list;
  }
  static int count(const json& list, const std::string& key, const json& value) {
    int c = 0;
    for (auto& node : list) c += node[key] == value;
    return c;
  }
  static std::string id_of_address(const json& list, const std::string& address) {
    for (auto& node : list)
      if (node["address"] == address) return node["id"].get<std::string>();
    return "";
  }
  static std::string field_of(const json& list, const std::string& address, const std::string& key) {
    for (auto& node : list)
      if (node["address"] == address) return node[key].is_string() ? node[key].get<std::string>() : node[key].dump();
    return "";
  }
};

TEST_F(ClusterFailover, ThreeManagersLoseAnyOneNodeAndTheLeaderMoves) {
  form_cluster("manager");
  auto all_ready = [](const json& l) { return l.size() == 3 && count(l, "status", "ready") == 3; };
  auto list = until(0, all_ready);
  ASSERT_TRUE(all_ready(list)) << list.dump();
  EXPECT_EQ(count(list, "role", "manager"), 3);
  // etcd's raft leader moves off the leading manager (raft_handoff.h), so
  // that the leader's death does not also cost an etcd election.
  std::string raft_leader;
  EXPECT_TRUE(wait_for([&] {
    auto st = orch::etcd_status(etcd_as(0));
    auto members = orch::etcd_member_list(etcd_as(0));
    if (!st || !members) return false;
    for (auto& m : *members)
      if (m.id == st->leader) raft_leader = m.name;
    return !raft_leader.empty() && raft_leader != id_of_address(list, h_->address(0));
  })) << "raft leader: " << raft_leader;
  // A stack over the three: one replica each.
  load_images();
  const std::string file = write_stack("trio", idle_stack("trio", 3));
  auto up = h_->stack(0, {"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;
  json trio;
  EXPECT_TRUE(wait_for([&] { trio = ps(file); return running_per_node(trio).size() == 3; })) << trio.dump();
  // Any manager answers: the others relay to the leader (leader_forward.h),
  // streams included.
  auto via_follower = ps(file, 1);
  EXPECT_EQ(running_per_node(via_follower).size(), 3u) << "ps on a manager that does not lead: " << via_follower.dump();
  auto scaled = h_->stack(2, {"-f", file, "scale", "app=4"});
  EXPECT_EQ(scaled.status, 0) << scaled.err;
  EXPECT_TRUE(wait_for([&] {
    auto per = running_per_node(ps(file));
    int total = 0;
    for (auto& [node, n] : per) total += n;
    return total == 4;
  })) << ps(file).dump();
  auto events = std::async(std::launch::async, [&] { return h_->stack(2, {"-f", file, "events", "--json"}, 8); });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(h_->stack(1, {"-f", file, "scale", "app=3"}).status, 0);
  auto seen = events.get();
  EXPECT_NE(seen.out.find("\"type\":\"scale\""), std::string::npos) << "events stream through the relay: " << seen.out
                                                                      << seen.err;
  auto members = orch::etcd_member_list(etcd_as(0));
  ASSERT_TRUE(members) << members.error().message();
  EXPECT_EQ(members->size(), 3u) << "three managers, three etcd members";

  // Node 2 dies (stackd and its etcd member): the others' quorum holds.
  h_->stop(2, SIGKILL);
  auto two_down = until(0, [&](const json& l) { return field_of(l, h_->address(2), "status") == "down"; });
  EXPECT_EQ(field_of(two_down, h_->address(2), "status"), "down") << two_down.dump();
  EXPECT_EQ(count(two_down, "status", "ready"), 2) << two_down.dump();
  EXPECT_EQ(two_down.size(), 3u) << "nothing lost";
  EXPECT_EQ(field_of(two_down, h_->address(0), "leader"), "true") << "the leader did not change";
  // With node 2's member down, node 1's member is half of what would be
  // left: node 1 may not leave, and nothing changes.
  auto refused = h_->stack(1, {"node", "leave"}, 60);
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("1 of 2 members would answer, short of etcd's quorum of 2"), std::string::npos)
      << refused.err;
  EXPECT_EQ(orch::etcd_member_list(etcd_as(0)).value_or(std::vector<orch::EtcdMemberInfo>{}).size(), 3u);
  EXPECT_EQ(field_of(nodes(0), h_->address(1), "status"), "ready");
  ASSERT_EQ(h_->start(2), "");
  auto back = until(1, all_ready);
  EXPECT_TRUE(all_ready(back)) << back.dump();

  // The leader dies: another manager takes the key once its lease ends.
  h_->stop(0, SIGKILL);
  auto moved = until(1, [&](const json& l) {
    return field_of(l, h_->address(0), "status") == "down" && count(l, "leader", true) == 1;
  });
  EXPECT_EQ(field_of(moved, h_->address(0), "status"), "down") << moved.dump();
  EXPECT_EQ(field_of(moved, h_->address(0), "leader"), "false") << moved.dump();
  EXPECT_EQ(count(moved, "leader", true), 1) << moved.dump();
  EXPECT_EQ(count(moved, "status", "ready"), 2) << moved.dump();

  // The new leader runs the stack: it adopted the replicas from the nodes'
  // reports and replaces the one the dead leader's node held.
  int leader = field_of(moved, h_->address(1), "leader") == "true" ? 1 : 2;
  std::string dead_id = field_of(moved, h_->address(0), "id");
  EXPECT_TRUE(wait_for([&] {
    trio = ps(file, leader);
    auto per = running_per_node(trio);
    return per.size() == 2 && !per.count(dead_id) && per.begin()->second + per.rbegin()->second == 3;
  })) << trio.dump();
  // The survivor that does not lead relays to the new leader.
  down_leaves_nothing(file, {1, 2}, 3 - leader);
}

}  // namespace
}  // namespace stack::test
