// The typed task spec (compose/task_spec.h): restart policies, stop signals,
// dependency conditions, update/rollback config and device requests are
// parsed once, by one parser each; a bad value is a load error at its
// file:line naming the field, and a Service that did not come through the
// loader (the JSON stackd receives) meets the same parsers. The replica count
// is kept once.
#include <csignal>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "compose_test_util.h"
#include "orchestrator/compose/logging.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/task_spec.h"

namespace stack::compose {
namespace {

using cz::load_error;
using cz::load_yaml;

std::string service_a(const std::string& lines) { return "services:\n  a:\n    image: x\n" + lines; }

TEST(ComposeTypedFields, AnUnknownStopSignalIsALoadErrorAtItsLine) {
  EXPECT_EQ(load_error(service_a("    stop_signal: SIGFOO\n")),
            "stack.yaml:4:18: services.a.stop_signal: unknown signal \"SIGFOO\" (a name such as SIGTERM or TERM, "
            "or a number)");
  std::string out_of_range = load_error(service_a("    stop_signal: \"99\"\n"));
  EXPECT_EQ(out_of_range.rfind("stack.yaml:4:18: services.a.stop_signal: ", 0), 0u) << out_of_range;
  for (const char* ok : {"SIGINT", "TERM", "sigquit", "\"9\""}) {
    auto r = load_yaml(service_a(std::string("    stop_signal: ") + ok + "\n"));
    ASSERT_TRUE(r) << ok << ": " << r.error().message();
    auto t = task_spec(r->project.services.at("a"));
    ASSERT_TRUE(t) << t.error().message();
  }
  auto r = load_yaml(service_a("    stop_signal: INT\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(task_spec(r->project.services.at("a"))->stop_signal_number, 2);
  EXPECT_EQ(task_spec(r->project.services.at("a"))->stop_signal, "INT");  // as written
}

TEST(ComposeTypedFields, CpuSharesAndCpusetAreCheckedWhereTheyAreWritten) {
  EXPECT_EQ(load_error(service_a("    cpuset: \"0-\"\n")),
            "stack.yaml:4:13: services.a.cpuset: expected CPU numbers and ranges such as \"0-2,4\" (got \"0-\")");
  EXPECT_NE(load_error(service_a("    cpuset: \"3-1\"\n")).find("stack.yaml:4:13: services.a.cpuset: "), std::string::npos);
  EXPECT_EQ(load_error(service_a("    cpu_shares: 1\n")),
            "stack.yaml:4:17: services.a.cpu_shares: must be 0 or 2..262144 (got 1)");
  auto r = load_yaml(service_a("    cpu_shares: 512\n    cpuset: \"0-1,3\"\n"));
  ASSERT_TRUE(r) << r.error().message();
  const Service& a = r->project.services.at("a");
  EXPECT_EQ(a.cpu_shares, std::optional<int64_t>(512));
  EXPECT_EQ(a.cpuset, "0-1,3");
  EXPECT_TRUE(r->warnings.empty()) << "no longer an ignored field: " << r->warnings.front().to_string();
}

// The cgroup tuning fields (compose/resources.h): Docker's ranges and
// cross-field rules, each an error at its line; valid values land in
// Service::tuning and are no longer warned about.
TEST(ComposeTypedFields, TuningFieldsAreCheckedAsDockerChecksThem) {
  EXPECT_EQ(load_error(service_a("    mem_swappiness: 101\n")),
            "stack.yaml:4:21: services.a.mem_swappiness: must be 0..100 (got 101)");
  EXPECT_EQ(load_error(service_a("    cpu_period: 500\n")),
            "stack.yaml:4:17: services.a.cpu_period: must be 1000..1000000 (got 500)");
  EXPECT_EQ(load_error(service_a("    memswap_limit: 1g\n")),
            "stack.yaml:4:20: services.a.memswap_limit: needs mem_limit too (it is memory plus swap)");
  EXPECT_EQ(load_error(service_a("    mem_limit: 1g\n    memswap_limit: 512m\n")),
            "stack.yaml:5:20: services.a.memswap_limit: must be at least mem_limit (it is memory plus swap)");
  EXPECT_EQ(load_error(service_a("    mem_limit: 64m\n    mem_reservation: 1g\n")),
            "stack.yaml:5:22: services.a.mem_reservation: must not be above mem_limit");
  EXPECT_EQ(load_error(service_a("    cpus: 0.5\n    cpu_quota: 50000\n")),
            "stack.yaml:5:16: services.a.cpu_quota: cannot be combined with cpus (Docker refuses both: cpus sets the "
            "period and quota)");
  EXPECT_EQ(load_error(service_a("    device_cgroup_rules: [\"c 1:3 mrx\"]\n")),
            "stack.yaml:4:27: services.a.device_cgroup_rules[0]: invalid rule \"c 1:3 mrx\": expected TYPE "
            "MAJOR:MINOR ACCESS, e.g. \"c 1:3 mr\" (TYPE a, b or c; * for any number)");
  EXPECT_EQ(load_error(service_a("    blkio_config:\n      weight: 5\n")),
            "stack.yaml:5:15: services.a.blkio_config.weight: must be 10..1000 (got 5)");
  EXPECT_EQ(load_error(service_a("    blkio_config:\n      device_read_bps: [{rate: 1mb}]\n")),
            "stack.yaml:5:25: services.a.blkio_config.device_read_bps[0].path: a host device path is required");
  auto r = load_yaml(service_a("    mem_limit: 64m\n    mem_reservation: 32m\n    memswap_limit: -1\n"
                               "    mem_swappiness: 0\n    oom_kill_disable: true\n    cpu_period: 50000\n"
                               "    cpu_quota: 25000\n    device_cgroup_rules: [\"c 1:3 mr\", \"b *:* m\"]\n"
                               "    blkio_config:\n      weight: 300\n"
                               "      device_read_bps: [{path: /dev/vda, rate: 1mb}]\n"
                               "      device_write_iops: [{path: /dev/vda, rate: 100}]\n"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front().to_string();
  const ResourceTuning& t = r->project.services.at("a").tuning;
  EXPECT_EQ(t.mem_reservation, std::optional<uint64_t>(32u << 20));
  EXPECT_EQ(t.memswap_limit, std::optional<int64_t>(-1));
  EXPECT_EQ(t.mem_swappiness, std::optional<int64_t>(0));
  EXPECT_TRUE(t.oom_kill_disable);
  EXPECT_EQ(t.cpu_period, std::optional<int64_t>(50000));
  EXPECT_EQ(t.cpu_quota, std::optional<int64_t>(25000));
  EXPECT_EQ(t.device_cgroup_rules.size(), 2u);
  ASSERT_TRUE(t.blkio);
  EXPECT_EQ(t.blkio->weight, std::optional<uint16_t>(300));
  ASSERT_EQ(t.blkio->device_read_bps.size(), 1u);
  EXPECT_EQ(t.blkio->device_read_bps[0].rate, 1u << 20);
  EXPECT_EQ(t.blkio->device_write_iops[0].rate, 100u);

  // cgroup_parent and the real-time fields.
  auto placed = load_yaml(service_a("    cgroup_parent: machine//team.slice/\n    cpu_rt_runtime: 950ms\n"
                                    "    cpu_rt_period: 1000000\n"));
  ASSERT_TRUE(placed) << placed.error().message();
  EXPECT_TRUE(placed->warnings.empty()) << placed->warnings.front().to_string();
  const ResourceTuning& pt = placed->project.services.at("a").tuning;
  EXPECT_EQ(pt.cgroup_parent, "/machine/team.slice");
  EXPECT_EQ(pt.cpu_rt_runtime, std::optional<int64_t>(950000));
  EXPECT_EQ(pt.cpu_rt_period, std::optional<int64_t>(1000000));
  EXPECT_EQ(load_error(service_a("    cgroup_parent: ../escape\n")),
            "stack.yaml:4:20: services.a.cgroup_parent: \"../escape\" is not a cgroup path (names of [A-Za-z0-9._-] "
            "joined by /)");
  EXPECT_EQ(load_error(service_a("    cgroup_parent: /\n")),
            "stack.yaml:4:20: services.a.cgroup_parent: the root cgroup is shared by every process: name one below it");
  EXPECT_EQ(load_error(service_a("    cpu_rt_runtime: 2000000\n")),
            "stack.yaml:4:21: services.a.cpu_rt_runtime: must be 0..1000000 microseconds (got 2000000)");
  EXPECT_EQ(load_error(service_a("    cpu_rt_runtime: 60000\n    cpu_rt_period: 50000\n")),
            "stack.yaml:4:21: services.a.cpu_rt_runtime: must not be above cpu_rt_period (50000 us)");
}

// logging: the three drivers stack keeps, their options checked, and what
// the shim is told (logging.h).
TEST(ComposeTypedFields, LoggingDriversAndOptions) {
  EXPECT_EQ(load_error(service_a("    logging:\n      options: {max-size: 1k}\n")),
            "stack.yaml:5:27: services.a.logging.options.max-size: must be at least 4k (got 1k)");
  EXPECT_EQ(load_error(service_a("    logging:\n      options: {max-file: \"0\"}\n")),
            "stack.yaml:5:27: services.a.logging.options.max-file: must be 1..100 (got 0)");
  auto r = load_yaml(service_a("    logging:\n      driver: json-file\n      options: {max-size: 10k, max-file: \"2\", "
                               "compress: \"true\", tag: x}\n"));
  ASSERT_TRUE(r) << r.error().message();
  const Logging& l = r->project.services.at("a").logging;
  EXPECT_EQ(l.options, (std::map<std::string, std::string>{{"compress", "true"}, {"max-file", "2"}, {"max-size", "10k"}}));
  EXPECT_FALSE(cz::has_warning(*r, "services.a.logging.options.compress")) << "applied: rotated files gzipped";
  EXPECT_TRUE(cz::has_warning(*r, "services.a.logging.options.tag"));
  LogSettings s = log_settings(l);
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.max_size, std::optional<uint64_t>(10240));
  EXPECT_EQ(s.max_files, std::optional<unsigned>(2));

  auto local = load_yaml(service_a("    logging: {driver: local}\n"));
  ASSERT_TRUE(local) << local.error().message();
  s = log_settings(local->project.services.at("a").logging);
  EXPECT_EQ(s.max_size, std::optional<uint64_t>(20u << 20)) << "Docker's local defaults";
  EXPECT_EQ(s.max_files, std::optional<unsigned>(5));
  auto none = load_yaml(service_a("    logging: {driver: none}\n"));
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(log_settings(none->project.services.at("a").logging).enabled);
  // Unset: the shim's own defaults (10 MiB x 3).
  s = log_settings(Logging{});
  EXPECT_TRUE(s.enabled && !s.max_size && !s.max_files);
}

// Namespace modes, group_add, annotations, label_file (isolation.h).
TEST(ComposeTypedFields, NamespaceModesGroupsAnnotationsAndLabelFiles) {
  EXPECT_EQ(load_error(service_a("    pid: shared\n")),
            "stack.yaml:4:10: services.a.pid: invalid mode \"shared\" (host, service:NAME, container:NAME)");
  EXPECT_EQ(load_error(service_a("    uts: private\n")), "stack.yaml:4:10: services.a.uts: invalid mode \"private\" (host)");
  // Joins: a service of the file (then a dependency), or container:NAME.
  auto joined = load_yaml(service_a("    ipc: service:db\n    pid: container:logs\n    network_mode: service:db\n"
                                    "  db: {image: x}\n  logger: {image: x, container_name: logs}\n"));
  ASSERT_TRUE(joined) << joined.error().message();
  EXPECT_FALSE(cz::has_warning(*joined, "services.a.ipc")) << "applied, not warned";
  const Service& ja = joined->project.services.at("a");
  EXPECT_EQ(ja.ipc, "service:db");
  EXPECT_EQ(ja.pid, "container:logs");
  EXPECT_EQ(ja.depends_on.count("db"), 1u);
  EXPECT_EQ(ja.depends_on.count("logger"), 1u) << "container:NAME of a container_name in the file";
  EXPECT_EQ(load_error(service_a("    pid: service:ghost\n")),
            "stack.yaml:4:5: services.a.pid: service \"ghost\" is not defined");
  EXPECT_EQ(load_error(service_a("    ipc: service:a\n")),
            "stack.yaml:4:5: services.a.ipc: a service cannot join its own namespace");
  EXPECT_EQ(load_error(service_a("    network_mode: service:db\n    ports: [\"80:80\"]\n  db: {image: x}\n")),
            "stack.yaml:5:5: services.a.ports: ports cannot be published with network_mode service:db: the replica "
            "has that one's network");

  test::TempDir dir;
  cz::write_file(dir.path() + "/app.labels", "tier=front\nteam=shop\n");
  LoadOptions o;
  o.working_dir = dir.path();
  auto r = load_yaml(service_a("    pid: host\n    ipc: shareable\n    uts: host\n    cgroup: private\n"
                               "    userns_mode: host\n    group_add: [audio, \"1234\"]\n"
                               "    annotations: {com.example.a: \"1\"}\n    label_file: ./app.labels\n"
                               "    labels: {team: payments}\n"),
                     o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front().to_string();
  const Service& a = r->project.services.at("a");
  EXPECT_EQ(a.pid, "host");
  EXPECT_EQ(a.ipc, "shareable");
  EXPECT_EQ(a.uts, "host");
  EXPECT_EQ(a.cgroup, "private");
  EXPECT_EQ(a.group_add, (std::vector<std::string>{"audio", "1234"}));
  EXPECT_EQ(a.annotations.at("com.example.a"), "1");
  EXPECT_EQ(a.labels.at("tier"), "front") << "from the label file";
  EXPECT_EQ(a.labels.at("team"), "payments") << "labels: wins";
  EXPECT_EQ(load_error(service_a("    label_file: ./missing.labels\n"), o),
            "stack.yaml:4:17: services.a.label_file: env file " + dir.path() + "/missing.labels not found");
}

// mac_address: service-level (the first network's) and per network; Docker's
// rules refused where written.
TEST(ComposeTypedFields, MacAddresses) {
  auto r = load_yaml(service_a("    mac_address: 02:42:AC:11:00:02\n"
                               "    networks:\n      front: {mac_address: \"02:42:ac:11:00:02\"}\n"
                               "networks: {front: {}}\n"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(cz::has_warning(*r, "services.a.mac_address")) << "applied, not warned";
  EXPECT_EQ(r->project.services.at("a").mac_address, "02:42:ac:11:00:02") << "lower case";
  EXPECT_EQ(r->project.services.at("a").networks.at("front").mac_address, "02:42:ac:11:00:02");
  EXPECT_EQ(load_error(service_a("    mac_address: 02:42:ac:11:00\n")),
            "stack.yaml:4:18: services.a.mac_address: \"02:42:ac:11:00\" is not a MAC address (six hex pairs: "
            "02:42:ac:11:00:02)");
  EXPECT_EQ(load_error(service_a("    mac_address: 01:00:5e:00:00:01\n")),
            "stack.yaml:4:18: services.a.mac_address: \"01:00:5e:00:00:01\" is a multicast address: the first byte "
            "must be even");
  EXPECT_EQ(load_error(service_a("    mac_address: 02:42:ac:11:00:02\n    network_mode: host\n")),
            "stack.yaml:4:5: services.a.mac_address: a MAC address needs a network of the service's own "
            "(network_mode is \"host\")");
  EXPECT_EQ(load_error(service_a("    mac_address: 02:42:ac:11:00:02\n    deploy: {replicas: 2}\n")),
            "stack.yaml:4:5: services.a.mac_address: MAC address 02:42:ac:11:00:02 cannot be used with 2 replicas "
            "(each would have it)");
  EXPECT_EQ(load_error(service_a("    mac_address: 02:42:ac:11:00:02\n"
                                 "    networks:\n      front: {mac_address: \"02:42:ac:11:00:03\"}\n"
                                 "networks: {front: {}}\n")),
            "stack.yaml:6:15: services.a.networks.front.mac_address: differs from services.a.mac_address "
            "(02:42:ac:11:00:02), which is this first network's");
  auto second = load_yaml(service_a("    mac_address: 02:42:ac:11:00:02\n"
                                    "    networks:\n      front: {priority: 5}\n"
                                    "      back: {mac_address: \"02:42:ac:11:00:03\"}\n"
                                    "networks: {front: {}, back: {}}\n"));
  ASSERT_TRUE(second) << "the service's address is front's (higher priority): " << second.error().message();
  EXPECT_EQ(ordered_networks(second->project.services.at("a")), (std::vector<std::string>{"front", "back"}));
}

// links: SERVICE or SERVICE:ALIAS, each a dependency as Compose makes it;
// a missing target refused at the field.
TEST(ComposeTypedFields, LinksAreAliasesAndDependencies) {
  auto r = load_yaml("services:\n  a:\n    image: x\n    links: [db, \"cache:memo\"]\n"
                     "  db: {image: x}\n  cache: {image: x}\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(cz::has_warning(*r, "services.a.links")) << "applied, not warned";
  const Service& a = r->project.services.at("a");
  EXPECT_EQ(a.links, (std::vector<std::string>{"db", "cache:memo"}));
  EXPECT_EQ(a.depends_on.count("db"), 1u);
  EXPECT_EQ(a.depends_on.at("cache").condition, "service_started");
  EXPECT_EQ(split_link("cache:memo"), (std::pair<std::string, std::string>{"cache", "memo"}));
  EXPECT_EQ(split_link("db"), (std::pair<std::string, std::string>{"db", "db"}));
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    links: [ghost]\n"),
            "stack.yaml:4:5: services.a.links: service \"ghost\" is not defined");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    links: [\"db:\"]\n  db: {image: x}\n"),
            "stack.yaml:4:13: services.a.links[0]: \"db:\" is not SERVICE or SERVICE:ALIAS");
}

// volumes_from: [service:]NAME[:ro|rw] (a dependency) or container:NAME of
// a container_name in the file; anything else refused where written.
TEST(ComposeTypedFields, VolumesFrom) {
  auto r = load_yaml("services:\n  a:\n    image: x\n    volumes_from: [db, \"service:cache:ro\", \"container:logs:rw\"]\n"
                     "  db: {image: x}\n  cache: {image: x}\n  logger: {image: x, container_name: logs}\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(cz::has_warning(*r, "services.a.volumes_from")) << "applied, not warned";
  const Service& a = r->project.services.at("a");
  EXPECT_EQ(a.depends_on.count("db"), 1u);
  EXPECT_EQ(a.depends_on.count("cache"), 1u);
  auto f = parse_volumes_from("service:cache:ro");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "cache");
  EXPECT_FALSE(f->container);
  EXPECT_EQ(f->read_only, true);
  EXPECT_EQ(parse_volumes_from("container:logs")->container, true);
  EXPECT_FALSE(parse_volumes_from("db")->read_only.has_value());
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    volumes_from: [\"db:rx\"]\n  db: {image: x}\n"),
            "stack.yaml:4:20: services.a.volumes_from[0]: \"db:rx\": the mode is ro or rw, not \"rx\"");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    volumes_from: [ghost]\n"),
            "stack.yaml:4:5: services.a.volumes_from: service \"ghost\" is not defined");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\n    volumes_from: [\"container:other-db-1\"]\n"),
            "stack.yaml:4:5: services.a.volumes_from: container \"other-db-1\": stack shares the volumes of a "
            "container_name of this file only (or name its service)");
}

// post_start / pre_stop (hooks.h): both command forms, user, environment
// in both forms, and a hook without a command refused at its line.
TEST(ComposeTypedFields, LifecycleHooks) {
  EXPECT_EQ(load_error(service_a("    post_start:\n      - user: root\n")),
            "stack.yaml:5:9: services.a.post_start[0]: missing required property \"command\"");
  EXPECT_EQ(load_error(service_a("    post_start:\n      - command: []\n")),
            "stack.yaml:5:9: services.a.post_start[0].command: a hook needs a command");
  auto r = load_yaml(service_a("    post_start:\n      - command: ./init.sh --fast\n        user: www\n"
                               "        environment: {A: \"1\"}\n        privileged: true\n"
                               "    pre_stop:\n      - command: [sh, -c, drain]\n        environment: [B=2]\n"
                               "        working_dir: /app\n"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front().to_string();
  const Service& a = r->project.services.at("a");
  ASSERT_EQ(a.post_start.size(), 1u);
  EXPECT_EQ(a.post_start[0].command, (std::vector<std::string>{"./init.sh", "--fast"}));
  EXPECT_EQ(a.post_start[0].user, "www");
  EXPECT_TRUE(a.post_start[0].privileged);
  EXPECT_EQ(a.post_start[0].environment.at("A"), "1");
  ASSERT_EQ(a.pre_stop.size(), 1u);
  EXPECT_EQ(a.pre_stop[0].command, (std::vector<std::string>{"sh", "-c", "drain"}));
  EXPECT_EQ(a.pre_stop[0].environment.at("B"), "2");
  EXPECT_EQ(a.pre_stop[0].working_dir, "/app");
}

TEST(ComposeTypedFields, AnUnknownRestartPolicyIsALoadErrorAtItsLine) {
  EXPECT_EQ(load_error(service_a("    restart: sometimes\n")),
            "stack.yaml:4:14: services.a.restart: invalid restart policy \"sometimes\" (no, always, on-failure[:N], "
            "unless-stopped)");
  EXPECT_NE(load_error(service_a("    restart: on-failure:x\n")).find("stack.yaml:4:14: services.a.restart: "),
            std::string::npos);
  auto r = load_yaml(service_a("    restart: on-failure:3\n"));
  ASSERT_TRUE(r) << r.error().message();
  auto t = task_spec(r->project.services.at("a"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->restart.mode, RestartMode::OnFailure);
  EXPECT_EQ(t->restart.max_attempts, 3);
}

TEST(ComposeTypedFields, AnUnknownDependencyConditionIsALoadErrorAtItsLine) {
  std::string e = load_error(
      "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: whenever}\n  b:\n    image: y\n");
  EXPECT_EQ(e.rfind("stack.yaml:5:", 0), 0u) << e;
  EXPECT_NE(e.find("services.a.depends_on.b.condition"), std::string::npos) << e;
  EXPECT_NE(e.find("whenever"), std::string::npos) << e;
}

TEST(ComposeTypedFields, DeployPoliciesAreCheckedWhereTheyAreWritten) {
  struct Case {
    const char* deploy;
    const char* field;
    const char* why;
  };
  for (const Case& c : {
           Case{"{restart_policy: {condition: sometimes}}", "services.a.deploy.restart_policy.condition",
                "\"sometimes\" is not none, on-failure or any"},
           Case{"{update_config: {failure_action: explode}}", "services.a.deploy.update_config.failure_action",
                "\"explode\" is not continue, pause or rollback"},
           Case{"{update_config: {parallelism: -1}}", "services.a.deploy.update_config.parallelism",
                "must not be negative (got -1)"},
           Case{"{update_config: {max_failure_ratio: 2}}", "services.a.deploy.update_config.max_failure_ratio",
                "must be between 0 and 1 (got 2)"},
           Case{"{rollback_config: {failure_action: explode}}", "services.a.deploy.rollback_config.failure_action",
                "\"explode\" is not continue, pause or rollback"},
           Case{"{resources: {reservations: {devices: [{capabilities: [gpu], count: -2}]}}}",
                "services.a.deploy.resources.reservations.devices[0].count",
                "must be a number of devices, or all (got -2)"},
       }) {
    std::string e = load_error(service_a(std::string("    deploy: ") + c.deploy + "\n"));
    EXPECT_EQ(e.rfind("stack.yaml:4:", 0), 0u) << c.deploy << ": " << e;
    EXPECT_NE(e.find(std::string(c.field) + ": " + c.why), std::string::npos) << c.deploy << ": " << e;
  }
}

TEST(ComposeTypedFields, TheTaskSpecHoldsEveryPolicyParsed) {
  auto r = load_yaml(R"(
services:
  db:
    image: postgres
  web:
    image: nginx
    restart: always
    stop_signal: SIGQUIT
    stop_grace_period: 3s
    depends_on:
      db: {condition: service_healthy, restart: true}
    deploy:
      replicas: 2
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 4, window: 1m}
      update_config: {parallelism: 2, failure_action: rollback, order: start-first, max_failure_ratio: 0.5}
      rollback_config: {parallelism: 0, monitor: 0s, delay: 2s}
      resources:
        reservations:
          cpus: "0.5"
          memory: 64m
          devices: [{capabilities: [gpu], count: 2}, {capabilities: [gpu], device_ids: ["0", "1", "2"]}]
      placement: {constraints: ["node.labels.disk==ssd"]}
)");
  ASSERT_TRUE(r) << r.error().message();
  auto t = task_spec(r->project.services.at("web"));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->replicas, 2);
  EXPECT_EQ(t->restart.mode, RestartMode::OnFailure);  // deploy.restart_policy wins over restart
  EXPECT_EQ(t->restart.delay, 5000);
  EXPECT_EQ(t->restart.max_attempts, 4);
  EXPECT_EQ(t->restart.window, 60000);
  EXPECT_EQ(t->stop_signal_number, SIGQUIT);
  EXPECT_EQ(t->stop_grace, 3000);
  ASSERT_EQ(t->depends_on.size(), 1u);
  EXPECT_EQ(t->depends_on[0].service, "db");
  EXPECT_EQ(t->depends_on[0].condition, DependencyCondition::Healthy);
  EXPECT_TRUE(t->depends_on[0].restart);
  ASSERT_TRUE(t->update_config);
  EXPECT_EQ(t->update_config->parallelism, 2);
  EXPECT_EQ(t->update_config->failure_action, FailureAction::Rollback);
  EXPECT_EQ(t->update_config->order, UpdateOrder::StartFirst);
  EXPECT_EQ(t->update_config->max_failure_ratio, 0.5);
  EXPECT_EQ(t->update_config->monitor, 5000);  // unset: Swarm's 5s
  EXPECT_EQ(t->rollback_config.parallelism, 0);
  EXPECT_EQ(t->rollback_config.monitor, 0);    // set to 0: 0
  EXPECT_EQ(t->rollback_config.delay, 2000);
  EXPECT_EQ(t->rollback_config.failure_action, FailureAction::Pause);
  EXPECT_EQ(t->reserved_cpus, 0.5);
  EXPECT_EQ(t->reserved_memory, 64u << 20);
  EXPECT_EQ(t->gpus, 5);
  EXPECT_EQ(t->constraints, (std::vector<std::string>{"node.labels.disk==ssd"}));
}

// stackd receives the model as JSON, not YAML: the same parsers check it,
// and the error names the field.
TEST(ComposeTypedFields, AServiceFromElsewhereMeetsTheSameParsers) {
  Service s;
  s.name = "w";
  s.image = "x";
  ASSERT_TRUE(task_spec(s));
  Service bad = s;
  bad.stop_signal = "SIGFOO";
  EXPECT_EQ(task_spec(bad).error().context,
            "services.w.stop_signal: unknown signal \"SIGFOO\" (a name such as SIGTERM or TERM, or a number)");
  bad = s;
  bad.depends_on["db"].condition = "whenever";
  EXPECT_EQ(task_spec(bad).error().context,
            "services.w.depends_on.db.condition: \"whenever\" is not service_started, service_healthy or "
            "service_completed_successfully");
  bad = s;
  bad.deploy.update_config = UpdateConfig{};
  bad.deploy.update_config->order = "sideways";
  EXPECT_EQ(task_spec(bad).error().context,
            "services.w.deploy.update_config: order: \"sideways\" is not stop-first or start-first");
  bad = s;
  bad.deploy.restart_policy = RestartPolicy{};
  bad.deploy.restart_policy->condition = "sometimes";
  EXPECT_EQ(task_spec(bad).error().context,
            "services.w.deploy.restart_policy.condition: \"sometimes\" is not none, on-failure or any");
}

TEST(ComposeTypedFields, TheReplicaCountIsKeptOnce) {
  auto r = load_yaml(service_a("    scale: 2\n    deploy: {replicas: 3}\n"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.services.at("a").replicas, 3);
  auto j = nlohmann::json::parse(to_json(r->project));
  EXPECT_EQ(j["services"]["a"]["replicas"], 3);
  // Written null for a stackd or CLI of the version before, which requires
  // the key; never read: what they stored or send is ignored.
  EXPECT_TRUE(j["services"]["a"]["deploy"]["replicas"].is_null());
  j["services"]["a"]["deploy"]["replicas"] = 3;
  auto back = project_from_json(j.dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->services.at("a").replicas, 3);
}

}  // namespace
}  // namespace stack::compose
