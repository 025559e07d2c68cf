// An assignment names its source (the project and networks it is cut
// from) by key instead of carrying it: the leader writes a source once per
// `up`, every replica's assignment is a few dozen bytes, and the node reads
// the source to make the same plan the leader made.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/cluster/assignment.h"
#include "orchestrator/daemon/engine/supervisor.h"

namespace stack::test {
namespace {

std::shared_ptr<const orch::PlanSource> source_of(const std::string& image) {
  auto loaded = compose::load_project_from_string("name: demo\nservices:\n  web:\n    image: " + image +
                                                      "\n    deploy: {replicas: 2}\n",
                                                  "stack.yaml", {.working_dir = "/tmp"});
  EXPECT_TRUE(loaded) << loaded.error().message();
  net::NetworkInfo net;
  net.name = "demo_default";
  net.bridge = "stk-demo";
  net.subnet = "10.231.0.0/24";
  net.gateway = "10.231.0.1";
  net.prefix = 24;
  return std::make_shared<const orch::PlanSource>(orch::PlanSource{loaded->project, {{"default", net}}});
}

orch::ReplicaPlan plan_of(const std::shared_ptr<const orch::PlanSource>& source, int slot) {
  auto plan = orch::make_plan(source->project, "web", slot, "demo-web-" + std::to_string(slot) + "-abcdef",
                              source->networks, "/vol");
  plan.source = source;
  return plan;
}

TEST(AssignmentSource, TheNodeMakesTheLeadersPlanFromTheNamedSource) {
  auto source = source_of("busybox:1");
  orch::ReplicaPlan leader = plan_of(source, 2);
  const orch::SourceText text = orch::source_text(leader);
  EXPECT_EQ(text.key.rfind("sources/demo/", 0), 0u) << text.key;

  const std::string assignment = orch::assignment_to_json(leader);
  EXPECT_LT(assignment.size(), 160u) << "the project is not in it: " << assignment;
  EXPECT_EQ(assignment.find("busybox"), std::string::npos);

  std::vector<std::string> asked;
  auto node = orch::plan_from_assignment(assignment, "/vol", [&](const std::string& key) {
    asked.push_back(key);
    return orch::source_from_json(*text.body);
  });
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_EQ(asked, std::vector<std::string>{text.key});
  EXPECT_EQ(node->id, leader.id);
  EXPECT_EQ(node->name, leader.name);
  EXPECT_EQ(node->slot, 2);
  EXPECT_EQ(node->service.image, "busybox:1");
  ASSERT_EQ(node->networks.size(), 1u);
  EXPECT_EQ(node->networks[0].network.subnet, "10.231.0.0/24");
  EXPECT_EQ(node->networks[0].network.bridge, "stk-demo");
}

TEST(AssignmentSource, OneKeyPerContentSharedByItsReplicas) {
  auto a = source_of("busybox:1");
  auto same = source_of("busybox:1");  // another up of the same file
  auto other = source_of("busybox:2");
  EXPECT_EQ(orch::source_text(plan_of(a, 1)).key, orch::source_text(plan_of(a, 2)).key);
  EXPECT_EQ(orch::source_text(plan_of(a, 1)).body, orch::source_text(plan_of(a, 2)).body)
      << "made once per source, not per replica";
  EXPECT_EQ(orch::source_text(plan_of(a, 1)).key, orch::source_text(plan_of(same, 1)).key);
  EXPECT_NE(orch::source_text(plan_of(a, 1)).key, orch::source_text(plan_of(other, 1)).key);
  EXPECT_NE(*orch::source_text(plan_of(a, 1)).body, *orch::source_text(plan_of(other, 1)).body);
}

TEST(AssignmentSource, AMissingOrForeignSourceIsAnErrorNamingTheAssignment) {
  auto source = source_of("busybox:1");
  const std::string assignment = orch::assignment_to_json(plan_of(source, 1));
  auto missing = orch::plan_from_assignment(assignment, "/vol", [](const std::string& key) {
    return stack::Result<std::shared_ptr<const orch::PlanSource>>(stack::fail(key + ": no such source", ENOENT));
  });
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("assignment demo-web-1-abcdef"), std::string::npos)
      << missing.error().message();
  EXPECT_NE(missing.error().message().find("no such source"), std::string::npos);

  nlohmann::json j = nlohmann::json::parse(assignment);
  j["source"] = "cluster/ca";  // not a source: never read
  bool read = false;
  auto foreign = orch::plan_from_assignment(j.dump(), "/vol", [&](const std::string&) {
    read = true;
    return orch::source_from_json("{}");
  });
  ASSERT_FALSE(foreign);
  EXPECT_FALSE(read);
  EXPECT_NE(foreign.error().message().find("is not under sources/"), std::string::npos) << foreign.error().message();

  EXPECT_FALSE(orch::source_from_json(R"({"project": 1})"));
  EXPECT_FALSE(orch::source_from_json("[]"));
}

}  // namespace
}  // namespace stack::test
