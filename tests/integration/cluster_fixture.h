// Three stackd nodes on the cluster harness (tests/support/cluster_harness.h),
// started and answering; on a failure every node's log tail is printed.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

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
  std::unique_ptr<ClusterHarness> h_;
};

}  // namespace stack::test
