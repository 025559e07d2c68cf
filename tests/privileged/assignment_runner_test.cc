// AssignmentRunner (daemon/cluster/assignment_runner.h): a node's side of
// the cluster, on a store in memory, a FakeNode for the containers and a
// real NetworkManager in the test's private network namespace (the runner
// makes the networks its assignments name). What the leader sees is the
// store: the report under tasks/<node>/<id>.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/cluster/assignment.h"
#include "orchestrator/daemon/cluster/assignment_runner.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/engine/supervisor.h"
#include "tests/support/fake_node.h"
#include "tests/support/memory_store.h"
#include "tests/support/net_fixture.h"

namespace stack::test {
namespace {

using namespace std::chrono_literals;
namespace keys = orch::cluster_keys;

class AssignmentRunnerTest : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto loaded = compose::load_project_from_string(R"(name: demo
services:
  web:
    image: busybox
    deploy: {replicas: 2}
networks:
  default:
    ipam: {config: [{subnet: 10.231.0.0/24}]}
)",
                                                    "stack.yaml", {.working_dir = "/tmp"});
    ASSERT_TRUE(loaded) << loaded.error().message();
    net::NetworkInfo net;
    net.name = "demo_default";
    net.subnet = "10.231.0.0/24";
    net.gateway = "10.231.0.1";
    source_ = std::make_shared<orch::PlanSource>(orch::PlanSource{loaded->project, {{"default", net}}});
  }
  void TearDown() override {
    runner_.reset();
    NetTest::TearDown();
  }

  std::string assignment(int slot, const std::string& id) {
    auto plan = orch::make_plan(source_->project, "web", slot, id, source_->networks, dir_->path() + "/volumes");
    plan.source = source_;
    const orch::SourceText text = orch::source_text(plan);  // as the leader writes it before the assignment
    EXPECT_TRUE(store_.put(text.key, *text.body));
    return orch::assignment_to_json(plan);
  }
  void start_runner() {
    auto r = orch::AssignmentRunner::start(store_, "n1", node_, *mgr_, dir_->path() + "/volumes");
    ASSERT_TRUE(r) << r.error().message();
    runner_ = std::move(*r);
  }
  // The node's report of `id` once `pred` holds (up to 10 s), else the last one.
  std::optional<orch::TaskReport> report_when(const std::string& id,
                                              const std::function<bool(const std::optional<orch::TaskReport>&)>& pred) {
    std::optional<orch::TaskReport> r;
    for (int i = 0; i < 200; ++i) {
      r.reset();
      if (auto text = store_.get(keys::tasks("n1") + id); text && *text)
        if (auto parsed = orch::report_from_json(**text)) r = *parsed;
      if (pred(r)) break;
      std::this_thread::sleep_for(50ms);
    }
    return r;
  }
  static bool running(const std::optional<orch::TaskReport>& r) {
    return r && r->state == orch::TaskReport::State::Running;
  }

  MemoryStore store_;
  FakeNode node_{orch::system_clock()};
  std::shared_ptr<orch::PlanSource> source_;
  std::unique_ptr<orch::AssignmentRunner> runner_;
};

TEST_F(AssignmentRunnerTest, AnAssignmentRunsIsReportedAndGoesWithItsNetwork) {
  start_runner();
  ASSERT_OK(store_.put(keys::assign("n1") + "demo-web-1-aaaaaa", assignment(1, "demo-web-1-aaaaaa")));
  auto r = report_when("demo-web-1-aaaaaa", running);
  ASSERT_TRUE(running(r));
  EXPECT_EQ(node_.running_names(), std::vector<std::string>{"demo-web-1"});
  auto net = mgr_->find_network("demo_default");
  ASSERT_TRUE(net) << "the runner made the assignment's network";
  EXPECT_EQ(net->subnet, "10.231.0.0/24");

  // A signal asked for is delivered once and its request deleted.
  node_.ignore_signal("web", 1);
  ASSERT_OK(store_.put(keys::signals("n1") + "demo-web-1-aaaaaa", orch::signal_to_json(1, "x")));
  for (int i = 0; i < 200 && store_.get(keys::signals("n1") + "demo-web-1-aaaaaa").value(); ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(store_.get(keys::signals("n1") + "demo-web-1-aaaaaa").value());
  ASSERT_EQ(node_.containers().size(), 1u);
  EXPECT_EQ(node_.containers()[0].signals, std::vector<int>{1});

  // It exits: the report says so, with the code.
  node_.exit("demo-web-1", 3);
  node_.deliver();
  r = report_when("demo-web-1-aaaaaa", [](auto& x) { return x && x->state == orch::TaskReport::State::Exited; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, orch::TaskReport::State::Exited);
  EXPECT_EQ(r->exit.exit_code, 3);

  // Unassigned: the container, the report and the network go.
  ASSERT_OK(store_.remove(keys::assign("n1") + "demo-web-1-aaaaaa"));
  r = report_when("demo-web-1-aaaaaa", [](auto& x) { return !x; });
  EXPECT_FALSE(r) << "the report is deleted";
  ASSERT_EQ(node_.containers().size(), 1u);
  EXPECT_TRUE(node_.containers()[0].removed);
  EXPECT_FALSE(mgr_->find_network("demo_default")) << "no replica here uses it any more";
}

TEST_F(AssignmentRunnerTest, AtStartWhatIsNoLongerAssignedGoesAndWhatIsAssignedIsAdopted) {
  // Two containers from before (a node that was down): one still assigned.
  for (int slot : {1, 2}) {
    std::string id = "demo-web-" + std::to_string(slot) + "-bbbbbb";
    auto plan = orch::make_plan(source_->project, "web", slot, id, {}, dir_->path() + "/volumes");
    ASSERT_TRUE(node_.create_and_start(plan));
  }
  orch::TaskReport was;
  ASSERT_OK(store_.put(keys::assign("n1") + "demo-web-1-bbbbbb", assignment(1, "demo-web-1-bbbbbb")));
  ASSERT_OK(store_.put(keys::tasks("n1") + "demo-web-1-bbbbbb", orch::report_to_json(was)));
  ASSERT_OK(store_.put(keys::tasks("n1") + "demo-web-2-bbbbbb", orch::report_to_json(was)));
  start_runner();
  EXPECT_EQ(node_.running_names(), std::vector<std::string>{"demo-web-1"}) << "slot 2 was superseded";
  EXPECT_EQ(node_.containers().size(), 2u) << "slot 1 adopted, not made again";
  EXPECT_FALSE(store_.get(keys::tasks("n1") + "demo-web-2-bbbbbb").value()) << "its report goes with it";
  EXPECT_TRUE(running(report_when("demo-web-1-bbbbbb", running)));
}

TEST_F(AssignmentRunnerTest, AnAssignmentThatCannotRunIsReportedFailedWithWhy) {
  start_runner();
  ASSERT_OK(store_.put(keys::assign("n1") + "junk-1", "{not json"));
  auto r = report_when("junk-1", [](auto& x) { return x.has_value(); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, orch::TaskReport::State::Failed);
  EXPECT_NE(r->error.find("assignment"), std::string::npos) << r->error;

  node_.fail_creates("web", "no space left on device");
  ASSERT_OK(store_.put(keys::assign("n1") + "demo-web-2-cccccc", assignment(2, "demo-web-2-cccccc")));
  r = report_when("demo-web-2-cccccc", [](auto& x) { return x.has_value(); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, orch::TaskReport::State::Failed);
  EXPECT_NE(r->error.find("no space left on device"), std::string::npos) << r->error;
  EXPECT_FALSE(mgr_->find_network("demo_default")) << "a failed create leaves no network behind";

  // An assignment whose source is gone (the stack went down meanwhile)
  // fails with the key it looked for; nothing is made.
  auto changed = source_->project;  // a source this node has not read (nor cached)
  changed.services.at("web").image = "busybox:changed";
  source_ = std::make_shared<orch::PlanSource>(orch::PlanSource{changed, source_->networks});
  std::string text = assignment(3, "demo-web-3-dddddd");
  const std::string source_key = nlohmann::json::parse(text).at("source").get<std::string>();
  ASSERT_OK(store_.remove(source_key));
  ASSERT_OK(store_.put(keys::assign("n1") + "demo-web-3-dddddd", text));
  r = report_when("demo-web-3-dddddd", [](auto& x) { return x.has_value(); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, orch::TaskReport::State::Failed);
  EXPECT_NE(r->error.find(source_key + ": no such source"), std::string::npos) << r->error;
  EXPECT_EQ(node_.running_names(), std::vector<std::string>{});
}

}  // namespace
}  // namespace stack::test
