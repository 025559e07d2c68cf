// Normalization, profiles, warnings, cross-field checks and the JSON/YAML views.
#include <filesystem>

#include <gtest/gtest.h>

#include "compose_test_util.h"
#include "orchestrator/compose/unsupported.h"

namespace stack::compose {
namespace {

using cz::load_error;
using cz::load_yaml;

const char* kProfiles = R"(
services:
  web:
    image: nginx
  debug:
    image: busybox
    profiles: [debug]
  tools:
    image: busybox
    profiles: [tools, debug]
)";

TEST(ComposeProfiles, OnlySelectedProfilesAreActive) {
  auto none = load_yaml(kProfiles);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_EQ(none->project.services.size(), 1u);
  LoadOptions o;
  o.profiles = {"tools"};
  auto tools = load_yaml(kProfiles, o);
  EXPECT_EQ(tools->project.services.count("tools"), 1u);
  EXPECT_EQ(tools->project.services.count("debug"), 0u);
  LoadOptions e;
  e.environment = {{"COMPOSE_PROFILES", "debug"}};
  EXPECT_EQ(load_yaml(kProfiles, e)->project.services.size(), 3u);
  LoadOptions all;
  all.profiles = {"*"};
  EXPECT_EQ(load_yaml(kProfiles, all)->project.services.size(), 3u);
}

TEST(ComposeProfiles, DependingOnADisabledServiceSaysSo) {
  auto e = load_error("services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: y\n    profiles: [db]\n");
  EXPECT_EQ(e, "stack.yaml:4:18: services.web.depends_on.db: service \"db\" is not enabled by the selected profiles");
}

TEST(ComposeChecks, DependsOnMissingAndCycles) {
  EXPECT_EQ(load_error("services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_healthy\n"),
            "stack.yaml:5:7: services.web.depends_on.db: service \"db\" is not defined");
  auto cyc = load_error(
      "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n"
      "  c:\n    image: x\n    depends_on: [a]\n");
  EXPECT_EQ(cyc, "stack.yaml:10:18: services.c.depends_on: dependency cycle: a -> b -> c -> a");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    depends_on: [a]\n"),
            "stack.yaml:4:18: services.a.depends_on.a: service \"a\" depends on itself");
  auto opt = load_yaml("services:\n  a:\n    image: x\n    depends_on:\n      gone: {condition: service_started, required: false}\n");
  ASSERT_TRUE(opt) << opt.error().message();
  EXPECT_TRUE(opt->project.services.at("a").depends_on.empty());
  EXPECT_TRUE(cz::has_warning(*opt, "services.a.depends_on.gone"));
}

TEST(ComposeChecks, UndefinedNetworksVolumesAndNetworkMode) {
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    networks: [front]\n"),
            "stack.yaml:4:16: services.a.networks.front: network \"front\" is not declared in the top-level networks");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    volumes: [\"data:/data\"]\n"),
            "stack.yaml:4:5: services.a.volumes: volume \"data\" is not declared in the top-level volumes");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    network_mode: service:b\n"),
            "stack.yaml:4:5: services.a.network_mode: service \"b\" is not defined");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    network_mode: weird\n"),
            "stack.yaml:4:5: services.a.network_mode: invalid network_mode \"weird\" "
            "(none, host, bridge, service:NAME, container:NAME)");
  auto ok = load_yaml("services:\n  a:\n    image: x\n  b:\n    image: x\n    network_mode: service:a\n");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_TRUE(ok->project.services.at("b").networks.empty());
  EXPECT_EQ(ok->project.services.at("a").networks.count("default"), 1u);
  EXPECT_EQ(ok->project.networks.count("default"), 1u);
}

TEST(ComposeChecks, ReplicasAndContainerName) {
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    deploy:\n      replicas: -1\n"),
            "stack.yaml:5:17: services.a.deploy.replicas: replicas must not be negative (got -1)");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    container_name: solo\n    scale: 2\n"),
            "stack.yaml:4:5: services.a.container_name: container_name \"solo\" cannot be used with 2 replicas "
            "(container names are unique)");
  auto r = load_yaml("services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n");
  EXPECT_EQ(r->project.services.at("a").replicas, 3);
  EXPECT_EQ(load_error("services:\n  a:\n    command: x\n"), "stack.yaml:3:5: services.a: has neither an image nor a build context specified");
}

TEST(ComposeChecks, BadDurationsAndSizes) {
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    stop_grace_period: 10\n"),
            "stack.yaml:4:24: services.a.stop_grace_period: invalid duration \"10\": missing unit (use e.g. 10s, 500ms, 1m30s)");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    mem_limit: 12q\n"),
            "stack.yaml:4:16: services.a.mem_limit: invalid size \"12q\" (use bytes or a number with b, k, m, g, t or p, e.g. 512m)");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: soon\n"),
            "stack.yaml:6:17: services.a.healthcheck.interval: invalid duration \"soon\": expected a number at \"soon\"");
}

TEST(ComposeNormalize, ServiceFields) {
  auto r = load_yaml(R"(
services:
  app:
    image: busybox
    command: sh -c 'echo "hi there"'
    entrypoint: ["/bin/tini", "--"]
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      timeout: 500ms
      retries: 5
      start_period: 10s
    restart: on-failure:3
    volumes:
      - /srv/data:/data:ro
      - cache:/cache:nocopy
      - /anon
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 64m, mode: 1777}
    tmpfs: ["/run:size=16m,mode=755"]
    devices: ["/dev/fuse", "/dev/sda:/dev/xvda:r"]
    extra_hosts: ["db:10.0.0.2", "v6=::1"]
    ulimits:
      nofile: {soft: 1024, hard: 2048}
      nproc: 512
    sysctls: [net.core.somaxconn=1024]
    mem_limit: 512m
    shm_size: 64m
    cpus: 0.5
    pids_limit: 100
    stop_grace_period: 1m
    stop_signal: SIGINT
    deploy:
      resources:
        limits: {cpus: "1.5", memory: 1g, pids: 50}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
    networks:
      front:
        aliases: [api]
        ipv4_address: 10.230.0.5
volumes:
  cache: {}
networks:
  front:
    ipam:
      config: [{subnet: 10.230.0.0/24, gateway: 10.230.0.1}]
    driver_opts: {com.docker.network.driver.mtu: "1400"}
)");
  ASSERT_TRUE(r) << r.error().message();
  auto& s = r->project.services.at("app");
  EXPECT_EQ(s.command, (std::vector<std::string>{"sh", "-c", "echo \"hi there\""}));
  EXPECT_EQ(s.entrypoint, (std::vector<std::string>{"/bin/tini", "--"}));
  ASSERT_TRUE(s.healthcheck);
  EXPECT_EQ(s.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"}));
  EXPECT_EQ(s.healthcheck->interval, 90000);
  EXPECT_EQ(s.healthcheck->timeout, 500);
  EXPECT_EQ(s.healthcheck->retries, 5);
  EXPECT_EQ(s.healthcheck->start_period, 10000);
  EXPECT_EQ(s.restart, "on-failure:3");
  ASSERT_EQ(s.volumes.size(), 5u);
  EXPECT_EQ(s.volumes[0].type, "bind");
  EXPECT_TRUE(s.volumes[0].read_only);
  EXPECT_EQ(s.volumes[1].type, "volume");
  EXPECT_TRUE(s.volumes[1].nocopy);
  EXPECT_EQ(s.volumes[2].source, "");
  EXPECT_EQ(s.volumes[2].target, "/anon");
  EXPECT_EQ(s.volumes[3].tmpfs_size, 64ull << 20);
  EXPECT_EQ(s.volumes[3].tmpfs_mode, 01777u);
  EXPECT_EQ(s.volumes[4].type, "tmpfs");
  EXPECT_EQ(s.volumes[4].tmpfs_mode, 0755u);
  ASSERT_EQ(s.devices.size(), 2u);
  EXPECT_EQ(s.devices[0].target, "/dev/fuse");
  EXPECT_EQ(s.devices[1].permissions, "r");
  EXPECT_EQ(s.extra_hosts, (std::vector<std::string>{"db:10.0.0.2", "v6:::1"}));
  EXPECT_EQ(s.ulimits.at("nofile").hard, 2048);
  EXPECT_EQ(s.ulimits.at("nproc").soft, 512);
  EXPECT_EQ(s.sysctls.at("net.core.somaxconn"), "1024");
  EXPECT_EQ(s.mem_limit, 512ull << 20);  // mem_limit beats deploy limits
  EXPECT_EQ(s.cpus, 0.5);
  EXPECT_EQ(s.pids_limit, 100);
  EXPECT_EQ(s.deploy.limits.memory, 1ull << 30);
  EXPECT_EQ(s.shm_size, 64ull << 20);
  EXPECT_EQ(s.stop_grace_period, 60000);
  ASSERT_TRUE(s.deploy.restart_policy);
  EXPECT_EQ(s.deploy.restart_policy->max_attempts, 3);
  EXPECT_EQ(s.deploy.restart_policy->window, 120000);
  EXPECT_EQ(s.networks.at("front").aliases, (std::vector<std::string>{"api"}));
  auto& net = r->project.networks.at("front");
  EXPECT_EQ(net.subnets, (std::vector<std::string>{"10.230.0.0/24"}));
  EXPECT_EQ(net.driver_opts.at("com.docker.network.driver.mtu"), "1400");
}

TEST(ComposeNormalize, HealthcheckForms) {
  auto r = load_yaml(R"(
services:
  none:
    image: x
    healthcheck: {test: ["NONE"]}
  off:
    image: x
    healthcheck: {disable: true}
  timings:
    image: x
    healthcheck: {interval: 3s, retries: 7}
  exec:
    image: x
    healthcheck: {test: ["CMD", "wget", "-q", "localhost"], start_interval: 1s}
)");
  ASSERT_TRUE(r) << r.error().message();
  auto& sv = r->project.services;
  EXPECT_TRUE(sv.at("none").healthcheck->disable);
  EXPECT_TRUE(sv.at("off").healthcheck->disable);
  EXPECT_TRUE(sv.at("timings").healthcheck->test.empty());  // the image's test, our timings
  EXPECT_EQ(sv.at("timings").healthcheck->interval, 3000);
  EXPECT_EQ(sv.at("timings").healthcheck->retries, 7);
  EXPECT_EQ(sv.at("exec").healthcheck->test.at(0), "CMD");
  EXPECT_EQ(sv.at("exec").healthcheck->start_interval, 1000);
  EXPECT_FALSE(sv.at("exec").healthcheck->disable);
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    healthcheck: {test: [\"RUN\", \"x\"]}\n"),
            "stack.yaml:4:25: services.a.healthcheck.test: the list form must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
}

TEST(ComposeNormalize, ProjectNameFromEnvironmentAndMergeKeyLists) {
  LoadOptions o;
  o.environment = {{"COMPOSE_PROJECT_NAME", "FromEnv"}};
  auto r = load_yaml(R"(
x-a: &a {image: busybox, user: "1"}
x-b: &b {user: "2", working_dir: /w}
services:
  s:
    <<: [*a, *b]
)",
                     o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.name, "fromenv");
  auto& s = r->project.services.at("s");
  EXPECT_EQ(s.image, "busybox");
  EXPECT_EQ(s.user, "1");  // the first merged map wins
  EXPECT_EQ(s.working_dir, "/w");
}

TEST(ComposeNormalize, NativeProbeExtension) {
  auto r = load_yaml(R"(
services:
  shop:
    image: juice
    x-healthcheck:
      http: {port: 3000, path: /rest/health, status: "200-299"}
      interval: 5s
      timeout: 2s
      retries: 3
      start_period: 0s
  cache:
    image: redis
    x-healthcheck: {tcp: {port: 6379}}
)");
  ASSERT_TRUE(r) << r.error().message();
  auto& p = *r->project.services.at("shop").native_probe;
  EXPECT_EQ(p.kind, "http");
  EXPECT_EQ(p.port, 3000);
  EXPECT_EQ(p.path, "/rest/health");
  EXPECT_EQ(p.expect_status_max, 299);
  EXPECT_EQ(p.interval, 5000);
  EXPECT_EQ(p.timeout, 2000);
  auto& t = *r->project.services.at("cache").native_probe;
  EXPECT_EQ(t.kind, "tcp");
  EXPECT_EQ(t.port, 6379);
  EXPECT_EQ(t.interval, 30000);
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    x-healthcheck: {http: {port: 1}, tcp: {port: 2}}\n"),
            "stack.yaml:4:20: services.a.x-healthcheck: needs exactly one of http or tcp");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    x-healthcheck:\n      tcp: {port: 70000}\n"),
            "stack.yaml:5:19: services.a.x-healthcheck.tcp.port: invalid port \"70000\": expected 1-65535");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    x-healthcheck:\n      tcp: {port: 1}\n      intervl: 1s\n"),
            "stack.yaml:6:7: services.a.x-healthcheck.intervl: unknown field \"intervl\" in x-healthcheck");
}

TEST(ComposeWarnings, Ipv6NetworkingIsNamedAndItsSubnetsSkipped) {
  auto r = load_yaml(R"(services:
  a:
    image: x
    networks:
      front: {ipv6_address: "fd00:1::5"}
networks:
  front:
    enable_ipv6: true
    ipam:
      config:
        - subnet: fd00:1::/64
        - subnet: 10.70.0.0/24
)");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(cz::has_warning(*r, "services.a.networks.front.ipv6_address"));
  EXPECT_TRUE(cz::has_warning(*r, "networks.front.enable_ipv6"));
  EXPECT_TRUE(cz::has_warning(*r, "networks.front.ipam.config.subnet"));
  // The IPv4 subnet is the one the network gets, whatever the order.
  EXPECT_EQ(r->project.networks.at("front").subnets, (std::vector<std::string>{"10.70.0.0/24"}));
}

TEST(ComposeExtensions, EgressRateIsReadAsTcWritesIt) {
  auto r = load_yaml("services:\n  a:\n    image: x\n    x-egress-rate: 10mbit\n  b:\n    image: x\n"
                     "    x-egress-rate: 64000\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.services.at("a").egress_bytes_per_sec, 1250000u);
  EXPECT_EQ(r->project.services.at("b").egress_bytes_per_sec, 8000u);
  EXPECT_FALSE(cz::has_warning(*r, "services.a.x-egress-rate"));
  struct Case {
    const char* value;
    const char* expect;
  } cases[] = {{"10mb", "invalid rate \"10mb\""}, {"fast", "bit, kbit, mbit or gbit"}, {"20gbit", "above 17 gbit"},
               {"0", "below 8 bit/s"}};
  for (auto& c : cases) {
    auto bad = load_yaml(std::string("services:\n  a:\n    image: x\n    x-egress-rate: ") + c.value + "\n");
    ASSERT_FALSE(bad) << c.value;
    EXPECT_NE(bad.error().message().find("stack.yaml:4:20: services.a.x-egress-rate: "), std::string::npos)
        << bad.error().message();
    EXPECT_NE(bad.error().message().find(c.expect), std::string::npos) << bad.error().message();
  }
}

TEST(ComposeWarnings, UnsupportedFieldsAreNamed) {
  auto r = load_yaml(R"(version: "3.8"
services:
  a:
    image: x
    build: .
    logging: {driver: syslog}
    cpu_count: 2
    mem_swappiness: 10
    cpu_shares: 512
    deploy:
      placement: {constraints: [node.role==manager]}
)");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(cz::has_warning(*r, "version"));
  EXPECT_TRUE(cz::has_warning(*r, "services.a.build"));
  EXPECT_TRUE(cz::has_warning(*r, "services.a.logging.driver"));
  EXPECT_TRUE(cz::has_warning(*r, "services.a.cpu_count"));
  EXPECT_FALSE(cz::has_warning(*r, "services.a.cpu_shares")) << "applied";
  EXPECT_FALSE(cz::has_warning(*r, "services.a.mem_swappiness")) << "applied";
  // Placement is applied in a cluster (a single node has one place).
  EXPECT_FALSE(cz::has_warning(*r, "services.a.deploy.placement"));
  bool found = false;
  for (auto& w : r->warnings)
    if (w.path == "services.a.logging.driver") {
      found = true;
      EXPECT_EQ(w.to_string(), "stack.yaml:6:23: services.a.logging.driver: the syslog driver is not supported by stack "
                               "(json-file, local, none): logs go to json-file");
    }
  EXPECT_TRUE(found);
  auto clean = load_yaml("services:\n  a:\n    image: x\n");
  EXPECT_TRUE(clean->warnings.empty());
  for (auto& u : kUnsupportedFields) EXPECT_FALSE(u.note.empty()) << u.path;
}

TEST(ComposeSerialize, JsonRoundTripIsExact) {
  auto r = load_yaml(R"(
name: roundtrip
x-top: {a: [1, 2]}
services:
  web:
    image: nginx
    command: ["a", "b"]
    ports: ["127.0.0.1:8080:80/udp", "3000"]
    environment: {A: "1"}
    healthcheck: {test: ["CMD", "true"], interval: 2s}
    x-healthcheck: {http: {port: 80}}
    deploy: {replicas: 2, resources: {limits: {memory: 1g}, reservations: {devices: [{capabilities: [gpu], count: all}]}},
             update_config: {parallelism: 2, max_failure_ratio: 0.5}}
    ulimits: {nofile: 1024}
    depends_on: {db: {condition: service_healthy, restart: true}}
    volumes: ["data:/data", {type: tmpfs, target: /t, tmpfs: {size: 1m}}]
  db:
    image: postgres
    network_mode: host
volumes:
  data: {external: true, name: shared-data}
networks:
  default: {driver_opts: {x: "1"}}
configs:
  cfg: {file: ./cfg.txt}
secrets:
  key: {environment: KEY}
)");
  ASSERT_TRUE(r) << r.error().message();
  std::string json = to_json(r->project);
  auto back = project_from_json(json);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(to_json(*back), json);
  EXPECT_EQ(back->services.at("web").ports.at(0).host_ip, "127.0.0.1");
  EXPECT_EQ(back->services.at("web").deploy.reservations.devices.at(0).count, -1);
  EXPECT_EQ(back->services.at("web").native_probe->port, 80);
  EXPECT_FALSE(back->services.at("web").entrypoint.has_value());
  EXPECT_EQ(back->volumes.at("data").external_name, "shared-data");
  EXPECT_EQ(back->configs.at("cfg").file, "/tmp/cfg.txt");
  EXPECT_EQ(back->extensions.at("x-top"), "{\"a\":[1,2]}");
  EXPECT_EQ(to_json(r->project, 2), to_json(r->project, 2));  // stable

  auto bad = project_from_json("{\"name\": 1}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind("project json: ", 0), 0u);
}

TEST(ComposeSerialize, YamlViewUsesDurationsAndParses) {
  auto r = load_yaml("services:\n  web:\n    image: nginx\n    stop_grace_period: 1m30s\n    environment: {N: \"1\"}\n");
  ASSERT_TRUE(r);
  std::string y = to_yaml(r->project);
  EXPECT_NE(y.find("stop_grace_period: 1m30s"), std::string::npos) << y;
  EXPECT_NE(y.find("N: \"1\""), std::string::npos) << y;  // a numeric-looking string stays a string
  EXPECT_NE(y.find("name: stack"), std::string::npos) << y;
}

TEST(ComposeExamples, EveryExampleLoads) {
  std::filesystem::path dir = std::filesystem::path(STACK_SOURCE_DIR) / "examples/compose";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no examples/compose";
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    auto ext = e.path().extension();
    if (ext != ".yaml" && ext != ".yml") continue;
    if (e.path().stem().string().find(".override") != std::string::npos) continue;
    LoadOptions o;
    o.files = {e.path().string()};
    o.working_dir = dir.string();
    auto r = load_project(o);
    EXPECT_TRUE(r) << e.path() << ": " << (r ? "" : r.error().message());
    if (r) {
      EXPECT_FALSE(r->project.services.empty()) << e.path();
      EXPECT_EQ(to_json(*project_from_json(to_json(r->project))), to_json(r->project));
    }
    ++n;
  }
  if (n == 0) GTEST_SKIP() << "no example files yet";
}

}  // namespace
}  // namespace stack::compose

namespace {

TEST(ComposePlacement, MaxReplicasPerNodeAndSpreadPreferencesAreReadAndChecked) {
  auto r = stack::compose::cz::load_yaml(R"(services:
  a:
    image: x
    deploy:
      placement:
        max_replicas_per_node: 2
        preferences: [{spread: node.labels.zone}, {spread: node.labels.rack}]
)");
  ASSERT_TRUE(r) << r.error().message();
  const auto& d = r->project.services.at("a").deploy;
  EXPECT_EQ(d.max_replicas_per_node, 2);
  EXPECT_EQ(d.placement_spread, (std::vector<std::string>{"zone", "rack"}));
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  a:
    image: x
    deploy:
      placement:
        max_replicas_per_node: -1
)"),
            "stack.yaml:6:32: services.a.deploy.placement.max_replicas_per_node: must be 0 (no limit) or more (got -1)");
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  a:
    image: x
    deploy:
      placement:
        preferences: [{spread: node.hostname}]
)"),
            "stack.yaml:6:32: services.a.deploy.placement.preferences[0].spread: \"node.hostname\" is not node.labels.KEY");
}

TEST(ComposeLoader, DeployModesAndWhatEachTakes) {
  auto r = stack::compose::cz::load_yaml(R"(services:
  agent:
    image: x
    deploy: {mode: global}
  migrate:
    image: x
    deploy: {mode: replicated-job, replicas: 3}
  once:
    image: x
    restart: "no"
    deploy: {mode: global-job}
)");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.services.at("agent").deploy.mode, "global");
  EXPECT_EQ(r->project.services.at("migrate").replicas, 3);
  EXPECT_EQ(r->project.services.at("migrate").restart, "on-failure") << "a job restarts on failure by default";
  EXPECT_EQ(r->project.services.at("once").restart, "no");
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  agent:
    image: x
    deploy:
      mode: global
      replicas: 2
)"),
            "stack.yaml:6:17: services.agent.deploy.replicas: replicas can only be used with mode replicated or "
            "replicated-job (deploy.mode is global)");
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  agent:
    image: x
    scale: 2
    deploy: {mode: global-job}
)"),
            "stack.yaml:4:12: services.agent.scale: replicas can only be used with mode replicated or "
            "replicated-job (deploy.mode is global-job)");
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  job:
    image: x
    restart: always
    deploy: {mode: replicated-job}
)"),
            "stack.yaml:4:14: services.job.restart: a job (deploy.mode replicated-job) cannot restart always: use "
            "on-failure or no");
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  job:
    image: x
    deploy:
      mode: replicated-job
      restart_policy: {condition: any}
)"),
            "stack.yaml:6:35: services.job.deploy.restart_policy.condition: a job (deploy.mode replicated-job) cannot "
            "restart on any exit: use on-failure or none");
  EXPECT_EQ(stack::compose::cz::load_error(R"(services:
  job:
    image: x
    deploy: {mode: daemonset}
)"),
            "stack.yaml:4:20: services.job.deploy.mode: \"daemonset\" is not replicated, global, replicated-job or "
            "global-job");
}

}  // namespace
