// Three stackd nodes on the cluster harness (tests/support/cluster_harness.h),
// started and answering; on a failure every node's log tail is printed.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "orchestrator/daemon/store/etcd_store.h"
#include "tests/support/cluster_harness.h"

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
  std::unique_ptr<ClusterHarness> h_;
};

}  // namespace stack::test
