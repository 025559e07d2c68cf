// Three stackd nodes on the cluster harness (tests/support/cluster_harness.h),
// started and answering; on a failure every node's log tail is printed.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <thread>
#include <memory>
#include <vector>

#include "orchestrator/daemon/store/etcd_store.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/wait_for.h"

namespace stack::test {

class ThreeNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto why = ClusterHarness::skip_reason();
    if (!why.empty()) GTEST_SKIP() << why;
    h_ = std::make_unique<ClusterHarness>(3);
    ASSERT_EQ(h_->error(), "");
    for (int n = 0; n < 3; ++n) ASSERT_EQ(h_->start(n), "");
  }
  void TearDown() override {
    if (HasFailure() && h_)
      for (int n = 0; n < h_->size(); ++n) {
        auto log = h_->log(n);
        std::cerr << "---- node " << n << " stackd.log (last 2500 bytes)\n"
                  << log.substr(log.size() > 2500 ? log.size() - 2500 : 0);
      }
  }
  // `node ls --format json` on node n ([] when it fails).
  nlohmann::json nodes(int n) {
    auto r = h_->stack(n, {"node", "ls", "--format", "json"});
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
  }
  // How node n's certificate reaches the etcd member of node `member`, as
  // stackd does (the managers' shared name, the revision probe readable by
  // every node, no compaction).
  orch::EtcdOptions etcd_as(int n, int member = 0) const {
    orch::EtcdOptions o;
    o.endpoints = {"https://" + h_->address(member) + ":2379"};
    o.ca_file = h_->root(n) + "/cluster/ca.pem";
    o.cert_file = h_->root(n) + "/cluster/node.pem";
    o.key_file = h_->root(n) + "/cluster/node.key";
    o.tls_server_name = "stack-etcd";
    o.retain_revisions = 0;
    o.revision_probe_key = "leader";
    return o;
  }
  // Node 0 inits the cluster, nodes 1 and 2 join with the `role` token
  // (worker or manager); returns once node 0 sees all three ready.
  void form_cluster(const std::string& role) {
    auto init = h_->stack(0, {"node", "init", "--advertise-addr", h_->address(0)});
    ASSERT_EQ(init.status, 0) << init.err;
    auto token = h_->stack(0, {"node", "join-token", "-q", role});
    ASSERT_EQ(token.status, 0) << token.err;
    const std::string t = token.out.substr(0, token.out.find('\n'));
    for (int n = 1; n < 3; ++n) {
      auto j = h_->stack(n, {"node", "join", "--token", t, "--advertise-addr", h_->address(n), h_->address(0)});
      ASSERT_EQ(j.status, 0) << j.err;
    }
    nlohmann::json list;
    ASSERT_TRUE(wait_for([&] {
      list = nodes(0);
      int ready = 0;
      for (auto& n : list) ready += n["status"] == "ready";
      return list.size() == 3 && ready == 3;
    })) << list.dump();
  }
  // The demo images (scripts/make-demo-images.sh) in every node's own store
  // (pulling from peers is the networking issue's).
  void load_images() {
    for (int n = 0; n < h_->size(); ++n) {
      auto img = run({"bash", std::string(STACK_SOURCE_DIR) + "/scripts/make-demo-images.sh", "--stack",
                      binary("stack"), "--image-root", h_->root(n) + "/images"});
      ASSERT_EQ(img.status, 0) << img.err;
    }
  }
  // A stack file under node 0's root.
  std::string write_stack(const std::string& name, const std::string& yaml) {
    std::string path = h_->root(0) + "/" + name + ".yaml";
    std::ofstream(path) << yaml;
    return path;
  }
  // `ps -a --format json` of the stack in `file`, asked of node n ([] when it fails).
  nlohmann::json ps(const std::string& file, int n = 0) {
    auto r = h_->stack(n, {"-f", file, "ps", "-a", "--format", "json"});
    if (r.status != 0) return nlohmann::json::array();
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  // `down` of the stack in `file`, asked of node `via`; then each node of
  // `left` holds no container (down leaves nothing behind).
  // ... and no key of the stack in etcd (read as `via`, a manager, from its
  // own member): its record, replicas, sources, rollouts, autoscaling and
  // assignments.
  void down_leaves_nothing(const std::string& file, std::vector<int> left = {0, 1, 2}, int via = 0) {
    auto down = h_->stack(via, {"-f", file, "down"});
    ASSERT_EQ(down.status, 0) << down.err;
    for (int n : left) EXPECT_TRUE(wait_for([&] { return h_->containers(n).empty(); })) << "node " << n;
    std::string name;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("name: ", 0) == 0) name = line.substr(6);
    ASSERT_FALSE(name.empty()) << file << " names no stack";
    auto store = orch::open_etcd_store(etcd_as(via, via));
    ASSERT_TRUE(store) << store.error().message();
    std::vector<std::string> left_keys;
    EXPECT_TRUE(wait_for([&] {
      left_keys.clear();
      for (const std::string prefix : {"stacks/" + name, "replicas/" + name + "/", "sources/" + name + "/",
                                       "rollouts/" + name + "/", "autoscale/" + name + "/", std::string("assign/")})
        if (auto kvs = (*store)->list(prefix))
          for (const auto& [key, value] : *kvs)
            if (prefix != "assign/" || key.find("/" + name + "-") != std::string::npos) left_keys.push_back(key);
      return left_keys.empty();
    })) << "left in etcd: " << nlohmann::json(left_keys).dump();
  }
  // Running replicas, whichever node runs them.
  static int running_total(const nlohmann::json& ps) {
    int n = 0;
    for (auto& r : ps) n += r.value("state", "") == "running";
    return n;
  }
  // node id -> running replicas there.
  static std::map<std::string, int> running_per_node(const nlohmann::json& ps) {
    std::map<std::string, int> out;
    for (auto& r : ps)
      if (r.value("state", "") == "running") out[r.value("node", "")]++;
    return out;
  }
  // tests/support/wait_for.h, 90 s by default (a node's loss takes a lease TTL).
  static bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit = std::chrono::seconds(90)) {
    return stack::test::wait_for(cond, limit);
  }
  std::unique_ptr<ClusterHarness> h_;
};

// Node 0 leads, nodes 1 and 2 joined as workers, the demo images on every
// node; nodes known by their ids.
class WorkerCluster : public ThreeNodes {
 protected:
  void SetUp() override {
    ThreeNodes::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    form_cluster("worker");
    if (HasFatalFailure()) return;
    for (auto& n : nodes(0)) ids_[n["address"].get<std::string>()] = n["id"].get<std::string>();
    load_images();
  }
  std::string id_of(int n) { return ids_[h_->address(n)]; }
  // `up -d` of `file` on node 0, then its ps once replicas run on `nodes`
  // nodes (the last ps when they never do; the caller's check says so).
  nlohmann::json up_over(const std::string& file, size_t nodes) {
    auto up = h_->stack(0, {"-f", file, "up", "-d"});
    EXPECT_EQ(up.status, 0) << up.err;
    nlohmann::json list;
    wait_for([&] {
      list = ps(file);
      return running_per_node(list).size() == nodes;
    });
    return list;
  }
  std::map<std::string, std::string> ids_;  // address -> node id
};

// The command of an idle replica that stops at once on SIGTERM (a YAML line
// of a service at the usual indentation).
inline const std::string kIdleCommand =
    "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1; done\"]\n";

// A stack of `replicas` idle busybox replicas named `name`.
inline std::string idle_stack(const std::string& name, int replicas) {
  return "name: " + name + "\nservices:\n  app:\n    image: stack-demo/busybox:1\n    deploy:\n      replicas: " +
         std::to_string(replicas) + "\n" + kIdleCommand;
}

}  // namespace stack::test
