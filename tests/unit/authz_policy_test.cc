// The authorization policy for non-root callers (daemon/authz_policy.h): each
// rule denied by default and allowed by the policy, host path normalisation
// and resolution (".." tricks, trailing slashes, prefix confusion, symlinks),
// the policy file's errors (authz_policy_file.h) and the request gate
// (authz_request.h): fail closed on what it cannot read.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/server/authz_policy.h"
#include "orchestrator/daemon/server/authz_policy_file.h"
#include "orchestrator/daemon/server/authz_request.h"
#include "tests/support/bundle.h"
#include "tests/unit/fake_engine.h"

namespace stack::orch {
namespace {

using nlohmann::json;

// Symlinks of a pretend host: a path whose head is a key resolves to the
// value plus the rest. Everything else is itself.
PathResolver fake_host(std::map<std::string, std::string> links = {}) {
  return [links](const std::string& p) -> stack::Result<std::string> {
    for (auto& [from, to] : links)
      if (path_within(p, from)) return to + p.substr(from.size());
    if (p.rfind("/unreadable", 0) == 0) return stack::fail("realpath " + p, EACCES);
    return p;
  };
}

compose::Project project_with(compose::Service s) {
  compose::Project p;
  p.name = "shop";
  p.working_dir = "/home/alice/shop";
  if (s.name.empty()) s.name = "web";
  if (s.image.empty()) s.image = "busybox";
  p.services[s.name] = s;
  return p;
}

AuthzResult check(const compose::Service& s, const AuthzPolicy& p = {}, const PathResolver& r = fake_host()) {
  return check_project(p, project_with(s), r);
}

std::string rule_of(const AuthzResult& r) { return r ? "allowed" : r.error().rule; }
std::string field_of(const AuthzResult& r) { return r ? "allowed" : r.error().field; }

compose::Mount bind(const std::string& source) {
  compose::Mount m;
  m.type = "bind";
  m.source = source;
  m.target = "/data";
  return m;
}

TEST(AuthzPolicy, PlainServiceIsAllowedByTheDefault) {
  compose::Service s;
  compose::PortSpec port;
  port.target = 80;
  port.published = 8080;
  s.ports = {port};
  compose::Mount vol;
  vol.type = "volume";
  vol.source = "data";
  vol.target = "/data";
  compose::Mount tmp;
  tmp.type = "tmpfs";
  tmp.target = "/tmp";
  s.volumes = {vol, tmp};
  s.cap_drop = {"ALL"};
  s.security_opt = {"no-new-privileges:false", "no-new-privileges:true"};
  s.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}, {"kernel.shmmax", "1"}, {"fs.mqueue.msg_max", "2"}};
  s.network_mode = "service:db";
  EXPECT_EQ(rule_of(check(s)), "allowed");
}

TEST(AuthzPolicy, ACgroupParentNeedsPrivileged) {
  compose::Service s;
  s.tuning.cgroup_parent = "/machine";
  auto r = check(s);
  EXPECT_EQ(rule_of(r), "privileged");
  EXPECT_EQ(field_of(r), "services.web.cgroup_parent");
  AuthzPolicy p;
  p.privileged = true;
  EXPECT_TRUE(check(s, p));
}

TEST(AuthzPolicy, PrivilegedDeniedThenAllowed) {
  compose::Service s;
  s.privileged = true;
  auto r = check(s);
  EXPECT_EQ(rule_of(r), "privileged");
  EXPECT_EQ(field_of(r), "services.web.privileged");
  AuthzPolicy p;
  p.privileged = true;
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
}

TEST(AuthzPolicy, HostNetworkDeniedThenAllowed) {
  compose::Service s;
  s.network_mode = "host";
  EXPECT_EQ(rule_of(check(s)), "host_namespaces");
  AuthzPolicy p;
  p.host_namespaces = true;
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
}

// The fields stack applies since: host pid/ipc/uts/cgroup namespaces,
// device cgroup rules and privileged hooks need the same rules as their
// older relatives.
TEST(AuthzPolicy, HostNamespaceModesDeviceRulesAndPrivilegedHooks) {
  for (const char* field : {"pid", "ipc", "uts", "cgroup"}) {
    compose::Service s;
    (field == std::string("pid")   ? s.pid
     : field == std::string("ipc") ? s.ipc
     : field == std::string("uts") ? s.uts
                                   : s.cgroup) = "host";
    auto r = check(s);
    EXPECT_EQ(rule_of(r), "host_namespaces") << field;
    EXPECT_EQ(field_of(r), std::string("services.web.") + field);
    AuthzPolicy p;
    p.host_namespaces = true;
    EXPECT_EQ(rule_of(check(s, p)), "allowed") << field;
  }
  compose::Service own;
  own.ipc = "shareable";
  own.cgroup = "private";
  EXPECT_EQ(rule_of(check(own)), "allowed");

  compose::Service rules;
  rules.tuning.device_cgroup_rules = {"b *:* rwm"};
  EXPECT_EQ(rule_of(check(rules)), "devices");
  AuthzPolicy some;
  some.devices = {"/dev/fuse"};
  EXPECT_EQ(rule_of(check(rules, some)), "devices") << "a device list does not allow rules";
  AuthzPolicy any;
  any.devices_any = true;
  EXPECT_EQ(rule_of(check(rules, any)), "allowed");

  compose::Service hook;
  hook.pre_stop = {compose::LifecycleHook{{"true"}, "", true, {}, ""}};
  auto r = check(hook);
  EXPECT_EQ(rule_of(r), "privileged");
  EXPECT_EQ(field_of(r), "services.web.pre_stop[0].privileged");
  hook.pre_stop[0].privileged = false;
  EXPECT_EQ(rule_of(check(hook)), "allowed");
}

TEST(AuthzPolicy, CapAddNeedsTheCapabilityListedOrAny) {
  compose::Service s;
  s.cap_add = {"net_admin"};
  auto r = check(s);
  EXPECT_EQ(rule_of(r), "cap_add");
  EXPECT_EQ(field_of(r), "services.web.cap_add[0]");
  AuthzPolicy p;
  p.cap_add = {"CAP_NET_ADMIN"};
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
  s.cap_add = {"CAP_NET_ADMIN", "SYS_ADMIN"};
  EXPECT_EQ(field_of(check(s, p)), "services.web.cap_add[1]");
  s.cap_add = {"ALL"};
  EXPECT_EQ(rule_of(check(s, p)), "cap_add") << "ALL only with cap_add: true";
  p.cap_add_any = true;
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
}

TEST(AuthzPolicy, DevicesComparedAfterResolvingSymlinks) {
  compose::Service s;
  s.devices = {compose::DeviceMapping{"/dev/fuse", "/dev/fuse", "rwm"}};
  EXPECT_EQ(rule_of(check(s)), "devices");
  AuthzPolicy p;
  p.devices = {"/dev/fuse"};
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
  // A link to the disk is the disk, whatever it is called.
  s.devices = {compose::DeviceMapping{"/dev/myfuse", "/dev/fuse", "rwm"}};
  EXPECT_EQ(rule_of(check(s, p, fake_host({{"/dev/myfuse", "/dev/sda"}}))), "devices");
  EXPECT_EQ(rule_of(check(s, p, fake_host({{"/dev/myfuse", "/dev/fuse"}}))), "allowed");
  p.devices_any = true;
  s.devices = {compose::DeviceMapping{"/dev/sda", "/dev/sda", "rwm"}};
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
}

TEST(AuthzPolicy, UnconfinedSecurityOptionsDeniedThenAllowed) {
  AuthzPolicy allow;
  allow.unconfined = true;
  for (const char* opt : {"seccomp=unconfined", "seccomp:unconfined", "seccomp=/etc/shadow", "apparmor=unconfined",
                          "apparmor:unconfined", "label=disable", "label:disable", "systempaths=unconfined",
                          "made-up=1"}) {
    compose::Service s;
    s.security_opt = {opt};
    auto r = check(s);
    EXPECT_EQ(rule_of(r), "unconfined") << opt;
    EXPECT_EQ(field_of(r), "services.web.security_opt[0]") << opt;
    EXPECT_EQ(rule_of(check(s, allow)), "allowed") << opt;
  }
  compose::Service s;
  s.security_opt = {"apparmor=docker-default", "label=type:container_t"};
  EXPECT_EQ(rule_of(check(s)), "allowed");
}

TEST(AuthzPolicy, PortsBelow1024DeniedThenAllowed) {
  auto port = [](uint16_t published, uint16_t end = 0, bool auto_ = false) {
    compose::PortSpec p;
    p.target = 80;
    p.published = published;
    p.published_end = end ? end : published;
    p.published_auto = auto_;
    return p;
  };
  compose::Service s;
  s.ports = {port(8080), port(80)};
  auto r = check(s);
  EXPECT_EQ(rule_of(r), "privileged_ports");
  EXPECT_EQ(field_of(r), "services.web.ports[1]");
  s.ports = {port(1000, 1030)};
  EXPECT_EQ(rule_of(check(s)), "privileged_ports");
  s.ports = {port(1024), port(0), port(0, 0, true)};
  EXPECT_EQ(rule_of(check(s)), "allowed");
  AuthzPolicy p;
  p.privileged_ports = true;
  s.ports = {port(80)};
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
}

TEST(AuthzPolicy, HostWideSysctlsDeniedThenAllowed) {
  compose::Service s;
  s.sysctls = {{"kernel.core_pattern", "|/tmp/x"}};
  auto r = check(s);
  EXPECT_EQ(rule_of(r), "sysctls");
  EXPECT_EQ(field_of(r), "services.web.sysctls.kernel.core_pattern");
  s.sysctls = {{"vm.overcommit_memory", "1"}};
  EXPECT_EQ(rule_of(check(s)), "sysctls");
  AuthzPolicy p;
  p.sysctls = true;
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
  EXPECT_FALSE(is_namespaced_sysctl("net/../kernel.x"));
  EXPECT_FALSE(is_namespaced_sysctl("net..x"));
}

TEST(AuthzPolicy, BindMountsOnlyInsideAllowedDirectories) {
  AuthzPolicy p;
  compose::Service s;
  s.volumes = {bind("/srv/data/www")};
  auto r = check(s, p);
  EXPECT_EQ(rule_of(r), "bind_mounts") << "the default allows no bind mount";
  EXPECT_EQ(field_of(r), "services.web.volumes[0].source");
  p.bind_dirs = {"/srv/data"};
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
  for (const char* ok : {"/srv/data", "/srv/data/", "/srv//data/./www/", "/srv/data/a/b/c"}) {
    s.volumes = {bind(ok)};
    EXPECT_EQ(rule_of(check(s, p)), "allowed") << ok;
  }
  for (const char* bad : {"/", "/etc", "/srv", "/srv/data2", "/srv/data2/x", "/srv/dat", "/srv/data/../etc",
                          "/srv/data/x/../../../etc", "/srv/data/..", "//", "/srv/datax"}) {
    s.volumes = {bind(bad)};
    EXPECT_EQ(rule_of(check(s, p)), "bind_mounts") << bad;
  }
  p.bind_dirs = {"/"};
  s.volumes = {bind("/etc")};
  EXPECT_EQ(rule_of(check(s, p)), "allowed") << "\"/\" allows anywhere";
}

TEST(AuthzPolicy, BindSourcesFollowSymlinksAndTheProjectDirectory) {
  AuthzPolicy p;
  p.bind_dirs = {"/home/alice"};
  compose::Service s;
  // Relative sources resolve against the project's working_dir (/home/alice/shop).
  s.volumes = {bind("./html")};
  EXPECT_EQ(rule_of(check(s, p)), "allowed");
  s.volumes = {bind("../../../etc")};
  EXPECT_EQ(rule_of(check(s, p)), "bind_mounts");
  // A symlink inside the allowed directory that leads out of it.
  s.volumes = {bind("/home/alice/escape/passwd")};
  auto r = check(s, p, fake_host({{"/home/alice/escape", "/etc"}}));
  EXPECT_EQ(rule_of(r), "bind_mounts");
  EXPECT_NE(r.error().reason.find("/etc/passwd"), std::string::npos) << r.error().reason;
  // A path the daemon cannot resolve is refused, not guessed.
  p.bind_dirs = {"/"};
  s.volumes = {bind("/unreadable/x")};
  EXPECT_EQ(rule_of(check(s, p)), "bind_mounts");
  compose::Mount odd = bind("/srv");
  odd.type = "npipe";
  s.volumes = {odd};
  EXPECT_EQ(rule_of(check(s, p)), "bind_mounts");
}

TEST(AuthzPolicy, NamesThatWouldBePathsAreAlwaysRefused) {
  AuthzPolicy all;
  all.privileged = all.host_namespaces = all.cap_add_any = all.devices_any = all.unconfined = true;
  all.privileged_ports = all.sysctls = true;
  all.bind_dirs = {"/"};
  compose::Service s;
  compose::Mount vol;
  vol.type = "volume";
  vol.source = "../../../../etc";
  vol.target = "/x";
  s.volumes = {vol};
  EXPECT_EQ(rule_of(check(s, all)), "names");
  s.volumes.clear();
  s.network_mode = "container:../../../proc/1/ns/net";
  EXPECT_EQ(rule_of(check(s, all)), "names");
  s.network_mode.clear();
  s.container_name = "a/b";
  EXPECT_EQ(rule_of(check(s, all)), "names");

  compose::Project pr = project_with(compose::Service{});
  pr.services["../x"] = pr.services["web"];
  pr.services["../x"].name = "../x";
  EXPECT_EQ(rule_of(check_project(all, pr, fake_host())), "names");
  pr = project_with(compose::Service{});
  compose::VolumeDef v;
  v.external = true;
  v.external_name = "..";
  pr.volumes["data"] = v;
  auto r = check_project(all, pr, fake_host());
  EXPECT_EQ(rule_of(r), "names");
  EXPECT_EQ(field_of(r), "volumes.data.name");
}

TEST(AuthzPolicy, HostPathNormalisation) {
  EXPECT_EQ(*normalize_host_path("/srv//data/./x/"), "/srv/data/x");
  EXPECT_EQ(*normalize_host_path("/"), "/");
  EXPECT_EQ(*normalize_host_path("///"), "/");
  EXPECT_FALSE(normalize_host_path("srv/data"));
  EXPECT_FALSE(normalize_host_path(""));
  EXPECT_FALSE(normalize_host_path("/srv/data/../etc"));
  EXPECT_FALSE(normalize_host_path("/.."));
  EXPECT_TRUE(normalize_host_path("/srv/..data/x..")) << "only whole \"..\" components are refused";
  EXPECT_TRUE(path_within("/srv/data", "/srv/data"));
  EXPECT_TRUE(path_within("/srv/data/x", "/srv/data"));
  EXPECT_FALSE(path_within("/srv/data2", "/srv/data"));
  EXPECT_FALSE(path_within("/srv", "/srv/data"));
  EXPECT_TRUE(path_within("/anything", "/"));
}

TEST(AuthzPolicy, DenialMessagesNameTheRuleAndWhere) {
  AuthzPolicy p;
  p.source = "/var/lib/stack/authz.json";
  Denial d{"privileged", "services.web.privileged", "privileged containers are not allowed for non-root callers"};
  EXPECT_EQ(denial_message(p, d),
            "authorization: services.web.privileged: privileged containers are not allowed for non-root callers "
            "(rule \"privileged\" of the default policy: /var/lib/stack/authz.json does not exist)");
  p.from_file = true;
  EXPECT_EQ(denial_message(p, d),
            "authorization: services.web.privileged: privileged containers are not allowed for non-root callers "
            "(rule \"privileged\" in /var/lib/stack/authz.json)");
  EXPECT_NE(denial_message(p, Denial{"", "request body", "x"}).find("cannot check"), std::string::npos);
}

TEST(AuthzPolicy, RealResolverFollowsSymlinksAndKeepsMissingTails) {
  test::TempDir dir{"authz-real"};
  std::string d = std::filesystem::canonical(dir.path()).string();
  std::filesystem::create_directories(d + "/allowed");
  std::filesystem::create_symlink("/etc", d + "/allowed/etc-link");
  std::filesystem::create_symlink(d + "/nowhere", d + "/allowed/dangling");
  EXPECT_EQ(*resolve_host_path(d + "/allowed/etc-link/passwd"), "/etc/passwd");
  EXPECT_EQ(*resolve_host_path(d + "/allowed/new/dir"), d + "/allowed/new/dir");
  EXPECT_EQ(*resolve_host_path(d + "/allowed/etc-link/new"), "/etc/new");
  EXPECT_FALSE(resolve_host_path(d + "/allowed/dangling/x")) << "a dangling link could be pointed anywhere later";
  EXPECT_EQ(*resolve_host_path("/"), "/");
}

// ---- the policy file

stack::Result<AuthzPolicy> parse(const std::string& text) {
  return parse_authz_policy(text, "/var/lib/stack/authz.json", fake_host({{"/srv/link", "/data/real"}}));
}
std::string parse_error(const std::string& text) {
  auto p = parse(text);
  return p ? "parsed" : p.error().message();
}

TEST(AuthzPolicyFile, ReadsEveryRule) {
  auto p = parse(R"({
  "version": 1,
  "privileged": true,
  "host_namespaces": true,
  "cap_add": ["net_admin", "CAP_SYS_PTRACE"],
  "devices": ["/dev/fuse"],
  "bind_mounts": ["/srv/stack/", "/srv/link"],
  "unconfined": true,
  "privileged_ports": true,
  "sysctls": true
})");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(p->from_file);
  EXPECT_TRUE(p->privileged && p->host_namespaces && p->unconfined && p->privileged_ports && p->sysctls);
  EXPECT_EQ(p->cap_add, (std::set<std::string>{"CAP_NET_ADMIN", "CAP_SYS_PTRACE"}));
  EXPECT_FALSE(p->cap_add_any);
  EXPECT_EQ(p->devices, (std::vector<std::string>{"/dev/fuse"}));
  EXPECT_EQ(p->bind_dirs, (std::vector<std::string>{"/srv/stack", "/data/real"}));
  auto empty = parse("{}");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->privileged || empty->cap_add_any || empty->devices_any || !empty->bind_dirs.empty());
  auto any = parse(R"({"cap_add": true, "devices": true})");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->cap_add_any && any->devices_any);
}

TEST(AuthzPolicyFile, ErrorsNameTheFileLineAndKey) {
  EXPECT_EQ(parse_error("{\n  \"privileged\": false,\n  \"privilegd\": true\n}"),
            "/var/lib/stack/authz.json:3: \"privilegd\": unknown key (known: version, privileged, host_namespaces, "
            "cap_add, devices, bind_mounts, unconfined, privileged_ports, sysctls)");
  EXPECT_EQ(parse_error("{\n  \"privileged\": \"no\"\n}"),
            "/var/lib/stack/authz.json:2: \"privileged\": expected true or false, not string");
  EXPECT_EQ(parse_error("{\n\n  \"cap_add\": [\"NET_ADMN\"]\n}"),
            "/var/lib/stack/authz.json:3: \"cap_add\"[0]: unknown capability \"NET_ADMN\"");
  EXPECT_EQ(parse_error("{\"bind_mounts\": [\"/srv/../etc\"]}"),
            "/var/lib/stack/authz.json:1: \"bind_mounts\"[0]: \"/srv/../etc\": \"..\" is not allowed in host paths");
  EXPECT_EQ(parse_error("{\"bind_mounts\": [\"srv\"]}"),
            "/var/lib/stack/authz.json:1: \"bind_mounts\"[0]: \"srv\" is not an absolute path");
  EXPECT_EQ(parse_error("{\"bind_mounts\": true}"),
            "/var/lib/stack/authz.json:1: \"bind_mounts\": expected a list of strings");
  EXPECT_EQ(parse_error("{\"devices\": [1]}"),
            "/var/lib/stack/authz.json:1: \"devices\"[0]: expected a string, not number");
  EXPECT_EQ(parse_error("{\"privileged\": false,\n \"privileged\": true}"),
            "/var/lib/stack/authz.json:1: \"privileged\": given twice");
  EXPECT_EQ(parse_error("{\"version\": 2}"), "/var/lib/stack/authz.json:1: \"version\": only version 1 is known");
  EXPECT_EQ(parse_error("[]"), "/var/lib/stack/authz.json: expected a JSON object {\"privileged\": false, ...}");
  std::string syntax = parse_error("{\n  \"privileged\": false,\n  \"cap_add\": [\"X\",]\n}");
  EXPECT_EQ(syntax.rfind("/var/lib/stack/authz.json:3:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("invalid JSON"), std::string::npos) << syntax;
}

TEST(AuthzPolicyFile, MissingFileIsTheDefaultUnlessNamed) {
  test::TempDir dir{"authz-file"};
  std::string path = dir.path() + "/authz.json";
  auto def = load_authz_policy(path, false, fake_host());
  ASSERT_TRUE(def) << def.error().message();
  EXPECT_FALSE(def->from_file);
  EXPECT_EQ(def->source, path);
  EXPECT_FALSE(def->privileged || def->host_namespaces || def->cap_add_any || def->devices_any || def->unconfined ||
               def->privileged_ports || def->sysctls || !def->bind_dirs.empty() || !def->cap_add.empty());
  auto named = load_authz_policy(path, true, fake_host());
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message().find(path), std::string::npos);

  { std::ofstream(path) << "{\"privileged\": true}\n"; }
  ::chmod(path.c_str(), 0644);
  auto file = load_authz_policy(path, false, fake_host());
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_TRUE(file->privileged && file->from_file);
  // A group-writable policy could be rewritten by the callers it restricts.
  ::chmod(path.c_str(), 0664);
  auto loose = load_authz_policy(path, false, fake_host());
  ASSERT_FALSE(loose);
  EXPECT_NE(loose.error().message().find("not writable by group or others"), std::string::npos);
  ::chmod(path.c_str(), 0644);
  { std::ofstream(path) << "{\"privileged\": tru}\n"; }
  auto bad = load_authz_policy(path, false, fake_host());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind(path + ":1:", 0), 0u) << bad.error().message();
}

// ---- the request gate

// The fake engine with a stored project of our choosing.
struct StoredEngine : FakeEngine {
  compose::Project stored = project_with(compose::Service{});
  stack::Result<compose::Project> project(const std::string& s) override {
    if (s != stored.name) return stack::fail("no such stack: " + s, ENOENT);
    return stored;
  }
};

AuthzResult gate(Engine& e, const std::string& method, const std::string& path, const std::string& body,
                 const AuthzPolicy& p = {}) {
  ApiRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  return authorize_request(p, e, r, fake_host());
}

std::string up_body(const compose::Service& s) {
  return json{{"project", json::parse(compose::to_json(project_with(s)))}}.dump();
}

TEST(AuthzGate, ReadsPassAndUnknownWritesFailClosed) {
  StoredEngine e;
  for (const char* path : {"/v1/version", "/v1/stacks", "/v1/stacks/shop/ps", "/v1/stacks/shop/logs", "/v1/nope"})
    EXPECT_TRUE(gate(e, "GET", path, "")) << path;
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/down", ""));
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/stop", "{}"));
  for (auto [m, path] : std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/stacks/shop/create"},
                                                                         {"PUT", "/v1/stacks/shop/up"},
                                                                         {"DELETE", "/v1/stacks/shop"},
                                                                         {"POST", "/v1/stacks/shop"},
                                                                         {"POST", "/v1/containers/create"},
                                                                         {"POST", "/v2/stacks/shop/up"}}) {
    auto r = gate(e, m, path, "{}");
    ASSERT_FALSE(r) << m << " " << path;
    EXPECT_EQ(r.error().rule, "");
  }
}

// Image routes: reads, pull (what `up` does anyway) and the ones that only
// take away are open; load/import (they choose what a name runs, root's
// stacks included) and push (stackd's credentials) are root's, whatever the
// policy file allows.
TEST(AuthzGate, ImageRoutesLoadImportAndPushAreRootsOnly) {
  StoredEngine e;
  AuthzPolicy everything;
  everything.privileged = everything.host_namespaces = everything.cap_add_any = everything.devices_any = true;
  everything.bind_dirs = {"/"};
  for (const char* path : {"/v1/images", "/v1/images/inspect", "/v1/images/df"})
    EXPECT_TRUE(gate(e, "GET", path, "")) << path;
  for (const char* verb : {"pull", "remove", "prune"})
    EXPECT_TRUE(gate(e, "POST", std::string("/v1/images/") + verb, "")) << verb;
  for (const char* verb : {"load", "import", "push", "tag", "nope"}) {
    auto r = gate(e, "POST", std::string("/v1/images/") + verb, "", everything);
    ASSERT_FALSE(r) << verb;
    EXPECT_EQ(r.error().rule, "") << verb;
    EXPECT_EQ(r.error().field, std::string("POST /v1/images/") + verb);
  }
  EXPECT_NE(gate(e, "POST", "/v1/images/load", "").error().reason.find("only root may load"), std::string::npos);
  EXPECT_FALSE(gate(e, "PUT", "/v1/images/pull", ""));
}

// Cluster routes: a group member may list the nodes; the join tokens (the
// keys to add a node) and every cluster change are root's, whatever the
// policy file allows.
TEST(AuthzGate, JoinTokensAndClusterChangesAreRootsOnly) {
  StoredEngine e;
  AuthzPolicy everything;
  everything.privileged = everything.host_namespaces = everything.cap_add_any = everything.devices_any = true;
  everything.bind_dirs = {"/"};
  EXPECT_TRUE(gate(e, "GET", "/v1/nodes", ""));
  auto tokens = gate(e, "GET", "/v1/cluster/join-tokens", "", everything);
  ASSERT_FALSE(tokens);
  EXPECT_NE(tokens.error().reason.find("only root may read the cluster's join tokens"), std::string::npos);
  EXPECT_FALSE(gate(e, "POST", "/v1/cluster/init", "{}", everything));
}

TEST(AuthzGate, UnparseableBodiesFailClosed) {
  StoredEngine e;
  for (const char* verb : {"up", "start", "restart", "scale", "exec", "run"})
    for (const char* body : {"{not json", "[1]", "\"x\""}) {
      auto r = gate(e, "POST", std::string("/v1/stacks/shop/") + verb, body);
      ASSERT_FALSE(r) << verb << " " << body;
      EXPECT_EQ(r.error().rule, "") << verb;
      EXPECT_EQ(r.error().field, "request body") << verb;
    }
  EXPECT_FALSE(gate(e, "POST", "/v1/stacks/shop/up", "{}")) << "no project";
  EXPECT_FALSE(gate(e, "POST", "/v1/stacks/shop/up", R"({"project": {"name": "shop"}})")) << "not a whole project";
  EXPECT_FALSE(gate(e, "POST", "/v1/stacks/shop/scale", R"({"replicas": 3})"));
  EXPECT_FALSE(gate(e, "POST", "/v1/stacks/shop/start", R"({"services": "web"})"));
  // An exec field the policy does not know (there is no privileged exec).
  auto r = gate(e, "POST", "/v1/stacks/shop/exec", R"({"service": "web", "cmd": ["sh"], "privileged": true})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find("privileged"), std::string::npos) << r.error().reason;
  EXPECT_FALSE(gate(e, "POST", "/v1/stacks/shop/exec", R"({"service": "web", "cmd": ["sh"], "cap_add": ["ALL"]})"));
}

TEST(AuthzGate, UpChecksTheProjectInTheBody) {
  StoredEngine e;
  compose::Service s;
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/up", up_body(s)));
  s.privileged = true;
  auto r = gate(e, "POST", "/v1/stacks/shop/up", up_body(s));
  EXPECT_EQ(rule_of(r), "privileged");
  AuthzPolicy p;
  p.privileged = true;
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/up", up_body(s), p));
  // Keys the model drops are still read: pid: host must not slip through.
  json body = json::parse(up_body(compose::Service{}));
  body["project"]["services"]["web"]["pid"] = "host";
  r = gate(e, "POST", "/v1/stacks/shop/up", body.dump());
  EXPECT_EQ(rule_of(r), "host_namespaces");
  EXPECT_EQ(field_of(r), "services.web.pid");
  // Joining another stack's container (perhaps another user's) needs it
  // too; a container_name of the same project does not.
  for (const char* key : {"pid", "ipc", "network_mode"}) {
    body = json::parse(up_body(compose::Service{}));
    body["project"]["services"]["web"][key] = "container:other-db-1";
    r = gate(e, "POST", "/v1/stacks/shop/up", body.dump());
    EXPECT_EQ(rule_of(r), "host_namespaces") << key;
    EXPECT_EQ(field_of(r), std::string("services.web.") + key);
    body["project"]["services"]["logs"] = {{"name", "logs"}, {"image", "busybox"}, {"container_name", "other-db-1"}};
    r = gate(e, "POST", "/v1/stacks/shop/up", body.dump());
    EXPECT_TRUE(r) << key << ": " << (r ? "" : r.error().reason + " " + r.error().field);
  }
}

TEST(AuthzGate, ExecRunScaleAndStartCheckTheStoredService) {
  StoredEngine e;
  compose::Service priv;
  priv.name = "admin";
  priv.image = "busybox";
  priv.privileged = true;
  e.stored.services["admin"] = priv;
  const std::string exec_web = R"({"service": "web", "cmd": ["sh"], "user": "0"})";
  const std::string exec_admin = R"({"service": "admin", "cmd": ["sh"]})";
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/exec", exec_web)) << "exec as root into a plain container";
  EXPECT_EQ(rule_of(gate(e, "POST", "/v1/stacks/shop/exec", exec_admin)), "privileged");
  EXPECT_EQ(rule_of(gate(e, "POST", "/v1/stacks/shop/run", R"({"service": "admin", "rm": true})")), "privileged");
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/run", R"({"service": "web", "rm": true})"));
  EXPECT_EQ(rule_of(gate(e, "POST", "/v1/stacks/shop/scale", R"({"replicas": {"admin": 3}})")), "privileged");
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/scale", R"({"replicas": {"web": 3}})"));
  EXPECT_EQ(rule_of(gate(e, "POST", "/v1/stacks/shop/start", "{}")), "privileged") << "all services";
  EXPECT_EQ(rule_of(gate(e, "POST", "/v1/stacks/shop/restart", R"({"services": ["admin"]})")), "privileged");
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/shop/restart", R"({"services": ["web"]})"));
  // A service the stored project lacks cannot be checked.
  EXPECT_FALSE(gate(e, "POST", "/v1/stacks/shop/exec", R"({"service": "ghost", "cmd": ["sh"]})"));
  // No such stack: nothing to act on; the route answers 404.
  EXPECT_TRUE(gate(e, "POST", "/v1/stacks/other/exec", exec_admin));
  e.next_error.reset();
}

}  // namespace
}  // namespace stack::orch
