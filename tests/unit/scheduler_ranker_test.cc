// place_actions() ranks a service's many creates with a fast path of its
// own (placement.cc's Ranker); it must choose exactly what place() chooses
// replica after replica. Random clusters (capacities, labels, readiness,
// roles, GPUs, replicas already running) and random services (reservations,
// constraints, max_replicas_per_node, spread) are placed both ways.
#include <gtest/gtest.h>

#include <random>

#include "scheduler/placement.h"
#include "tests/unit/scheduler_fixture.h"

namespace {

using namespace stack::sched;
using namespace stack::sched::fixture;

// What place_actions did before its fast path: place() per create, then the
// reservation on the chosen node. Blocked lines: one per service.
std::vector<std::string> reference(const StackSpec& spec, const std::vector<Action>& creates,
                                   std::vector<NodeInfo> nodes, std::vector<std::string>& blocked) {
  std::vector<std::string> out;
  for (const Action& a : creates) {
    const ServiceSpec* s = nullptr;
    for (const ServiceSpec& x : spec.services)
      if (x.name == a.service) s = &x;
    PlacementResult p = place(*s, nodes);
    if (p.node.empty()) {
      std::string line = a.service + " blocked: " + p.explanation;
      bool seen = false;
      for (const auto& b : blocked) seen = seen || b.rfind(a.service + " blocked:", 0) == 0;
      if (!seen) blocked.push_back(line);
      continue;
    }
    for (NodeInfo& n : nodes)
      if (n.id == p.node) {
        const Requirements& req = s->requirements;
        n.replicas_of_service[a.service]++;
        n.cpus_used += req.cpus;
        n.memory_used += req.memory;
        n.gpus_used = req.gpus < 0 ? std::max(n.gpus_used, n.gpus) : n.gpus_used + req.gpus;
        break;
      }
    out.push_back("create " + a.service + " " + std::to_string(a.slot) + " @" + p.node);
  }
  return out;
}

TEST(SchedulerRanker, ChoosesWhatPlaceChoosesReplicaAfterReplica) {
  std::mt19937 rng(20261207);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  int placements = 0, blocked_cases = 0;
  for (int round = 0; round < 400; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<NodeInfo> nodes;
    int count = 1 + pick(12);
    for (int i = 0; i < count; i++) {
      NodeInfo n = node("n" + std::to_string(pick(100)), 1 + pick(8));  // ids may repeat
      n.memory = static_cast<uint64_t>(1 + pick(8)) << 30;
      n.gpus = pick(3);
      n.role = pick(3) ? "worker" : "manager";
      n.ready = pick(8) != 0;
      n.active = pick(8) != 0;
      if (pick(2)) n.labels["zone"] = pick(2) ? "a" : "b";
      n.cpus_used = pick(3) * 0.5;
      n.replicas_of_service["web"] = pick(3);
      nodes.push_back(n);
    }
    StackSpec spec;
    spec.name = "demo";
    std::vector<Action> creates;
    for (const char* name : {"web", "db"}) {
      ServiceSpec s = svc(name, 1 + pick(20));
      Requirements& req = s.requirements;
      req.cpus = pick(3) * 0.25;
      req.memory = pick(2) ? static_cast<uint64_t>(pick(4)) << 28 : 0;
      req.gpus = pick(6) == 0 ? -1 : pick(4) == 0 ? 1 : 0;
      req.max_per_node = pick(3) == 0 ? 1 + pick(3) : 0;
      if (pick(2)) req.constraints.push_back(pick(2) ? "node.role==worker" : "node.labels.zone != b");
      if (pick(4) == 0) req.constraints.push_back("node.nope==x");  // does not parse
      if (pick(4) == 0) req.spread.push_back("zone");
      for (int slot = 1; slot <= s.replicas; slot++) {
        Action a;
        a.service = name;
        a.slot = slot;
        creates.push_back(a);
      }
      spec.services.push_back(s);
    }
    std::shuffle(creates.begin(), creates.end(), rng);

    std::vector<std::string> want_blocked;
    std::vector<std::string> want = reference(spec, creates, nodes, want_blocked);
    Decision d;
    d.actions = creates;
    place_actions(d, spec, ObservedStack{}, nodes);
    ASSERT_EQ(placed(d), want);
    ASSERT_EQ(d.blocked, want_blocked);
    placements += static_cast<int>(want.size());
    blocked_cases += want_blocked.empty() ? 0 : 1;
  }
  // The random cases reach both outcomes often (else the test shows nothing).
  EXPECT_GT(placements, 1000);
  EXPECT_GT(blocked_cases, 50);
}

}  // namespace
