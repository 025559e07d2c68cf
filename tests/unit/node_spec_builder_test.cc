// The replica spec builder (orchestrator/daemon/node/spec_builder.h): Docker's
// rules for command, env, user, working dir, capabilities, security options,
// resources and mounts, and errors that name the service and field. Every
// result is also checked to parse as a valid OCI spec.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "orchestrator/daemon/node/spec_builder.h"
#include "orchestrator/daemon/node/node_record.h"
#include "runtime/container/default_spec.h"

using namespace stack::orch;
namespace rt = stack::rt;

namespace {

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# comment\n"
    "www:x:33:33:www:/var/www:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n";
const char* kGroup = "root:x:0:\nwww:x:33:\napp:x:1000:\nstaff:x:50:app,www\naudio:x:29:app\n";

ReplicaPlan plan() {
  ReplicaPlan p;
  p.id = "demo-web-1-abcdef";
  p.name = "demo-web-1";
  p.stack = "demo";
  p.service.name = "web";
  p.service.image = "app:1";
  p.project_dir = "/srv/project";
  return p;
}

stack::img::ImageConfig image() {
  stack::img::ImageConfig c;
  c.entrypoint = {"/entry.sh"};
  c.cmd = {"serve", "--port", "80"};
  c.env = {"PATH=/opt/bin:/bin", "MODE=image", "KEEP=1"};
  c.working_dir = "/app";
  return c;
}

SpecContext ctx() {
  SpecContext c;
  c.rootfs = "/var/lib/stack/containers/x/rootfs";
  c.etc_dir = "/var/lib/stack/containers/x";
  c.netns_path = "/run/stack/netns/x";
  c.passwd = kPasswd;
  c.group = kGroup;
  return c;
}

BuiltSpec build(const ReplicaPlan& p, const stack::img::ImageConfig& i = image(), const SpecContext& c = ctx()) {
  auto r = build_spec(p, i, c);
  EXPECT_TRUE(r) << r.error().message();
  if (!r) return {};
  // What the runtime will parse.
  auto parsed = rt::parse_spec(rt::spec_to_json(r->spec));
  EXPECT_TRUE(parsed) << parsed.error().message();
  return *r;
}

std::string error_of(const ReplicaPlan& p, const SpecContext& c = ctx()) {
  auto r = build_spec(p, image(), c);
  EXPECT_FALSE(r);
  return r ? "" : r.error().message();
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

const rt::Mount* mount_at(const rt::Spec& s, const std::string& dest) {
  for (auto& m : s.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

TEST(NodeSpecBuilder, ImageEntrypointAndCmdWhenTheServiceSetsNeither) {
  EXPECT_EQ(build(plan()).spec.process.args, (std::vector<std::string>{"/entry.sh", "serve", "--port", "80"}));
}

TEST(NodeSpecBuilder, CommandReplacesCmdOnly) {
  auto p = plan();
  p.service.command = std::vector<std::string>{"migrate"};
  EXPECT_EQ(build(p).spec.process.args, (std::vector<std::string>{"/entry.sh", "migrate"}));
}

TEST(NodeSpecBuilder, EntrypointDropsTheImageCmd) {
  auto p = plan();
  p.service.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  EXPECT_EQ(build(p).spec.process.args, (std::vector<std::string>{"/bin/sh", "-c"}));
  p.service.command = std::vector<std::string>{"echo hi"};
  EXPECT_EQ(build(p).spec.process.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
}

TEST(NodeSpecBuilder, NothingToRunIsAnErrorNamingTheService) {
  auto p = plan();
  p.service.entrypoint = std::vector<std::string>{};
  EXPECT_NE(error_of(p).find("service web: no command"), std::string::npos);
}

TEST(NodeSpecBuilder, EnvironmentMergesImageThenServiceAndKeepsOrder) {
  auto p = plan();
  p.service.environment = {{"MODE", "service"}, {"EXTRA", "a=b"}};
  auto env = build(p).spec.process.env;
  EXPECT_EQ(env[0], "PATH=/opt/bin:/bin");  // the image's PATH replaces the default in place
  EXPECT_EQ(env[1], "HOSTNAME=demo-web-1");
  EXPECT_TRUE(has(env, "MODE=service"));
  EXPECT_FALSE(has(env, "MODE=image"));
  EXPECT_TRUE(has(env, "KEEP=1"));
  EXPECT_TRUE(has(env, "EXTRA=a=b"));
  EXPECT_TRUE(has(env, "HOME=/root"));
  EXPECT_FALSE(has(env, "TERM=xterm"));  // only with tty, as Docker
}

TEST(NodeSpecBuilder, UserByNameNumberAndGroup) {
  auto p = plan();
  p.service.user = "app";
  auto s = build(p).spec;
  EXPECT_EQ(s.process.user.uid, 1000u);
  EXPECT_EQ(s.process.user.gid, 1000u);
  EXPECT_EQ(s.process.user.additional_gids, (std::vector<uint32_t>{50, 29}));
  EXPECT_TRUE(has(s.process.env, "HOME=/home/app"));

  p.service.user = "33:staff";
  s = build(p).spec;
  EXPECT_EQ(s.process.user.uid, 33u);
  EXPECT_EQ(s.process.user.gid, 50u);
  EXPECT_TRUE(s.process.user.additional_gids.empty());

  p.service.user = "4242";  // a number need not exist in passwd
  s = build(p).spec;
  EXPECT_EQ(s.process.user.uid, 4242u);
  EXPECT_EQ(s.process.user.gid, 0u);
  EXPECT_TRUE(has(s.process.env, "HOME=/"));
}

TEST(NodeSpecBuilder, ImageUserIsTheDefaultAndUnknownNamesFail) {
  auto i = image();
  i.user = "www";
  auto s = build(plan(), i).spec;
  EXPECT_EQ(s.process.user.uid, 33u);
  auto p = plan();
  p.service.user = "nobody";
  EXPECT_NE(error_of(p).find("unable to find user nobody"), std::string::npos);
  p.service.user = "app:wheel";
  EXPECT_NE(error_of(p).find("unable to find group wheel"), std::string::npos);
}

TEST(NodeSpecBuilder, WorkingDirHostnameAndReadOnlyRoot) {
  auto p = plan();
  auto s = build(p).spec;
  EXPECT_EQ(s.process.cwd, "/app");
  EXPECT_EQ(s.hostname, "demo-web-1");
  EXPECT_FALSE(s.root.readonly);
  EXPECT_EQ(s.root.path, ctx().rootfs);
  p.service.working_dir = "/srv";
  p.service.hostname = "web";
  p.service.domainname = "example.org";
  p.service.read_only = true;
  s = build(p).spec;
  EXPECT_EQ(s.process.cwd, "/srv");
  EXPECT_EQ(s.hostname, "web");
  EXPECT_EQ(s.domainname, "example.org");
  EXPECT_TRUE(s.root.readonly);
  p.service.working_dir = "srv";
  EXPECT_NE(error_of(p).find("must be an absolute path"), std::string::npos);
}

TEST(NodeSpecBuilder, CapabilitiesAddDropAndAll) {
  auto p = plan();
  p.service.cap_add = {"NET_ADMIN", "cap_sys_time"};
  p.service.cap_drop = {"CHOWN"};
  auto caps = build(p).spec.process.capabilities->bounding;
  EXPECT_TRUE(has(caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(has(caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(has(caps, "CAP_CHOWN"));
  EXPECT_TRUE(has(caps, "CAP_KILL"));

  p.service.cap_add = {"NET_BIND_SERVICE"};
  p.service.cap_drop = {"ALL"};
  EXPECT_EQ(build(p).spec.process.capabilities->bounding, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));

  p.service.cap_add = {"ALL"};
  p.service.cap_drop = {"SYS_ADMIN"};
  caps = build(p).spec.process.capabilities->effective;
  EXPECT_TRUE(has(caps, "CAP_SYS_MODULE"));
  EXPECT_FALSE(has(caps, "CAP_SYS_ADMIN"));

  p.service.cap_add = {"FLY"};
  EXPECT_NE(error_of(p).find("cap_add: unknown capability \"CAP_FLY\""), std::string::npos);
}

TEST(NodeSpecBuilder, PrivilegedGetsEverythingAndNoSeccomp) {
  auto p = plan();
  auto plain = build(p).spec;
  EXPECT_TRUE(plain.linux.seccomp.has_value());
  EXPECT_FALSE(plain.linux.masked_paths.empty());
  EXPECT_FALSE(plain.process.no_new_privileges);  // Docker's default
  p.service.privileged = true;
  auto s = build(p).spec;
  EXPECT_TRUE(has(s.process.capabilities->bounding, "CAP_SYS_ADMIN"));
  EXPECT_FALSE(s.linux.seccomp.has_value());
  EXPECT_TRUE(s.linux.masked_paths.empty());
  EXPECT_TRUE(s.linux.readonly_paths.empty());
  ASSERT_NE(mount_at(s, "/dev"), nullptr);
  EXPECT_EQ(mount_at(s, "/dev")->type, "bind");
  ASSERT_TRUE(s.linux.resources);
  ASSERT_FALSE(s.linux.resources->devices.empty());
  EXPECT_TRUE(s.linux.resources->devices[0].allow);
  EXPECT_EQ(s.linux.resources->devices[0].type, "a");
}

TEST(NodeSpecBuilder, SecurityOptions) {
  auto p = plan();
  p.service.security_opt = {"no-new-privileges:true", "seccomp=unconfined", "label=disable"};
  auto b = build(p);
  EXPECT_TRUE(b.spec.process.no_new_privileges);
  EXPECT_FALSE(b.spec.linux.seccomp.has_value());
  ASSERT_EQ(b.warnings.size(), 1u);
  EXPECT_NE(b.warnings[0].find("label=disable"), std::string::npos);

  p.service.security_opt = {"seccomp=/etc/profile.json"};
  auto c = ctx();
  c.read_file = [](const std::string& path) -> stack::Result<std::string> {
    EXPECT_EQ(path, "/etc/profile.json");
    return std::string(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})");
  };
  b = build(p, image(), c);
  ASSERT_TRUE(b.spec.linux.seccomp);
  EXPECT_EQ(b.spec.linux.seccomp->default_action, "SCMP_ACT_ERRNO");

  p.service.security_opt = {"no-new-privileges=maybe"};
  EXPECT_NE(error_of(p).find("security_opt \"no-new-privileges=maybe\""), std::string::npos);
  p.service.security_opt = {"apparmour=x"};
  EXPECT_NE(error_of(p).find("unknown option"), std::string::npos);
}

TEST(NodeSpecBuilder, ResourcesUlimitsSysctlsAndShm) {
  auto p = plan();
  p.service.mem_limit = 64ull << 20;
  p.service.cpus = 0.5;
  p.service.pids_limit = 100;
  p.service.ulimits = {{"nofile", {2048, 4096}}, {"nproc", {50, 60}}};
  p.service.sysctls = {{"net.core.somaxconn", "1024"}};
  p.service.shm_size = 1 << 20;
  p.service.oom_score_adj = 500;
  auto s = build(p).spec;
  ASSERT_TRUE(s.linux.resources);
  EXPECT_EQ(*s.linux.resources->memory->limit, 64ll << 20);
  EXPECT_EQ(*s.linux.resources->cpu->quota, 50000);
  EXPECT_EQ(*s.linux.resources->cpu->period, 100000u);
  EXPECT_EQ(s.linux.resources->pids->limit, 100);
  auto nofile = std::find_if(s.process.rlimits.begin(), s.process.rlimits.end(),
                             [](auto& r) { return r.type == "RLIMIT_NOFILE"; });
  ASSERT_NE(nofile, s.process.rlimits.end());
  EXPECT_EQ(nofile->soft, 2048u);
  EXPECT_EQ(nofile->hard, 4096u);
  EXPECT_EQ(std::count_if(s.process.rlimits.begin(), s.process.rlimits.end(),
                          [](auto& r) { return r.type == "RLIMIT_NOFILE"; }),
            1);
  EXPECT_EQ(s.linux.sysctl.at("net.core.somaxconn"), "1024");
  EXPECT_TRUE(has(mount_at(s, "/dev/shm")->options, "size=1048576"));
  EXPECT_FALSE(has(mount_at(s, "/dev/shm")->options, "size=65536k"));
  EXPECT_EQ(*s.process.oom_score_adj, 500);
}

// cpu_shares and cpuset reach the spec's cpu resources beside cpus (the
// runtime writes cpu.shares / cpu.weight and cpuset.cpus); unset, neither
// is there.
TEST(NodeSpecBuilder, CpuSharesAndCpuset) {
  auto p = plan();
  p.service.cpu_shares = 512;
  p.service.cpuset = "0";
  auto s = build(p).spec;
  ASSERT_TRUE(s.linux.resources && s.linux.resources->cpu);
  EXPECT_EQ(s.linux.resources->cpu->shares, std::optional<uint64_t>(512));
  EXPECT_EQ(s.linux.resources->cpu->cpus, "0");
  EXPECT_FALSE(s.linux.resources->cpu->quota) << "no cpus limit was asked for";

  p.service.cpu_shares = 0;  // the default weight
  p.service.cpuset.clear();
  s = build(p).spec;
  EXPECT_FALSE(s.linux.resources && s.linux.resources->cpu);
}

// The tuning fields reach the spec's memory, cpu, device and blockIO
// resources; block devices are looked up by path.
TEST(NodeSpecBuilder, TuningFields) {
  auto p = plan();
  p.service.mem_limit = 64u << 20;
  auto& t = p.service.tuning;
  t.mem_reservation = 32u << 20;
  t.memswap_limit = 128 << 20;
  t.mem_swappiness = 0;
  t.oom_kill_disable = true;
  t.cpu_period = 50000;
  t.cpu_quota = 25000;
  t.device_cgroup_rules = {"c 1:3 mr", "b *:* m"};
  t.blkio = stack::compose::BlkioConfig{};
  t.blkio->weight = 300;
  t.blkio->device_read_bps = {{"/dev/disk", 1u << 20}};
  t.blkio->weight_device = {{"/dev/disk", 200}};
  SpecContext c = ctx();
  c.stat_device = [](const std::string& path) -> stack::Result<rt::Device> {
    if (path != "/dev/disk") return stack::fail(path + ": no such device", ENOENT);
    rt::Device d;
    d.type = "b";
    d.major = 254;
    d.minor = 0;
    return d;
  };
  auto s = build(p, image(), c).spec;
  ASSERT_TRUE(s.linux.resources && s.linux.resources->memory && s.linux.resources->cpu);
  const auto& r = *s.linux.resources;
  EXPECT_EQ(r.memory->limit, std::optional<int64_t>(64 << 20));
  EXPECT_EQ(r.memory->reservation, std::optional<int64_t>(32 << 20));
  EXPECT_EQ(r.memory->swap, std::optional<int64_t>(128 << 20));
  EXPECT_EQ(r.memory->swappiness, std::optional<uint64_t>(0));
  EXPECT_EQ(r.memory->disable_oom_killer, std::optional<bool>(true));
  EXPECT_EQ(r.cpu->period, std::optional<uint64_t>(50000));
  EXPECT_EQ(r.cpu->quota, std::optional<int64_t>(25000));
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_EQ(r.devices[0].type, "c");
  EXPECT_EQ(r.devices[0].major, std::optional<int64_t>(1));
  EXPECT_EQ(r.devices[0].access, "mr");
  EXPECT_FALSE(r.devices[1].major) << "*";
  ASSERT_TRUE(r.block_io);
  EXPECT_EQ(r.block_io->weight, std::optional<uint16_t>(300));
  ASSERT_EQ(r.block_io->throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(r.block_io->throttle_read_bps_device[0].major, 254);
  EXPECT_EQ(r.block_io->throttle_read_bps_device[0].rate, 1u << 20);
  EXPECT_EQ(r.block_io->weight_device[0].weight, std::optional<uint16_t>(200));

  t.blkio->device_read_bps = {{"/dev/missing", 1}};
  EXPECT_NE(error_of(p, c).find("blkio_config.device_read_bps /dev/missing"), std::string::npos) << error_of(p, c);
}

TEST(NodeSpecBuilder, NetworkNamespaceAndEtcFiles) {
  auto s = build(plan()).spec;
  auto net = rt::find_namespace(s, "network");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->path, "/run/stack/netns/x");
  ASSERT_NE(mount_at(s, "/etc/hosts"), nullptr);
  EXPECT_EQ(mount_at(s, "/etc/hosts")->source, "/var/lib/stack/containers/x/hosts");
  EXPECT_EQ(mount_at(s, "/etc/resolv.conf")->source, "/var/lib/stack/containers/x/resolv.conf");
  EXPECT_EQ(mount_at(s, "/etc/hostname")->source, "/var/lib/stack/containers/x/hostname");

  auto c = ctx();
  c.netns_path.clear();
  c.host_network = true;
  auto p = plan();
  s = build(p, image(), c).spec;
  EXPECT_EQ(rt::find_namespace(s, "network"), nullptr);
  EXPECT_EQ(rt::find_namespace(s, "uts"), nullptr);
  EXPECT_EQ(mount_at(s, "/etc/hosts")->source, "/etc/hosts");
  EXPECT_EQ(mount_at(s, "/etc/hostname"), nullptr);
  p.service.sysctls = {{"net.ipv4.ip_forward", "1"}};
  EXPECT_NE(error_of(p, c).find("not allowed with network_mode host"), std::string::npos);
}

TEST(NodeSpecBuilder, VolumesBindsAndTmpfs) {
  auto p = plan();
  p.volume_dirs = {{"data", "/var/lib/stack/volumes/demo_data"}};
  stack::compose::Mount vol{.type = "volume", .source = "data", .target = "/data"};
  stack::compose::Mount bind{.type = "bind", .source = "./conf", .target = "/etc/app", .read_only = true};
  stack::compose::Mount tmp{.type = "tmpfs", .target = "/run/app"};
  tmp.tmpfs_size = 1 << 20;
  p.service.volumes = {vol, bind, tmp};
  auto b = build(p);
  auto* v = mount_at(b.spec, "/data");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->source, "/var/lib/stack/volumes/demo_data");
  EXPECT_TRUE(has(v->options, "rbind"));
  EXPECT_TRUE(has(v->options, "rw"));
  auto* bm = mount_at(b.spec, "/etc/app");
  ASSERT_NE(bm, nullptr);
  EXPECT_EQ(bm->source, "/srv/project/conf");
  EXPECT_TRUE(has(bm->options, "ro"));
  EXPECT_EQ(b.bind_dirs_to_create, (std::vector<std::string>{"/srv/project/conf"}));
  auto* t = mount_at(b.spec, "/run/app");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, "tmpfs");
  EXPECT_TRUE(has(t->options, "size=1048576"));
  EXPECT_TRUE(has(t->options, "mode=1777"));

  p.service.volumes = {stack::compose::Mount{.type = "volume", .source = "missing", .target = "/m"}};
  EXPECT_NE(error_of(p).find("volumes[0] (/m): volume \"missing\" has no directory"), std::string::npos);
  p.service.volumes = {stack::compose::Mount{.type = "bind", .source = "/x", .target = "rel"}};
  EXPECT_NE(error_of(p).find("target must be an absolute path"), std::string::npos);
}

// Anonymous volumes (a service's `- /path`, the image's VOLUMEs no mount
// covers) live in the slot's dir; volumes the image fills are listed for the
// node's copy-up, except nocopy and binds.
TEST(NodeSpecBuilder, AnonymousAndImageVolumesAndWhatIsCopiedUp) {
  auto p = plan();
  p.anonymous_dir = "/v/.anonymous/demo/web-1";
  p.volume_dirs = {{"data", "/v/demo_data"}, {"bare", "/v/demo_bare"}};
  stack::compose::Mount anon{.type = "volume", .target = "/cache"};
  stack::compose::Mount named{.type = "volume", .source = "data", .target = "/var/lib/db"};
  stack::compose::Mount bare{.type = "volume", .source = "bare", .target = "/bare"};
  bare.nocopy = true;
  stack::compose::Mount bind{.type = "bind", .source = "/srv/x", .target = "/x"};
  p.service.volumes = {anon, named, bare, bind};
  auto img = image();
  img.volumes = {"/var/lib/db", "/logs"};  // the first is covered by the service's own mount
  auto b = build(p, img);
  const std::string cache_dir = anonymous_volume_dir(p.anonymous_dir, "/cache");
  const std::string logs_dir = anonymous_volume_dir(p.anonymous_dir, "/logs");
  EXPECT_EQ(cache_dir.rfind("/v/.anonymous/demo/web-1/cache-", 0), 0u) << cache_dir;
  EXPECT_EQ(logs_dir.rfind("/v/.anonymous/demo/web-1/logs-", 0), 0u) << logs_dir;
  EXPECT_NE(anonymous_volume_dir(p.anonymous_dir, "/a/b"), anonymous_volume_dir(p.anonymous_dir, "/a-b"));
  ASSERT_NE(mount_at(b.spec, "/cache"), nullptr);
  EXPECT_EQ(mount_at(b.spec, "/cache")->source, cache_dir);
  ASSERT_NE(mount_at(b.spec, "/logs"), nullptr);
  EXPECT_EQ(mount_at(b.spec, "/logs")->source, logs_dir);
  EXPECT_TRUE(has(mount_at(b.spec, "/logs")->options, "rw"));
  EXPECT_EQ(mount_at(b.spec, "/var/lib/db")->source, "/v/demo_data");
  int at_db = 0;
  for (const auto& m : b.spec.mounts) at_db += m.destination == "/var/lib/db";
  EXPECT_EQ(at_db, 1) << "the image's VOLUME under the service's mount";
  using Copy = std::pair<std::string, std::string>;
  EXPECT_EQ(b.volume_copies, (std::vector<Copy>{{logs_dir, "/logs"}, {cache_dir, "/cache"}, {"/v/demo_data", "/var/lib/db"}}));
  EXPECT_TRUE(has(b.bind_dirs_to_create, cache_dir));
  EXPECT_TRUE(has(b.bind_dirs_to_create, logs_dir));
}

TEST(NodeSpecBuilder, CgroupParentAndRealTime) {
  auto p = plan();
  EXPECT_EQ(build(p).spec.linux.cgroups_path, "") << "the runtime's default: /stack/<id>";
  p.service.tuning.cgroup_parent = "/machine/team";
  p.service.tuning.cpu_rt_runtime = 10000;
  p.service.tuning.cpu_rt_period = 500000;
  auto b = build(p);
  EXPECT_EQ(b.spec.linux.cgroups_path, "/machine/team/demo-web-1-abcdef");
  ASSERT_TRUE(b.spec.linux.resources && b.spec.linux.resources->cpu);
  EXPECT_EQ(b.spec.linux.resources->cpu->realtime_runtime, std::optional<int64_t>(10000));
  EXPECT_EQ(b.spec.linux.resources->cpu->realtime_period, std::optional<uint64_t>(500000));
}

TEST(NodeSpecBuilder, DevicesComeFromTheHostLookup) {
  auto p = plan();
  p.service.devices = {{"/dev/fuse", "/dev/fuse", "rw"}};
  auto c = ctx();
  c.stat_device = [](const std::string& path) -> stack::Result<rt::Device> {
    if (path != "/dev/fuse") return stack::fail("stat " + path, ENOENT);
    rt::Device d;
    d.type = "c";
    d.major = 10;
    d.minor = 229;
    return d;
  };
  auto s = build(p, image(), c).spec;
  ASSERT_EQ(s.linux.devices.size(), 1u);
  EXPECT_EQ(s.linux.devices[0].path, "/dev/fuse");
  EXPECT_EQ(s.linux.devices[0].major, 10);
  ASSERT_TRUE(s.linux.resources);
  EXPECT_EQ(s.linux.resources->devices.back().access, "rw");
  p.service.devices = {{"/dev/nope", "/dev/nope", "rwm"}};
  EXPECT_NE(error_of(p, c).find("devices /dev/nope"), std::string::npos);
}

TEST(NodeSpecBuilder, AnnotationsCarryLabelsStopSignalAndTty) {
  auto p = plan();
  p.labels = {{"com.stack.stack", "demo"}};
  p.service.labels = {{"tier", "front"}};
  p.service.stop_signal = "SIGQUIT";
  p.service.tty = true;
  auto b = build(p);
  EXPECT_EQ(b.spec.annotations.at("com.stack.stack"), "demo");
  EXPECT_EQ(b.spec.annotations.at("tier"), "front");
  EXPECT_EQ(b.spec.annotations.at(kAnnotationStopSignal), "SIGQUIT");
  EXPECT_TRUE(b.warnings.empty());
  EXPECT_TRUE(has(b.spec.process.env, "TERM=xterm"));
  EXPECT_TRUE(b.spec.process.terminal);  // the shim holds the pty master
  p.service.environment["TERM"] = "vt100";  // the service's own TERM wins
  EXPECT_TRUE(has(build(p).spec.process.env, "TERM=vt100"));
}

// init: true runs the command as stack-init's child, the binary mounted
// read-only from the host; without one found, the create fails saying so.
TEST(NodeSpecBuilder, InitWrapsTheCommand) {
  auto p = plan();
  p.service.init = true;
  SpecContext c = ctx();
  c.init_path = "/usr/lib/stack/stack-init";
  auto b = build(p, image(), c);
  EXPECT_EQ(b.spec.process.args,
            (std::vector<std::string>{"/sbin/stack-init", "--", "/entry.sh", "serve", "--port", "80"}));
  const rt::Mount* m = mount_at(b.spec, "/sbin/stack-init");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->source, "/usr/lib/stack/stack-init");
  EXPECT_TRUE(has(m->options, "ro"));
  EXPECT_TRUE(b.warnings.empty());
  c.init_path.clear();
  EXPECT_NE(error_of(p, c).find("init: true needs stack-init"), std::string::npos);
}

// Namespace modes drop the namespace for host (ipc host brings the host's
// /dev/shm), group_add adds numbers and names from the image's group file,
// annotations land in the spec.
TEST(NodeSpecBuilder, NamespaceModesGroupsAndAnnotations) {
  auto has_ns = [](const rt::Spec& s, const std::string& type) {
    return std::any_of(s.linux.namespaces.begin(), s.linux.namespaces.end(),
                       [&](const rt::NamespaceSpec& n) { return n.type == type; });
  };
  auto p = plan();
  auto s = build(p).spec;
  for (const char* t : {"pid", "ipc", "uts", "cgroup"}) EXPECT_TRUE(has_ns(s, t)) << t;
  p.service.pid = p.service.ipc = p.service.uts = p.service.cgroup = "host";
  p.service.group_add = {"audio", "4242"};
  p.service.annotations = {{"com.example.a", "1"}};
  s = build(p).spec;
  for (const char* t : {"pid", "ipc", "uts", "cgroup"}) EXPECT_FALSE(has_ns(s, t)) << t;
  EXPECT_TRUE(has_ns(s, "mount") && has_ns(s, "network"));
  EXPECT_TRUE(s.hostname.empty()) << "the host's name is not set from a container";
  const rt::Mount* shm = mount_at(s, "/dev/shm");
  ASSERT_NE(shm, nullptr);
  EXPECT_EQ(shm->source, "/dev/shm");
  EXPECT_EQ(s.process.user.additional_gids, (std::vector<uint32_t>{29, 4242}));
  EXPECT_EQ(s.annotations.at("com.example.a"), "1");
  p.service.group_add = {"nosuchgroup"};
  EXPECT_NE(error_of(p).find("group_add: unable to find group nosuchgroup"), std::string::npos) << error_of(p);
}

TEST(NodeRecord, RoundTripsAndExitRecordsParse) {
  NodeRecord r;
  r.id = "a";
  r.netns_path = "/run/stack/netns/a";
  r.networks = {"demo_default", "demo_back"};
  r.addresses = {{"demo_default", "10.1.0.2"}};
  r.started_at_ms = 1234;
  auto back = NodeRecord::parse(r.to_json(), "node.json");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->networks, r.networks);
  EXPECT_EQ(back->addresses, r.addresses);
  EXPECT_EQ(back->started_at_ms, 1234);
  EXPECT_FALSE(NodeRecord::parse("[]", "node.json"));

  auto e = parse_exit_record(R"({"exit_code":137,"signal":9,"oom_killed":true,"finished_at":"2024-01-02T03:04:05.250Z"})",
                             "exit.json");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->exit_code, 137);
  EXPECT_TRUE(e->oom_killed);
  EXPECT_EQ(e->finished_at_ms, 1704164645250);
  EXPECT_EQ(rfc3339_to_ms("2024-01-02T05:04:05+02:00"), 1704164645000);
  EXPECT_EQ(rfc3339_to_ms("garbage"), 0);
  EXPECT_FALSE(parse_exit_record("{}", "exit.json"));
}

}  // namespace
