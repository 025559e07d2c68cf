// x-autoscale on a cluster (tests/support/cluster_harness.h: node 0 leads,
// nodes 1 and 2 are workers), with the same file as on one host: the leader
// reads every replica where it runs (a worker's through its node API),
// adds replicas, placement spreads them over the nodes, and `down` leaves no
// autoscale key in etcd. stackd's default reading interval (5 s).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster_fixture.h"

namespace stack::test {
namespace {

using nlohmann::json;

class ClusterAutoscale : public WorkerCluster {};

TEST_F(ClusterAutoscale, BusyReplicasOnEveryNodeAreReadAndTheServiceGrowsToItsMax) {
  const std::string file = write_stack("asc", "name: asc\n"
                                              "services:\n"
                                              "  busy:\n"
                                              "    image: stack-demo/busybox:1\n"
                                              "    command: [sh, -c, 'trap \"exit 0\" TERM; while :; do :; done']\n"
                                              "    cpus: 0.2\n"
                                              "    x-autoscale: {min: 1, max: 3, cpu: 50%,\n"
                                              "                  scale_up: {stabilization: 0s, max_step: 4, period: 1s}}\n");
  auto up = h_->stack(0, {"-f", file, "up", "-d"});
  ASSERT_EQ(up.status, 0) << up.err;
  json list;
  ASSERT_TRUE(wait_for([&] {
    list = ps(file);
    return running_total(list) == 3;
  })) << list.dump();
  EXPECT_GE(running_per_node(list).size(), 2u) << "spread over the nodes: " << list.dump();
  // Every replica counted in a reading, those on the workers too.
  json view;
  EXPECT_TRUE(wait_for([&] {
    auto r = h_->stack(0, {"-f", file, "autoscale", "--format", "json"});
    auto j = json::parse(r.out, nullptr, false);
    if (r.status != 0 || !j.is_array() || j.empty()) return false;
    view = j[0];
    return view.contains("reading") && view["reading"].value("ready", 0) == 3;
  })) << view.dump();
  EXPECT_EQ(view.value("replicas", 0), 3) << view.dump();
  EXPECT_GT(view["reading"].value("cpu", 0.0), 50.0) << view.dump();
  down_leaves_nothing(file);
}

}  // namespace
}  // namespace stack::test
