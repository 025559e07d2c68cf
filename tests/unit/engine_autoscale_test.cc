// The engine's side of x-autoscale: the record that keeps a service's
// stabilization windows across a stackd restart reads back as written (and a
// damaged one is an error naming its key); the count a service starts or
// goes on with at `up`; `stack scale` holding an autoscaled service.
#include <gtest/gtest.h>

#include "orchestrator/daemon/engine/autoscale_store.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "tests/support/memory_store.h"

namespace stack::orch {
namespace {

AutoscaleRecord sample() {
  AutoscaleRecord r;
  r.state.recommendations = {{1000, 2}, {2000, 4}};
  r.state.changes = {{2000, 2}};
  r.reading.at = 2000;
  r.reading.ready = 2;
  r.reading.cpu = 91.5;
  r.reading.rps = 12;
  r.reading.last_reason = "cpu 92% > 70%: 2 -> 4";
  r.reading.last_change_at = 2000;
  return r;
}

TEST(EngineAutoscale, ARecordReadsBackAsItWasWritten) {
  auto back = autoscale_from_json(autoscale_to_json(sample()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->state, sample().state);
  EXPECT_EQ(back->reading.cpu, 91.5);
  EXPECT_FALSE(back->reading.memory.has_value());
  EXPECT_EQ(back->reading.rps, 12);
  EXPECT_EQ(back->reading.last_reason, "cpu 92% > 70%: 2 -> 4");
  EXPECT_EQ(back->reading.last_change_at, 2000);
}

TEST(EngineAutoscale, LoadFindsEachServiceOfTheStackOnlyAndNamesADamagedKey) {
  test::MemoryStore store;
  ASSERT_TRUE(store.put(autoscale_key("shop", "web"), autoscale_to_json(sample())));
  ASSERT_TRUE(store.put(autoscale_key("other", "web"), autoscale_to_json(AutoscaleRecord{})));
  auto all = load_autoscale(store, "shop");
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->at("web").state, sample().state);

  ASSERT_TRUE(store.put(autoscale_key("shop", "api"), R"({"recommendations": "many"})"));
  auto bad = load_autoscale(store, "shop");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("autoscale/shop/api: autoscale record"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(autoscale_from_json("not json"));
}

compose::Project project(int replicas, int min, int max) {
  compose::Project p;
  p.name = "shop";
  compose::Service web;
  web.name = "web";
  web.replicas = replicas;
  web.autoscale = compose::Autoscale{};
  web.autoscale->min = min;
  web.autoscale->max = max;
  web.autoscale->cpu = 70;
  compose::Service db;
  db.name = "db";
  db.replicas = 1;
  p.services = {{"web", web}, {"db", db}};
  return p;
}

TEST(EngineAutoscale, ANewStackStartsAtItsCountWithinMinAndMax) {
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(1, 2, 10), nullptr).services.at("web").replicas, 2);
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(4, 2, 10), nullptr).services.at("web").replicas, 4);
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(12, 2, 10), nullptr).services.at("web").replicas, 10);
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(1, 2, 10), nullptr).services.at("db").replicas, 1);
}

TEST(EngineAutoscale, UpAgainKeepsTheCountAutoscalingReachedWithinTheFilesBounds) {
  StackDesired now;
  now.project = project(7, 2, 10);  // autoscaling took web to 7
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(1, 2, 10), &now).services.at("web").replicas, 7);
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(1, 2, 5), &now).services.at("web").replicas, 5) << "a lower max";
  // A service that was not autoscaled before starts from the file's count.
  now.project.services.at("web").autoscale.reset();
  EXPECT_EQ(EngineImpl::autoscaled_counts(project(3, 2, 10), &now).services.at("web").replicas, 3);
}

TEST(EngineAutoscale, ScaleHoldsAnAutoscaledServiceAndLeavesOthersAlone) {
  auto p = project(3, 2, 10);
  EXPECT_TRUE(EngineImpl::pin_autoscale(p.services.at("web"), 6));
  EXPECT_EQ(p.services.at("web").autoscale->min, 6);
  EXPECT_EQ(p.services.at("web").autoscale->max, 6);
  EXPECT_FALSE(EngineImpl::pin_autoscale(p.services.at("db"), 6));
  EXPECT_FALSE(p.services.at("db").autoscale.has_value());
}

}  // namespace
}  // namespace stack::orch
