// pull_policy and pull_refresh_after: every form Compose has, parsed once
// (compose/task_spec.h) and refused where written; and the node's decision
// (daemon/node/image_pull_rule.h) from the rule and when the store last set
// the image's name.
#include <gtest/gtest.h>

#include <chrono>

#include "compose_test_util.h"
#include "orchestrator/compose/task_spec.h"
#include "orchestrator/daemon/node/image_pull_rule.h"
#include "runtime/image/digest.h"
#include "tests/support/bundle.h"

namespace stack {
namespace {

using Mode = compose::PullRule::Mode;
constexpr int64_t kHour = 3600000, kDay = 24 * kHour;

TEST(PullPolicy, EveryComposeFormParses) {
  struct Case {
    std::string policy, after;
    Mode mode;
    int64_t refresh_after;
  };
  for (const Case& c : std::vector<Case>{{"", "", Mode::Missing, 0},
                                         {"missing", "", Mode::Missing, 0},
                                         {"if_not_present", "", Mode::Missing, 0},
                                         {"always", "", Mode::Always, 0},
                                         {"never", "", Mode::Never, 0},
                                         {"build", "", Mode::Build, 0},
                                         {"daily", "", Mode::Refresh, kDay},
                                         {"weekly", "", Mode::Refresh, 7 * kDay},
                                         {"every_12h", "", Mode::Refresh, 12 * kHour},
                                         {"every_1w2d", "", Mode::Refresh, 9 * kDay},
                                         {"every_90s", "", Mode::Refresh, 90000},
                                         {"refresh", "36h", Mode::Refresh, 36 * kHour},
                                         {"refresh", "1h30m", Mode::Refresh, 90 * 60000},
                                         {"refresh", "2d", Mode::Refresh, 2 * kDay}}) {
    auto r = compose::parse_pull_policy(c.policy, c.after);
    ASSERT_TRUE(r) << c.policy << " " << c.after << ": " << r.error().message();
    EXPECT_EQ(r->mode, c.mode) << c.policy;
    EXPECT_EQ(r->refresh_after, c.refresh_after) << c.policy << " " << c.after;
  }
  for (auto [policy, after] : std::vector<std::pair<std::string, std::string>>{
           {"sometimes", ""}, {"every_", ""}, {"every_12", ""}, {"every_0h", ""}, {"every_5y", ""},
           {"refresh", ""}, {"refresh", "soon"}, {"always", "24h"}})
    EXPECT_FALSE(compose::parse_pull_policy(policy, after)) << policy << " " << after;
}

TEST(PullPolicy, ABadPolicyIsALoadErrorAtItsLine) {
  const std::string head = "services:\n  a:\n    image: x\n";
  EXPECT_EQ(compose::cz::load_error(head + "    pull_policy: every_0h\n"),
            "stack.yaml:4:5: services.a.pull_policy: \"every_0h\": every_ takes a duration such as every_12h or "
            "every_1w2d");
  // What the schema's pattern refuses says so first, at the value.
  EXPECT_EQ(compose::cz::load_error(head + "    pull_policy: every_5y\n").rfind("stack.yaml:4:18: services.a.pull_policy: ", 0), 0u);
  EXPECT_EQ(compose::cz::load_error(head + "    pull_policy: refresh\n"),
            "stack.yaml:4:5: services.a.pull_policy: refresh needs pull_refresh_after (a duration such as 24h)");
  EXPECT_EQ(compose::cz::load_error(head + "    pull_refresh_after: 24h\n"),
            "stack.yaml:4:5: services.a.pull_refresh_after: pull_refresh_after is for pull_policy: refresh, not "
            "\"\"");
  auto ok = compose::cz::load_yaml(head + "    pull_policy: refresh\n    pull_refresh_after: 12h\n");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_FALSE(compose::cz::has_warning(*ok, "services.a.pull_refresh_after")) << "applied, not warned";
  EXPECT_EQ(compose::task_spec(ok->project.services.at("a"))->pull.refresh_after, 12 * kHour);
}

class ImagePullRule : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = img::ContentStore::open(tmp_.path() + "/images");
    ASSERT_TRUE(s) << s.error().message();
    store_.emplace(std::move(*s));
    auto r = img::parse_reference("demo:1");
    ASSERT_TRUE(r);
    ASSERT_TRUE(store_->set_ref(*r, img::sha256_of("manifest")));
    tagged_ = **store_->tagged_at(*r);
  }
  bool pull(const std::string& ref, compose::PullRule rule, int64_t now) {
    auto r = orch::image_wants_pull(*store_, ref, rule, now);
    EXPECT_TRUE(r) << r.error().message();
    return r && *r;
  }
  test::TempDir tmp_{"stack-pull-rule"};
  std::optional<img::ContentStore> store_;
  int64_t tagged_ = 0;
};

TEST_F(ImagePullRule, PullsByTheRuleAndTheNamesAge) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LE(tagged_, now);
  EXPECT_GT(tagged_, now - 60000) << "set just now";
  EXPECT_FALSE(pull("demo:1", {Mode::Missing, 0}, now));
  EXPECT_TRUE(pull("other:1", {Mode::Missing, 0}, now));
  EXPECT_TRUE(pull("demo:1", {Mode::Always, 0}, now));
  EXPECT_FALSE(pull("demo:1", {Mode::Never, 0}, now));
  EXPECT_FALSE(pull("demo:1", {Mode::Build, 0}, now));
  EXPECT_FALSE(pull("demo:1", {Mode::Refresh, kDay}, tagged_ + kDay - 1)) << "younger than a day";
  EXPECT_TRUE(pull("demo:1", {Mode::Refresh, kDay}, tagged_ + kDay)) << "a day old";
  EXPECT_TRUE(pull("other:1", {Mode::Refresh, kDay}, tagged_)) << "missing";

  auto never = orch::image_wants_pull(*store_, "other:1", {Mode::Never, 0}, now);
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ENOENT);
  EXPECT_EQ(never.error().context, "image other:1 is not in the store and pull_policy is never");
  auto build = orch::image_wants_pull(*store_, "other:1", {Mode::Build, 0}, now);
  ASSERT_FALSE(build);
  EXPECT_NE(build.error().context.find("stack does not build images yet"), std::string::npos);

  // A name set again (a pull, a load) is young again; one removed has no time.
  auto r = img::parse_reference("demo:1");
  ASSERT_TRUE(store_->remove_ref(*r));
  EXPECT_FALSE(store_->tagged_at(*r)->has_value());
}

}  // namespace
}  // namespace stack
