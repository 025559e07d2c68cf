// x-autoscale (compose/autoscale.h): read with its defaults, shown resolved
// by `stack config`, carried to stackd in the project's JSON, and every bad
// value a load error at its file:line naming the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "compose_test_util.h"
#include "orchestrator/compose/autoscale.h"
#include "orchestrator/compose/serialize.h"

namespace stack::compose {
namespace {

using cz::load_error;
using cz::load_yaml;

std::string web(const std::string& autoscale, const std::string& more = "") {
  return "services:\n  web:\n    image: x\n" + more + "    x-autoscale: " + autoscale + "\n";
}

TEST(ComposeAutoscale, TheIssuesExampleReadsWithItsValues) {
  auto r = load_yaml(web("{min: 2, max: 10, cpu: 70%, memory: 80%, requests_per_second: 200, "
                         "scale_up: {stabilization: 0s, max_step: 4, period: 15s}, "
                         "scale_down: {stabilization: 300s, max_step: 1, period: 60s}}",
                         "    mem_limit: 256m\n"));
  ASSERT_TRUE(r) << r.error().message();
  const auto& a = r->project.services.at("web").autoscale;
  ASSERT_TRUE(a);
  EXPECT_EQ(a->min, 2);
  EXPECT_EQ(a->max, 10);
  EXPECT_EQ(a->cpu, 70);
  EXPECT_EQ(a->memory, 80);
  EXPECT_EQ(a->requests_per_second, 200);
  EXPECT_EQ(a->scale_up.max_step, 4);
  EXPECT_EQ(a->scale_down.stabilization, 300000);
  EXPECT_EQ(a->scale_down.period, 60000);
  // Applied: no "not supported" warning.
  EXPECT_FALSE(cz::has_warning(*r, "services.web.x-autoscale"));
}

TEST(ComposeAutoscale, DefaultsAreFilledAndShownResolved) {
  auto r = load_yaml(web("{max: 5, cpu: 50}"));
  ASSERT_TRUE(r) << r.error().message();
  const auto& a = *r->project.services.at("web").autoscale;
  EXPECT_EQ(a.min, 1);
  EXPECT_EQ(a.scale_up.stabilization, 0);
  EXPECT_EQ(a.scale_up.max_step, 4);
  EXPECT_EQ(a.scale_up.period, 15000);
  EXPECT_EQ(a.scale_down.stabilization, 300000);
  EXPECT_EQ(a.scale_down.max_step, 1);
  std::string yaml = to_yaml(r->project);
  EXPECT_NE(yaml.find("x-autoscale:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("cpu: 50%"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("stabilization: 5m"), std::string::npos) << yaml;
  // The JSON stackd receives carries it.
  auto back = project_from_json(to_json(r->project));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->services.at("web").autoscale->cpu, 50);
  EXPECT_EQ(back->services.at("web").autoscale->max, 5);
}

TEST(ComposeAutoscale, BadValuesAreErrorsAtTheirLine) {
  struct Case {
    std::string autoscale, more, field, why;
  };
  for (const Case& c : std::vector<Case>{
           {"{min: 2}", "", "services.web.x-autoscale.max", "max is required"},
           {"{max: 3}", "", "services.web.x-autoscale", "needs a target: cpu, memory or requests_per_second"},
           {"{min: 4, max: 3, cpu: 50%}", "", "services.web.x-autoscale.max", "must not be below min (3 < 4)"},
           {"{min: 0, max: 3, cpu: 50%}", "", "services.web.x-autoscale.min", "must be 1..10000 (got 0)"},
           {"{max: 3, cpu: lots}", "", "services.web.x-autoscale.cpu", "\"lots\" is not a percentage"},
           {"{max: 3, cpu: 0%}", "", "services.web.x-autoscale.cpu", "is not a percentage above 0"},
           {"{max: 3, requests_per_second: -5}", "", "services.web.x-autoscale.requests_per_second",
            "must be above 0 (got -5)"},
           {"{max: 3, cpu: 50%, scale_up: {max_step: 0}}", "", "services.web.x-autoscale.scale_up.max_step",
            "must be 1..10000 (got 0)"},
           {"{max: 3, cpu: 50%, scale_down: {period: 0s}}", "", "services.web.x-autoscale.scale_down.period",
            "must be positive"},
           {"{max: 3, cpu: 50%, scale_down: {cooldown: 1s}}", "", "services.web.x-autoscale.scale_down.cooldown",
            "unknown field \"cooldown\""},
           {"{max: 3, gpu: 50%}", "", "services.web.x-autoscale.gpu", "unknown field \"gpu\""},
           {"{max: 3, memory: 80%}", "", "services.web.x-autoscale.memory",
            "a memory target is a share of the memory limit"},
           {"{max: 3, cpu: 50%}", "    container_name: one\n", "services.web.x-autoscale",
            "cannot be used with container_name"},
       }) {
    std::string e = load_error(web(c.autoscale, c.more));
    EXPECT_NE(e.find("stack.yaml:" + std::to_string(c.more.empty() ? 4 : 5) + ":"), std::string::npos)
        << c.autoscale << ": " << e;
    EXPECT_NE(e.find(c.field), std::string::npos) << c.autoscale << ": " << e;
    EXPECT_NE(e.find(c.why), std::string::npos) << c.autoscale << ": " << e;
  }
}

}  // namespace
}  // namespace stack::compose
