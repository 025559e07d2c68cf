// A rolling update survives stackd: its record reads back as it was
// written, and a damaged one is an error naming what is wrong.
#include <gtest/gtest.h>

#include "orchestrator/daemon/engine/rollout_store.h"
#include "tests/support/memory_store.h"

namespace stack::orch {
namespace {

sched::Rollout sample() {
  sched::Rollout r;
  r.phase = sched::RolloutPhase::Paused;
  r.target = "v2:abc";
  r.rollback = true;
  r.automatic = true;
  r.serial = 7;
  r.started_at = 1000;
  r.ended_at = 2000;
  r.batch_no = 2;
  r.batch = {3, 4};
  r.next_batch_at = 1500;
  r.failed = {1};
  r.message = "rollback paused: replica 1 exited (1)";
  r.cause = "update failed, rolling back: replica 2 is unhealthy";
  return r;
}

TEST(EngineRolloutStore, ARolloutReadsBackAsItWasWritten) {
  auto back = rollout_from_json(rollout_to_json(sample()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, sample());
}

TEST(EngineRolloutStore, LoadFindsEachServiceOfTheStackOnly) {
  test::MemoryStore store;
  ASSERT_TRUE(store.put(rollout_key("shop", "web"), rollout_to_json(sample())));
  ASSERT_TRUE(store.put(rollout_key("shop", "api"), rollout_to_json(sched::Rollout{})));
  ASSERT_TRUE(store.put(rollout_key("other", "web"), rollout_to_json(sched::Rollout{})));
  auto all = load_rollouts(store, "shop");
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at("web"), sample());
  EXPECT_EQ(all->at("api").phase, sched::RolloutPhase::Updating);
}

TEST(EngineRolloutStore, ADamagedRecordIsAnErrorNamingItsKey) {
  test::MemoryStore store;
  ASSERT_TRUE(store.put(rollout_key("shop", "web"), R"({"target": "x", "phase": "sideways"})"));
  auto all = load_rollouts(store, "shop");
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message().find("rollouts/shop/web: rollout phase \"sideways\" is unknown") != std::string::npos,
            true)
      << all.error().message();
  EXPECT_FALSE(rollout_from_json("not json"));
  EXPECT_FALSE(rollout_from_json(R"({"phase": "updating"})"));
}

}  // namespace
}  // namespace stack::orch
