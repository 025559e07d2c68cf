// The first pure pieces of the scheduler, orchestrator and netplane.
#include <gtest/gtest.h>

#include "netplane/ifname.h"
#include "orchestrator/project_name.h"
#include "scheduler/backoff.h"

using namespace std::chrono_literals;

TEST(Backoff, DoublesFromTheInitialDelayUpToTheCap) {
  stack::sched::Backoff b({100ms, 1s, 10s});
  auto t0 = std::chrono::steady_clock::time_point{};
  EXPECT_EQ(b.on_exit(t0, t0 + 1ms), 100ms);
  EXPECT_EQ(b.on_exit(t0, t0 + 1ms), 200ms);
  EXPECT_EQ(b.on_exit(t0, t0 + 1ms), 400ms);
  EXPECT_EQ(b.on_exit(t0, t0 + 1ms), 800ms);
  EXPECT_EQ(b.on_exit(t0, t0 + 1ms), 1000ms);
  for (int i = 0; i < 100; i++) EXPECT_EQ(b.on_exit(t0, t0 + 1ms), 1000ms);
}

TEST(Backoff, AStableRunResetsTheStreak) {
  stack::sched::Backoff b({100ms, 60s, 10s});
  auto t0 = std::chrono::steady_clock::time_point{};
  b.on_exit(t0, t0 + 1ms);
  b.on_exit(t0, t0 + 1ms);
  EXPECT_EQ(b.on_exit(t0, t0 + 10s), 100ms);
  EXPECT_EQ(b.streak(), 1u);
}

TEST(ProjectName, FromFileStemNormalisedAsCompose) {
  EXPECT_EQ(stack::orch::project_name_from_file("examples/compose/juice-shop.yaml"), "juice-shop");
  EXPECT_EQ(stack::orch::project_name_from_file("My App.yml"), "myapp");
  EXPECT_EQ(stack::orch::normalize_project_name("_x"), "x");
  EXPECT_FALSE(stack::orch::normalize_project_name("..."));
}

TEST(Ifname, EndpointNamesFitTheKernelLimitAndAreStable) {
  auto a = stack::net::endpoint_ifname("juice-shop-web-1", "default");
  EXPECT_TRUE(stack::net::valid_ifname(a));
  EXPECT_LE(a.size(), 15u);
  EXPECT_EQ(a, stack::net::endpoint_ifname("juice-shop-web-1", "default"));
  EXPECT_NE(a, stack::net::endpoint_ifname("juice-shop-web-1", "backend"));
  EXPECT_FALSE(stack::net::valid_ifname("a-name-much-too-long"));
  EXPECT_FALSE(stack::net::valid_ifname("a/b"));
}
