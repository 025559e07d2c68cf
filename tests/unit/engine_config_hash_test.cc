// config_hash (orchestrator/daemon/engine/stack_spec.h): a hash of the canonical
// form of what a replica is created with. Only what makes the container
// counts; a field left at its default is not in the canonical form, so a
// field added by a later version changes no hash; the hashes stored by a
// stackd before v2 are recognised so an upgrade replaces nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/daemon/node/replica_spec.h"
#include "orchestrator/daemon/engine/stack_spec.h"

using namespace stack;
using namespace stack::orch;

namespace {

compose::Service web() {
  compose::Service s;
  s.name = "web";
  s.image = "busybox";
  s.networks["default"] = {};
  return s;
}

compose::Service api() {
  compose::Service r;
  r.name = "api";
  r.image = "shop/api:1";
  r.command = std::vector<std::string>{"serve", "--port", "80"};
  r.environment = {{"A", "1"}, {"B", "two"}};
  r.networks["default"].aliases = {"backend"};
  r.restart = "always";
  r.stop_signal = "SIGINT";
  r.mem_limit = 64ull << 20;
  compose::Mount m;
  m.type = "volume";
  m.source = "data";
  m.target = "/data";
  r.volumes.push_back(m);
  compose::PortSpec p;
  p.target = p.target_end = 80;
  p.published = p.published_end = 8080;
  r.ports.push_back(p);
  return r;
}

}  // namespace

// Pinned: a change here replaces every running replica after an upgrade.
// Only change it together with a new version prefix and upgraded_config_hash.
TEST(EngineConfigHash, IsPinnedForAFixedService) {
  EXPECT_EQ(config_hash(web()), "v2:c0ebbe8ba27aa53d");
  EXPECT_EQ(config_hash(api()), "v2:1c46f40d59646595");
}

TEST(EngineConfigHash, ANewFieldAtItsDefaultChangesNothing) {
  // Nothing but defaults: nothing to hash.
  EXPECT_EQ(canonical_json(ReplicaSpec{}), nlohmann::json::object());
  // A later version's field, present at its default in both the spec and
  // the defaults, is left out: the canonical form is the same as without it.
  nlohmann::json spec = to_json_value(ReplicaSpec(api()));
  nlohmann::json defaults = to_json_value(ReplicaSpec{});
  nlohmann::json with = spec, with_defaults = defaults;
  with["x_future"] = {{"enabled", false}, {"paths", nlohmann::json::array()}};
  with_defaults["x_future"] = {{"enabled", false}, {"paths", nlohmann::json::array()}};
  EXPECT_EQ(without_defaults(with, with_defaults), without_defaults(spec, defaults));
  // Set to something else, it counts.
  with["x_future"]["enabled"] = true;
  EXPECT_EQ(without_defaults(with, with_defaults)["x_future"], (nlohmann::json{{"enabled", true}}));
  // A mount's option at its default is not written either.
  EXPECT_EQ(canonical_json(ReplicaSpec(api()))["volumes"][0],
            (nlohmann::json{{"type", "volume"}, {"source", "data"}, {"target", "/data"}}));
}

TEST(EngineConfigHash, CountsWhatMakesTheContainerOnly) {
  const std::string base = config_hash(api());
  auto same = [&](auto change) {
    compose::Service s = api();
    change(s);
    return config_hash(s) == base;
  };
  // The supervisor's business: applied to running replicas, none replaced.
  EXPECT_TRUE(same([](compose::Service& s) { s.replicas = 7; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.restart = "no"; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.stop_grace_period = 1000; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.depends_on["db"].condition = "service_healthy"; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.healthcheck = compose::Healthcheck{{"CMD", "true"}}; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.deploy.update_config = compose::UpdateConfig{}; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.pull_policy = "always"; }));
  EXPECT_TRUE(same([](compose::Service& s) { s.profiles = {"debug"}; }));
  // The container's: a new replica.
  EXPECT_FALSE(same([](compose::Service& s) { s.image = "shop/api:2"; }));
  EXPECT_FALSE(same([](compose::Service& s) { s.environment["C"] = "3"; }));
  EXPECT_FALSE(same([](compose::Service& s) { s.command.reset(); }));
  EXPECT_FALSE(same([](compose::Service& s) { s.volumes[0].read_only = true; }));
  EXPECT_FALSE(same([](compose::Service& s) { s.stop_signal = "SIGTERM"; }));
  EXPECT_FALSE(same([](compose::Service& s) { s.mem_limit = 128ull << 20; }));
  EXPECT_FALSE(same([](compose::Service& s) { s.networks["default"].aliases.clear(); }));
  EXPECT_FALSE(same([](compose::Service& s) { s.ports[0].published = s.ports[0].published_end = 8081; }));
  EXPECT_FALSE(same([](compose::Service& s) { s.container_name = "solo"; }));
}

// What stackd stored before v2: the hash of the whole serialized service.
// These values are what that code computed for the services above.
TEST(EngineConfigHash, RecognisesTheHashesAnOlderStackdStored) {
  EXPECT_EQ(legacy_config_hash(web()), "766fd69fc38db3f2");
  EXPECT_EQ(legacy_config_hash(api()), "9edfde54f3cdc34b");
  // A replica made from the same service keeps running under the new hash.
  EXPECT_EQ(upgraded_config_hash("9edfde54f3cdc34b", api()), config_hash(api()));
  // One made from another config is replaced, as before.
  compose::Service changed = api();
  changed.image = "shop/api:2";
  EXPECT_EQ(upgraded_config_hash("9edfde54f3cdc34b", changed), "9edfde54f3cdc34b");
  EXPECT_NE(upgraded_config_hash("9edfde54f3cdc34b", changed), config_hash(changed));
  // A v2 hash is left as it is.
  EXPECT_EQ(upgraded_config_hash(config_hash(web()), api()), config_hash(web()));
}
