// Membership in DNS and the published-port pool: every (state, health) pair.
#include <gtest/gtest.h>

#include "scheduler/membership.h"
#include "scheduler/reconcile.h"

namespace {

using namespace stack::sched;

struct Row {
  ReplicaState state;
  Health health;
  bool in_dns;
  bool in_pool;
};

std::string label(const Row& r) {
  return std::string(to_string(r.state)) + "/" + to_string(r.health);
}

TEST(SchedulerMembership, DnsAndPortPoolFollowStateAndHealth) {
  const Row rows[] = {
      // Running: DNS unless Unhealthy; pool only when ready to serve.
      {ReplicaState::Running, Health::None, true, true},
      {ReplicaState::Running, Health::Starting, true, false},
      {ReplicaState::Running, Health::Healthy, true, true},
      {ReplicaState::Running, Health::Unhealthy, false, false},
      // Anything not running is in neither, whatever its last health.
      {ReplicaState::Stopping, Health::None, false, false},
      {ReplicaState::Stopping, Health::Healthy, false, false},
      {ReplicaState::Exited, Health::None, false, false},
      {ReplicaState::Exited, Health::Healthy, false, false},
      {ReplicaState::Exited, Health::Unhealthy, false, false},
      {ReplicaState::Created, Health::None, false, false},
      {ReplicaState::Pending, Health::None, false, false},
      {ReplicaState::Removed, Health::None, false, false},
  };
  for (const Row& row : rows) {
    Membership m = membership(row.state, row.health);
    EXPECT_EQ(m.in_dns, row.in_dns) << label(row);
    EXPECT_EQ(m.in_pool, row.in_pool) << label(row);
  }
}

TEST(SchedulerMembership, AReplicaStatusIsJudgedByItsStateAndHealth) {
  ReplicaStatus r;
  r.state = ReplicaState::Running;
  r.health.health = Health::Starting;
  EXPECT_EQ(membership(r), (Membership{true, false}));
  r.health.health = Health::Healthy;
  EXPECT_EQ(membership(r), (Membership{true, true}));
  r.state = ReplicaState::Stopping;
  EXPECT_EQ(membership(r), (Membership{false, false}));
}

}  // namespace
