// Spec features a container gets through `stack-runtime`: device rules,
// sysctls, joining namespaces by path, time namespaces, user and groups,
// oomScoreAdj, hooks, and the JSON log that podman reads.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using stack::test::Bundle;
using stack::test::CmdResult;

namespace {

class ContainerSpec : public stack::test::RuntimeTest {
 protected:
  int start_sleeper(Bundle& b, std::string& id) {
    b.set_args({"sleep", "30"});
    id = new_id();
    CmdResult r = rt({"run", "--detach", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(rt({"state", id}).out)["pid"];
  }
};

TEST_F(ContainerSpec, DeviceRulesDenyWhatTheyDoNotAllow) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  // Deny everything, then allow /dev/null only: /dev/kmsg (listed in
  // linux.devices, so the runtime makes it) exists but cannot be opened.
  // /dev/zero stays open: the default devices are allowed whatever the
  // rules say, as under runc (issue 12).
  b.config["linux"]["devices"] = {{{"path", "/dev/kmsg"}, {"type", "c"}, {"major", 1}, {"minor", 11}}};
  b.config["linux"]["resources"]["devices"] = {
      {{"allow", false}, {"access", "rwm"}},
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}}};
  CmdResult r = run_in(b, {"sh", "-c",
                           "echo x > /dev/null && echo null-ok; (: < /dev/kmsg) 2>/dev/null || echo kmsg-denied; "
                           "ls /dev/kmsg; head -c1 /dev/zero | wc -c"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "null-ok\nkmsg-denied\n/dev/kmsg\n1\n");
}

TEST_F(ContainerSpec, SysctlsAreWrittenInTheContainersNamespaceOnly) {
  STACK_REQUIRE_ROOT();
  std::string host_before = stack::test::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  Bundle b;
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_unprivileged_port_start", "80"}};
  CmdResult r = run_in(b, {"cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "80\n");
  EXPECT_EQ(stack::test::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start"), host_before);

  b.config["linux"]["sysctl"] = {{"../../etc/passwd", "x"}};
  CmdResult bad = run_in(b, {"true"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("linux.sysctl: invalid key"), std::string::npos) << bad.err;
}

TEST_F(ContainerSpec, JoinsANetworkNamespaceByPath) {
  STACK_REQUIRE_ROOT();
  Bundle a;
  std::string a_id;
  int a_pid = start_sleeper(a, a_id);
  std::string ns = "/proc/" + std::to_string(a_pid) + "/ns/net";
  Bundle b;
  for (auto& n : b.config["linux"]["namespaces"])
    if (n["type"] == "network") n["path"] = ns;
  CmdResult r = run_in(b, {"readlink", "/proc/self/ns/net"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, fs::read_symlink(ns).string() + "\n");
  EXPECT_EQ(rt({"delete", "--force", a_id}).status, 0);

  Bundle c;
  for (auto& n : c.config["linux"]["namespaces"])
    if (n["type"] == "network") n["path"] = "/etc/hostname";
  CmdResult bad = run_in(c, {"true"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("not a namespace"), std::string::npos) << bad.err;
}

TEST_F(ContainerSpec, TimeNamespaceWhereTheKernelHasOne) {
  STACK_REQUIRE_ROOT();
  if (!fs::exists("/proc/self/ns/time")) GTEST_SKIP() << "kernel has no time namespace";
  Bundle b;
  b.config["linux"]["namespaces"].push_back({{"type", "time"}});
  CmdResult r = run_in(b, {"readlink", "/proc/self/ns/time"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out, fs::read_symlink("/proc/self/ns/time").string() + "\n");
}

TEST_F(ContainerSpec, UserGroupsUmaskAndOomScoreAdj) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}, {"umask", 077}};
  b.config["process"]["oomScoreAdj"] = 500;
  CmdResult r = run_in(b, {"sh", "-c", "id -u; id -g; id -G; umask; cat /proc/self/oom_score_adj; grep CapEff /proc/self/status"});
  ASSERT_EQ(r.status, 0) << r.err;
  // A non-root user keeps no effective capabilities across exec (Docker's
  // behaviour: the spec's effective set is for root).
  EXPECT_EQ(r.out, "1000\n1001\n1001 10 20\n0077\n500\nCapEff:\t0000000000000000\n");
}

TEST_F(ContainerSpec, HooksSeeTheContainerState) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  std::string out = b.dir() + "/prestart.json";
  b.config["hooks"]["prestart"] = {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + out}}}};
  b.config["hooks"]["poststop"] = {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + out + ".stop"}}}};
  CmdResult r = run_in(b, {"true"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto state = json::parse(stack::test::read_file(out));
  EXPECT_EQ(state["id"], ids_.back());
  EXPECT_GT(state["pid"].get<int>(), 0);
  EXPECT_EQ(state["status"], "created");  // the runtime spec's state table (issue 12)
  EXPECT_EQ(json::parse(stack::test::read_file(out + ".stop"))["status"], "stopped");

  b.config["hooks"]["prestart"] = {{{"path", "/bin/false"}}};
  b.config["hooks"].erase("poststop");
  CmdResult failing = run_in(b, {"true"});
  EXPECT_NE(failing.status, 0);
  EXPECT_NE(failing.err.find("prestart hook /bin/false failed"), std::string::npos) << failing.err;
}

TEST_F(ContainerSpec, StatsAreReadableWhileRunning) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
  b.config["linux"]["resources"]["pids"] = {{"limit", 50}};
  std::string id;
  start_sleeper(b, id);
  CmdResult ev = rt({"events", "--stats", id});
  ASSERT_EQ(ev.status, 0) << ev.err;
  auto s = json::parse(ev.out)["data"];
  EXPECT_EQ(s["memory"]["usage"]["limit"], 64 << 20);
  EXPECT_GT(s["memory"]["usage"]["usage"].get<uint64_t>(), 0u);
  EXPECT_EQ(s["pids"]["current"], 1);
  EXPECT_EQ(s["pids"]["limit"], 50);
  EXPECT_EQ(s["memory"]["oom_kills"], 0);
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(ContainerSpec, ErrorsReachTheJsonLogPodmanReads) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"no-such-binary"});
  std::string log = b.dir() + "/runtime.log";
  CmdResult r = rt({"--log", log, "--log-format", "json", "create", "--bundle", b.dir(), new_id()});
  EXPECT_NE(r.status, 0);
  auto line = json::parse(stack::test::read_file(log));
  EXPECT_EQ(line["level"], "error");
  EXPECT_NE(line["msg"].get<std::string>().find("executable file not found"), std::string::npos);
  EXPECT_FALSE(line["time"].get<std::string>().empty());
}

}  // namespace
