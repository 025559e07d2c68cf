// `stack plan`: what `up` would do, shown and done nothing of, with the
// exit code a CI pipeline reads (0: nothing would change, 2: something
// would).
#include <gtest/gtest.h>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

using StackPlanCli = StackdFixture;

std::string file_text(const std::string& env, int replicas, bool with_worker, const std::string& update = "") {
  std::string t = "name: plan\n"
                  "services:\n"
                  "  web:\n"
                  "    image: stack-demo/busybox:1\n"
                  "    command: [sleep, \"1000\"]\n"
                  "    environment: {MODE: " + env + "}\n"
                  "    deploy:\n"
                  "      replicas: " + std::to_string(replicas) + "\n";
  if (!update.empty()) t += "      update_config: " + update + "\n";
  if (with_worker)
    t += "  worker:\n"
         "    image: stack-demo/busybox:1\n"
         "    command: [sleep, \"1000\"]\n";
  return t;
}

TEST_F(StackPlanCli, ShowsWhatUpWouldDoAndDoesNoneOfIt) {
  const std::string file = write_stack_file("plan", file_text("a", 2, true));
  auto fresh = stack({"-f", file, "plan"});
  EXPECT_EQ(fresh.status, 2) << fresh.err;
  EXPECT_NE(fresh.out.find("Stack plan (new): up would change it"), std::string::npos) << fresh.out;
  EXPECT_NE(fresh.out.find("  web     create  2 replicas"), std::string::npos) << fresh.out;
  EXPECT_NE(fresh.out.find("  worker  create  1 replica"), std::string::npos) << fresh.out;
  EXPECT_NE(fresh.out.find("Networks to create: plan_default"), std::string::npos) << fresh.out;
  // Nothing was made.
  EXPECT_TRUE(ps({"-f", file}).empty());
  EXPECT_EQ(stack({"ls"}).out.find("plan"), std::string::npos);

  ASSERT_EQ(stack({"up", "-d", "-f", file}).status, 0);
  auto same = stack({"-f", file, "plan"});
  EXPECT_EQ(same.status, 0) << same.err;
  EXPECT_NE(same.out.find("Stack plan: up would change nothing"), std::string::npos) << same.out;
  EXPECT_NE(same.out.find("  web     unchanged"), std::string::npos) << same.out;

  // A new environment with a rolling update, a scale, a removed service.
  write_stack_file("plan", file_text("b", 3, false, "{parallelism: 1, order: start-first}"));
  auto changed = stack({"-f", file, "plan"});
  EXPECT_EQ(changed.status, 2) << changed.err;
  EXPECT_NE(changed.out.find("  web     update  replicas 2 -> 3; deploy.update_config, environment; replaces 2 "
                             "replicas in 2 batches (start-first)"),
            std::string::npos)
      << changed.out;
  EXPECT_NE(changed.out.find("  worker  remove"), std::string::npos) << changed.out;
  auto json_plan = stack({"-f", file, "plan", "--format", "json"});
  EXPECT_EQ(json_plan.status, 2);
  auto j = nlohmann::json::parse(json_plan.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json_plan.out;
  EXPECT_EQ(j["changes"], true);
  EXPECT_EQ(j["services"][0]["name"], "web");
  EXPECT_EQ(j["services"][0]["action"], "update");
  EXPECT_EQ(j["services"][0]["replace"], nlohmann::json::array({1, 2}));
  EXPECT_EQ(j["services"][0]["batches"], 2);
  // Still as it was: two web replicas from the first file and a worker.
  auto now = ps({"-f", file});
  EXPECT_EQ(now.size(), 3u) << now.dump();

  write_stack_file("plan", file_text("a", 4, true));
  auto scaled = stack({"-f", file, "plan"});
  EXPECT_EQ(scaled.status, 2);
  EXPECT_NE(scaled.out.find("  web     scale  replicas 2 -> 4"), std::string::npos) << scaled.out;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

TEST_F(StackPlanCli, ABadFileIsRefusedBeforeTheDaemonIsAsked) {
  const std::string file = write_stack_file("bad", "name: bad\nservices:\n  web:\n    image: stack-demo/busybox:1\n"
                                                   "    deploy: {update_config: {order: sideways}}\n");
  auto r = stack({"-f", file, "plan"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("services.web.deploy.update_config.order"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":5:"), std::string::npos) << r.err;  // the line
}

}  // namespace
}  // namespace stack::test
