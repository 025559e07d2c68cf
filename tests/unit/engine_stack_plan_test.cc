// `stack plan`'s services (orchestrator/daemon/engine/stack_plan.h): what up
// would do to each service of a stored stack, from the project and the tasks
// there are, before anything is done.
#include <gtest/gtest.h>

#include "orchestrator/daemon/engine/stack_plan.h"
#include "orchestrator/daemon/engine/stack_spec.h"

using namespace stack;
using namespace stack::orch;

namespace {

compose::Service service(const std::string& name, const std::string& image, int replicas = 1) {
  compose::Service s;
  s.name = name;
  s.image = image;
  s.replicas = replicas;
  s.networks["default"] = {};
  return s;
}

compose::Project shop() {
  compose::Project p;
  p.name = "shop";
  p.networks["default"] = {};
  p.services.emplace("web", service("web", "nginx:1", 2));
  p.services.emplace("db", service("db", "postgres:16"));
  p.services.emplace("old", service("old", "busybox"));
  return p;
}

// The tasks of `p` as up made them: one per slot, from its config.
std::vector<sched::ReplicaStatus> running(const compose::Project& p) {
  std::vector<sched::ReplicaStatus> out;
  for (const auto& [name, s] : p.services)
    for (int slot = 1; slot <= s.replicas; slot++) {
      sched::ReplicaStatus r;
      r.service = name;
      r.slot = slot;
      r.state = sched::ReplicaState::Running;
      r.config_hash = config_hash(s, &p);
      out.push_back(r);
    }
  return out;
}

const ServicePlan& of(const StackPlan& plan, const std::string& name) {
  for (const auto& s : plan.services)
    if (s.name == name) return s;
  static const ServicePlan none{"", "absent"};
  return none;
}

TEST(EngineStackPlan, ANewStackCreatesEveryService) {
  compose::Project next = shop();
  StackPlan plan = plan_stack(nullptr, {}, next);
  EXPECT_FALSE(plan.exists);
  EXPECT_TRUE(plan.changes());
  ASSERT_EQ(plan.services.size(), 3u);
  for (const auto& s : plan.services) EXPECT_EQ(s.action, "create") << s.name;
  EXPECT_EQ(of(plan, "web").replicas_to, 2);
}

TEST(EngineStackPlan, TheSameProjectChangesNothing) {
  compose::Project p = shop();
  StackPlan plan = plan_stack(&p, running(p), p);
  EXPECT_TRUE(plan.exists);
  EXPECT_FALSE(plan.changes());
  for (const auto& s : plan.services) EXPECT_EQ(s.action, "unchanged") << s.name;
}

TEST(EngineStackPlan, UpdateScaleRemoveAndCreateAreToldApart) {
  compose::Project p = shop();
  auto tasks = running(p);
  compose::Project next = shop();
  next.services.erase("old");
  next.services.at("web").image = "nginx:2";
  next.services.at("web").environment["MODE"] = "fast";
  next.services.at("web").replicas = 3;
  next.services.at("web").deploy.update_config = compose::UpdateConfig{};
  next.services.at("web").deploy.update_config->order = "start-first";  // parallelism 1
  next.services.at("db").replicas = 2;
  next.services.emplace("cache", service("cache", "redis:7"));
  StackPlan plan = plan_stack(&p, tasks, next);
  EXPECT_TRUE(plan.changes());
  const ServicePlan& web = of(plan, "web");
  EXPECT_EQ(web.action, "update");
  EXPECT_EQ(web.changed, (std::vector<std::string>{"deploy.update_config", "environment", "image"}));
  EXPECT_EQ(web.replace, (std::vector<int>{1, 2}));  // the third is new, not a replacement
  EXPECT_EQ(web.batches, 2);
  EXPECT_EQ(web.order, "start-first");
  EXPECT_EQ(web.replicas_from, 2);
  EXPECT_EQ(web.replicas_to, 3);
  EXPECT_EQ(of(plan, "db").action, "scale");
  EXPECT_TRUE(of(plan, "db").changed.empty());
  EXPECT_EQ(of(plan, "old").action, "remove");
  EXPECT_EQ(of(plan, "cache").action, "create");
}

TEST(EngineStackPlan, ASettingAppliedInPlaceIsAnUpdateThatReplacesNothing) {
  compose::Project p = shop();
  compose::Project next = shop();
  next.services.at("db").restart = "always";
  StackPlan plan = plan_stack(&p, running(p), next);
  const ServicePlan& db = of(plan, "db");
  EXPECT_EQ(db.action, "update");
  EXPECT_EQ(db.changed, (std::vector<std::string>{"restart"}));
  EXPECT_TRUE(db.replace.empty());
}

TEST(EngineStackPlan, WithoutUpdateConfigEveryReplicaGoesInOneBatch) {
  compose::Project p = shop();
  compose::Project next = shop();
  next.services.at("web").image = "nginx:2";
  StackPlan plan = plan_stack(&p, running(p), next);
  EXPECT_EQ(of(plan, "web").batches, 1);
  EXPECT_EQ(of(plan, "web").order, "stop-first");
  auto j = plan_to_json(plan);
  EXPECT_EQ(j["changes"], true);
  EXPECT_EQ(j["services"][2]["name"], "web");
  EXPECT_EQ(j["services"][2]["replace"], nlohmann::json::array({1, 2}));
}

}  // namespace
