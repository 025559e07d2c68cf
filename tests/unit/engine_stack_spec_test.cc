// The engine's pure parts: compose::Project -> sched::StackSpec (health,
// restart, config hash, dependencies), stack networking names, replica
// records and events through a store, json-file log lines.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "orchestrator/compose/build.h"
#include "orchestrator/daemon/engine/events.h"
#include "orchestrator/daemon/engine/log_reader.h"
#include "orchestrator/daemon/engine/netwiring.h"
#include "orchestrator/daemon/engine/replica_store.h"
#include "orchestrator/daemon/engine/stack_spec.h"
#include "orchestrator/daemon/engine/supervisor.h"
#include "tests/support/memory_store.h"

using namespace stack;
using namespace stack::orch;

namespace {

compose::Service service(const std::string& name, const std::string& image = "busybox") {
  compose::Service s;
  s.name = name;
  s.image = image;
  s.networks["default"] = {};
  return s;
}

compose::Project two_services() {
  compose::Project p;
  p.name = "shop";
  p.networks["default"].name = "default";
  compose::Service db = service("db");
  compose::NativeProbe probe;
  probe.kind = "tcp";
  probe.port = 5432;
  probe.interval = 1000;
  probe.retries = 2;
  db.native_probe = probe;
  db.restart = "always";
  compose::Service web = service("web");
  web.depends_on["db"].condition = "service_healthy";
  web.replicas = 2;
  compose::PortSpec port;
  port.target = 80;
  port.published = 8080;
  port.published_end = 8080;
  port.host_ip = "127.0.0.1";
  web.ports.push_back(port);
  web.networks["default"].aliases = {"frontend"};
  p.services["db"] = db;
  p.services["web"] = web;
  return p;
}

const sched::ServiceSpec& find(const sched::StackSpec& s, const std::string& name) {
  for (const auto& x : s.services)
    if (x.name == name) return x;
  throw std::runtime_error("no service " + name);
}

}  // namespace

TEST(EngineStackSpec, NativeProbeBecomesAHostSideTcpCheck) {
  auto spec = stack_spec(two_services(), {});
  ASSERT_TRUE(spec) << spec.error().message();
  const auto& db = find(*spec, "db");
  EXPECT_EQ(db.health.kind, sched::ProbeKind::Tcp);
  EXPECT_EQ(db.health.port, 5432);
  EXPECT_EQ(db.health.interval, 1000);
  EXPECT_EQ(db.health.retries, 2);
  EXPECT_TRUE(db.health.restart_unhealthy);
  EXPECT_EQ(db.restart.mode, sched::RestartMode::Always);
  const auto& web = find(*spec, "web");
  EXPECT_EQ(web.health.kind, sched::ProbeKind::None);
  EXPECT_EQ(web.replicas, 2);
  ASSERT_EQ(web.depends_on.size(), 1u);
  EXPECT_EQ(web.depends_on[0].service, "db");
  EXPECT_EQ(web.depends_on[0].condition, sched::DependencyCondition::Healthy);
}

TEST(EngineStackSpec, HealthcheckPrecedenceAndForms) {
  compose::Service s = service("api");
  compose::Healthcheck image;
  image.test = {"CMD", "/bin/check", "--quick"};
  image.interval = 7000;
  // No healthcheck in the file: the image's.
  auto h = health_spec(s, image);
  EXPECT_EQ(h.kind, sched::ProbeKind::Exec);
  EXPECT_EQ(h.exec, (std::vector<std::string>{"/bin/check", "--quick"}));
  EXPECT_EQ(h.interval, 7000);
  // CMD-SHELL runs through /bin/sh -c.
  s.healthcheck = compose::Healthcheck{};
  s.healthcheck->test = {"CMD-SHELL", "wget -q -O- localhost"};
  h = health_spec(s, image);
  EXPECT_EQ(h.exec, (std::vector<std::string>{"/bin/sh", "-c", "wget -q -O- localhost"}));
  // NONE disables the image's check too.
  s.healthcheck->test = {"NONE"};
  EXPECT_EQ(health_spec(s, image).kind, sched::ProbeKind::None);
  s.healthcheck->test = {"CMD", "true"};
  s.healthcheck->disable = true;
  EXPECT_EQ(health_spec(s, image).kind, sched::ProbeKind::None);
  // x-restart-unhealthy: false keeps Compose's behaviour.
  s.extensions["x-restart-unhealthy"] = "false";
  EXPECT_FALSE(health_spec(s, image).restart_unhealthy);
}

TEST(EngineStackSpec, RestartPolicies) {
  compose::Service s = service("w");
  auto mode = [&](const std::string& v) {
    s.restart = v;
    auto r = restart_spec(s);
    EXPECT_TRUE(r) << v;
    return r ? r->mode : sched::RestartMode::No;
  };
  EXPECT_EQ(mode("no"), sched::RestartMode::No);
  EXPECT_EQ(mode("always"), sched::RestartMode::Always);
  EXPECT_EQ(mode("unless-stopped"), sched::RestartMode::UnlessStopped);
  EXPECT_EQ(mode("on-failure"), sched::RestartMode::OnFailure);
  s.restart = "on-failure:3";
  ASSERT_TRUE(restart_spec(s));
  EXPECT_EQ(restart_spec(s)->max_attempts, 3);
  s.restart = "sometimes";
  auto bad = restart_spec(s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("services.w.restart"), std::string::npos) << bad.error().context;
  s.restart = "on-failure:x";
  EXPECT_FALSE(restart_spec(s));
  // deploy.restart_policy wins.
  s.restart = "no";
  s.deploy.restart_policy = compose::RestartPolicy{"on-failure", 500, 4, 60000};
  auto r = restart_spec(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mode, sched::RestartMode::OnFailure);
  EXPECT_EQ(r->delay, 500);
  EXPECT_EQ(r->max_attempts, 4);
  EXPECT_EQ(r->window, 60000);
}

TEST(EngineStackSpec, ConfigHashIgnoresReplicasOnly) {
  compose::Service a = service("web");
  compose::Service b = a;
  b.replicas = 5;
  EXPECT_EQ(config_hash(a), config_hash(b));
  b.image = "busybox:2";
  EXPECT_NE(config_hash(a), config_hash(b));
  compose::Service c = a;
  c.environment["A"] = "1";
  EXPECT_NE(config_hash(a), config_hash(c));
}

TEST(EngineStackSpec, OneShotGpusAndStopSettings) {
  compose::Project p = two_services();
  compose::Service migrate = service("migrate");
  p.services["migrate"] = migrate;
  p.services["web"].depends_on["migrate"].condition = "service_completed_successfully";
  p.services["db"].stop_signal = "SIGINT";
  p.services["db"].stop_grace_period = 3000;
  compose::DeviceRequest gpu;
  gpu.capabilities = {"gpu"};
  gpu.count = 2;
  p.services["db"].deploy.reservations.devices.push_back(gpu);
  auto spec = stack_spec(p, {});
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_TRUE(find(*spec, "migrate").one_shot);
  EXPECT_FALSE(find(*spec, "db").one_shot);
  EXPECT_EQ(find(*spec, "db").stop_signal, "SIGINT");
  EXPECT_EQ(find(*spec, "db").stop_grace, 3000);
  EXPECT_EQ(find(*spec, "db").requirements.gpus, 2);
  p.services["web"].depends_on["ghost"] = {};
  auto bad = stack_spec(p, {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("ghost"), std::string::npos);
}

// volumes_from in the plan: the source's named, anonymous and bind mounts
// as binds of their host dirs (the mode overridden by :ro), tmpfs left
// out, the borrower's own mount at a target kept.
TEST(EnginePlan, VolumesFromBorrowsTheSourcesMounts) {
  compose::Project p = two_services();
  p.working_dir = "/srv/shop";
  p.volumes["pgdata"] = {};
  compose::Service& db = p.services["db"];
  db.volumes = {compose::Mount{.type = "volume", .source = "pgdata", .target = "/var/lib/pg"},
                compose::Mount{.type = "volume", .target = "/scratch"},
                compose::Mount{.type = "bind", .source = "/srv/conf", .target = "/conf"},
                compose::Mount{.type = "tmpfs", .target = "/run/db"},
                compose::Mount{.type = "volume", .source = "pgdata", .target = "/own"}};
  compose::Service& web = p.services["web"];
  web.volumes = {compose::Mount{.type = "bind", .source = "/srv/web", .target = "/own"}};
  web.volumes_from = {"db:ro"};
  auto plan = make_plan(p, "web", 2, "shop-web-2-abcdef", {}, "/v");
  EXPECT_EQ(plan.anonymous_dir, "/v/.anonymous/shop/web-2");
  std::map<std::string, std::string> got;
  for (const auto& m : plan.service.volumes) got[m.target] = m.type + " " + m.source + (m.read_only ? " ro" : "");
  EXPECT_EQ(got, (std::map<std::string, std::string>{
                     {"/own", "bind /srv/web"},
                     {"/var/lib/pg", "bind /v/shop_pgdata ro"},
                     {"/scratch", "bind " + anonymous_volume_dir("/v/.anonymous/shop/db-1", "/scratch") + " ro"},
                     {"/conf", "bind /srv/conf ro"}}));
}

TEST(EngineNetWiring, NamesPortsAndPlans) {
  compose::Project p = two_services();
  EXPECT_EQ(network_name(p, "default"), "shop_default");
  p.networks["ext"].external = true;
  p.networks["ext"].external_name = "shared";
  EXPECT_EQ(network_name(p, "ext"), "shared");
  auto names = dns_names(p, p.services["web"], 2, "shop-web-2", "default");
  for (const char* n : {"web", "web.shop", "shop-web-2", "2.web", "frontend"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  // A link's alias names its target on the networks the linking service has.
  p.services["db"].links = {"web:storefront"};
  names = dns_names(p, p.services["web"], 2, "shop-web-2", "default");
  EXPECT_NE(std::find(names.begin(), names.end(), "storefront"), names.end());
  EXPECT_EQ(dns_names(p, p.services["web"], 2, "shop-web-2", "other"),
            (std::vector<std::string>{"2.web", "shop-web-2", "web", "web.shop"}))
      << "db is not on other";
  auto ports = published_ports(p);
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].service, "web");
  EXPECT_EQ(ports[0].mapping.network, "shop_default");
  EXPECT_EQ(ports[0].mapping.host_port, 8080);
  EXPECT_EQ(ports[0].mapping.host_ip, "127.0.0.1");

  net::NetworkInfo info;
  info.name = "shop_default";
  info.gateway = "10.250.0.1";
  auto plan = make_plan(p, "web", 2, "shop-web-2-abcdef", {{"default", info}}, "/v");
  EXPECT_EQ(plan.name, "shop-web-2");
  EXPECT_EQ(plan.dns_server, "10.250.0.1");
  ASSERT_EQ(plan.networks.size(), 1u);
  EXPECT_EQ(plan.networks[0].aliases, (std::vector<std::string>{"frontend"}));
  EXPECT_EQ(signal_number("SIGTERM"), 15);
  EXPECT_EQ(signal_number("KILL"), 9);
  EXPECT_EQ(signal_number("2"), 2);
  EXPECT_EQ(signal_number("SIGNOPE"), 0);
}

TEST(EngineState, ReplicaRecordsRoundTripThroughTheStore) {
  test::MemoryStore store;
  ReplicaRecord r;
  r.status.stack = "shop";
  r.status.service = "web";
  r.status.slot = 3;
  r.status.container_id = "shop-web-3-abc123";
  r.status.state = sched::ReplicaState::Running;
  r.status.health.health = sched::Health::Unhealthy;
  r.status.health.failing_streak = 2;
  r.status.health.log.push_back({10, 20, 1, "refused"});
  r.status.restart_count = 4;
  r.status.restart_times = {100, 200};
  r.status.stopped_by_user = true;
  r.name = "shop-web-3";
  r.addresses["shop_default"] = "10.250.0.7";
  ASSERT_TRUE(save_replica(store, r));
  auto back = load_replicas(store, "shop");
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->size(), 1u);
  const auto& b = (*back)[0];
  EXPECT_EQ(b.status.container_id, r.status.container_id);
  EXPECT_EQ(b.status.state, sched::ReplicaState::Running);
  EXPECT_EQ(b.status.health.health, sched::Health::Unhealthy);
  EXPECT_EQ(b.status.health.log.at(0).output, "refused");
  EXPECT_EQ(b.status.restart_count, 4);
  EXPECT_EQ(b.status.restart_times, (std::vector<int64_t>{100, 200}));
  EXPECT_TRUE(b.status.stopped_by_user);
  EXPECT_EQ(b.addresses.at("shop_default"), "10.250.0.7");
  ASSERT_TRUE(store.put("replicas/shop/web/9", "{broken"));
  auto bad = load_replicas(store, "shop");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("replicas/shop/web/9"), std::string::npos);
}

// One record per task: replicas/<stack>/<service>/<slot>/<incarnation>. A
// record a stackd from before tasks wrote (one per slot, no incarnation) is
// read as the slot's first task and moved to its task key.
TEST(EngineState, ReplicaRecordsAreKeyedByTaskAndOldSlotRecordsMove) {
  test::MemoryStore store;
  ReplicaRecord r;
  r.status.stack = "shop";
  r.status.service = "web";
  r.status.slot = 2;
  r.status.incarnation = 5;
  r.status.container_id = "shop-web-2-abc123";
  ASSERT_TRUE(save_replica(store, r));
  r.status.incarnation = 6;
  r.status.container_id = "shop-web-2-def456";
  ASSERT_TRUE(save_replica(store, r));
  nlohmann::json legacy = nlohmann::json::parse(replica_to_json(r));
  legacy["slot"] = 1;
  legacy["container_id"] = "shop-web-1-0a0b0c";
  legacy.erase("incarnation");
  ASSERT_TRUE(store.put("replicas/shop/web/1", legacy.dump()));

  auto back = load_replicas(store, "shop");
  ASSERT_TRUE(back) << back.error().message();
  std::vector<std::string> tasks;
  for (const auto& b : *back)
    tasks.push_back(std::to_string(b.status.slot) + "." + std::to_string(b.status.incarnation) + " " + b.status.container_id);
  std::sort(tasks.begin(), tasks.end());
  EXPECT_EQ(tasks, (std::vector<std::string>{"1.1 shop-web-1-0a0b0c", "2.5 shop-web-2-abc123", "2.6 shop-web-2-def456"}));
  std::vector<std::string> keys;
  auto listed = store.list("replicas/shop/");
  ASSERT_TRUE(listed);
  for (const auto& [k, v] : *listed) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"replicas/shop/web/1/1", "replicas/shop/web/2/5", "replicas/shop/web/2/6"}));

  ASSERT_TRUE(delete_replica(store, "shop", (*back)[0].status));
  EXPECT_EQ(store.list("replicas/shop/").value().size(), 2u);
}

TEST(EngineState, EventsKeepTheLast1000AndReplayWithoutGaps) {
  test::MemoryStore store;
  {
    EventBus bus(&store);
    for (int i = 0; i < 1005; i++) bus.publish(Event{0, 0, "s", "", "", "start", {}});
    EXPECT_EQ(bus.last_seq(), 1005u);
    EXPECT_EQ(bus.recent(0).size(), 1000u);
    EXPECT_EQ(bus.recent(0).front().seq, 6u);
    std::vector<uint64_t> got;
    auto sub = bus.subscribe(1003, [&](const Event& e) { got.push_back(e.seq); });
    bus.publish(Event{0, 0, "s", "", "", "die", {}});
    sub.reset();
    bus.publish(Event{0, 0, "s", "", "", "die", {}});
    EXPECT_EQ(got, (std::vector<uint64_t>{1004, 1005, 1006}));
  }
  // A new bus (a restarted daemon) continues the numbering from the store.
  EXPECT_EQ(store.list("events/")->size(), 1000u);
  EventBus again(&store);
  EXPECT_EQ(again.last_seq(), 1007u);
  EXPECT_EQ(again.publish(Event{}), 1008u);
}

TEST(EngineLogs, JsonFileLinesParse) {
  auto l = parse_log_line(R"({"log":"hello\n","stream":"stderr","time":"2024-01-02T03:04:05.123456789Z"})");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text, "hello");
  EXPECT_EQ(l->stream, "stderr");
  EXPECT_EQ(l->time_ns, 1704164645123456789LL);
  EXPECT_EQ(parse_rfc3339_ns("2024-01-02T04:04:05+01:00"), 1704164645000000000LL);
  EXPECT_FALSE(parse_log_line("not json"));
}

// stack does not build images yet: `up` of a service with build: whose image
// is not in the store says which image, that it must be built, and how.
TEST(EngineStackSpec, UnbuiltImageMessageNamesServiceImageAndHowToBuildIt) {
  compose::Service web = service("web", "shop-web");
  compose::Build b;
  b.context = "/srv/shop/web";
  web.build = b;
  EXPECT_EQ(unbuilt_image_message(web),
            "services.web: image shop-web must be built first: stack does not build images yet. Build it elsewhere "
            "(docker build -t shop-web /srv/shop/web), then load it: docker save shop-web | stack image load");
  compose::Service worker = service("worker", "shop/worker:dev");
  b.context = "/srv/shop";
  b.dockerfile = "docker/worker.Dockerfile";
  b.target = "prod";
  worker.build = b;
  EXPECT_EQ(unbuilt_image_message(worker, "pull shop/worker:dev: not found"),
            "services.worker: image shop/worker:dev must be built first (it is not in the store, and pulling it "
            "failed: pull shop/worker:dev: not found): stack does not build images yet. Build it elsewhere (docker "
            "build -t shop/worker:dev -f /srv/shop/docker/worker.Dockerfile --target prod /srv/shop), then load it: "
            "docker save shop/worker:dev | stack image load");

  // Only build: without image: is never pulled (its name is <project>-<service>).
  compose::Project p;
  p.name = "shop";
  EXPECT_TRUE(compose::image_is_built(p, web));
  EXPECT_FALSE(compose::image_is_built(p, worker));
  EXPECT_FALSE(compose::image_is_built(p, service("db", "shop-db")));  // no build:
}
