// stack-runtime as external tools drive it: runc's verbs, the OCI state
// document, the console socket protocol, exec, and one-line errors that
// leave nothing behind.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/kernel/terminal.h"
#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using stack::test::Bundle;
using stack::test::CmdResult;

namespace {

class RuntimeCli : public stack::test::RuntimeTest {
 protected:
  json state(const std::string& id) {
    CmdResult r = rt({"state", id});
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(r.out);
  }
  // Polls `state` until it reports `want` (bounded: containers are fast, but
  // this is a correctness test, not a timing one).
  std::string wait_status(const std::string& id, const std::string& want) {
    std::string s;
    for (int i = 0; i < 500; i++) {
      s = state(id)["status"];
      if (s == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return s;
  }
  static bool one_line(const std::string& err) {
    return !err.empty() && err.find('\n') == err.size() - 1;
  }
};

TEST_F(RuntimeCli, SpecWritesADefaultConfigAndRefusesToOverwrite) {
  stack::test::TempDir d;
  CmdResult r = rt({"spec", "--bundle", d.path()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto cfg = json::parse(stack::test::read_file(d.path() + "/config.json"));
  EXPECT_EQ(cfg["process"]["capabilities"]["bounding"].size(), 14u);
  EXPECT_EQ(cfg["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
  CmdResult again = rt({"spec", "--bundle", d.path()});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
}

TEST_F(RuntimeCli, CreateStartKillDeleteWalkTheOciStates) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "30"});
  std::string id = new_id();
  std::string pidfile = b.dir() + "/pid";
  CmdResult c = rt({"create", "--bundle", b.dir(), "--pid-file", pidfile, id});
  ASSERT_EQ(c.status, 0) << c.err;
  json s = state(id);
  EXPECT_EQ(s["status"], "created");
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["bundle"], fs::canonical(b.dir()).string());
  int pid = s["pid"];
  EXPECT_EQ(std::to_string(pid), stack::test::read_file(pidfile));
  EXPECT_TRUE(stack::test::process_alive(pid));
  EXPECT_FALSE(RuntimeTest::cgroup_dirs_of(id).empty());

  CmdResult list = rt({"list", "--format", "json"});
  ASSERT_EQ(list.status, 0);
  EXPECT_EQ(json::parse(list.out)[0]["id"], id);

  ASSERT_EQ(rt({"start", id}).status, 0);
  EXPECT_EQ(state(id)["status"], "running");
  CmdResult ps = rt({"ps", "--format", "json", id});
  ASSERT_EQ(ps.status, 0) << ps.err;
  EXPECT_EQ(json::parse(ps.out), json::array({pid}));

  // Deleting a running container needs --force.
  CmdResult refused = rt({"delete", id});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("running"), std::string::npos) << refused.err;

  ASSERT_EQ(rt({"kill", id, "KILL"}).status, 0);
  EXPECT_EQ(wait_status(id, "stopped"), "stopped");
  EXPECT_EQ(state(id)["pid"], 0);
  ASSERT_EQ(rt({"delete", id}).status, 0);
  EXPECT_FALSE(fs::exists(root_.path() + "/" + id));
  EXPECT_TRUE(RuntimeTest::cgroup_dirs_of(id).empty());
  EXPECT_FALSE(stack::test::process_alive(pid));
}

TEST_F(RuntimeCli, ConsoleSocketReceivesThePtyMaster) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["process"]["terminal"] = true;
  b.set_args({"sh", "-c", "tty; echo hello-from-pty"});
  std::string sock = b.dir() + "/console.sock";
  int srv = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(srv, 1), 0);
  std::string id = new_id();
  CmdResult c = rt({"create", "--bundle", b.dir(), "--console-socket", sock, id});
  ASSERT_EQ(c.status, 0) << c.err;
  int conn = ::accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  auto master = stack::rt::receive_pty_master(conn);
  ASSERT_TRUE(master) << master.error().message();
  ASSERT_EQ(rt({"start", id}).status, 0);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(master->get(), buf, sizeof buf)) > 0;) out.append(buf, n);
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("hello-from-pty"), std::string::npos) << out;
  ::close(conn);
  ::close(srv);
  wait_status(id, "stopped");
  EXPECT_EQ(rt({"delete", id}).status, 0);
}

TEST_F(RuntimeCli, ExecJoinsEveryNamespaceAndGetsTheSameRestrictions) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "30"});
  std::string id = new_id();
  ASSERT_EQ(rt({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
  int pid = state(id)["pid"];
  for (const char* ns : {"pid", "net", "mnt", "ipc", "uts", "cgroup"}) {
    std::string host_view = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + ns).string();
    CmdResult r = rt({"exec", id, "readlink", std::string("/proc/self/ns/") + ns});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, host_view + "\n") << ns;
  }
  CmdResult caps = rt({"exec", id, "grep", "CapBnd", "/proc/self/status"});
  EXPECT_NE(caps.out.find("00000000a80425fb"), std::string::npos) << caps.out;
  CmdResult sc = rt({"exec", id, "probe", "unshare"});
  EXPECT_EQ(sc.out, "EPERM\n");
  // The exec'd process is in the container's cgroup.
  CmdResult cg = rt({"exec", id, "sh", "-c", "cat /proc/self/cgroup | grep memory"});
  // The container's cgroup is the root of its cgroup namespace.
  EXPECT_NE(cg.out.find(":memory:/\n"), std::string::npos) << cg.out;
  EXPECT_EQ(rt({"exec", id, "sh", "-c", "exit 5"}).status, 5);
  EXPECT_EQ(rt({"exec", "--user", "65534:65534", id, "id", "-u"}).out, "65534\n");
  ASSERT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(RuntimeCli, ExecWithProcessJsonAndDetach) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "30"});
  std::string id = new_id();
  ASSERT_EQ(rt({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
  json proc = b.config["process"];
  proc["args"] = {"sh", "-c", "echo $GREETING > /tmp/done"};
  proc["env"] = {"PATH=/bin", "GREETING=hi"};
  std::ofstream(b.dir() + "/process.json") << proc.dump();
  std::string pidfile = b.dir() + "/exec.pid";
  CmdResult r = rt({"exec", "--process", b.dir() + "/process.json", "--detach", "--pid-file", pidfile, id});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(stack::test::read_file(pidfile).empty());
  std::string content;
  for (int i = 0; i < 200 && content.empty(); i++) {
    content = rt({"exec", id, "cat", "/tmp/done"}).out;
    if (content.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(content, "hi\n");
  ASSERT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(RuntimeCli, RuntimeBinaryCannotBeReachedFromInsideBeforeExec) {
  STACK_REQUIRE_ROOT();
  // A created container's init is still the runtime binary, waiting on
  // exec.fifo; a process exec'd into the container must not be able to open
  // it (CVE-2019-5736 class).
  Bundle b;
  b.set_args({"sleep", "30"});
  std::string id = new_id();
  ASSERT_EQ(rt({"create", "--bundle", b.dir(), id}).status, 0);
  CmdResult r = rt({"exec", id, "sh", "-c", "cat /proc/1/exe > /dev/null 2>&1; echo read=$?; probe write /proc/1/exe"});
  EXPECT_EQ(r.out, "read=1\nEACCES\n") << r.err;
  ASSERT_EQ(rt({"delete", id}).status, 0);  // a created container is deleted without --force
}

TEST_F(RuntimeCli, ErrorsAreOneLineAndNonZero) {
  CmdResult unknown = rt({"state", "nope"});
  EXPECT_NE(unknown.status, 0);
  EXPECT_TRUE(one_line(unknown.err)) << unknown.err;
  EXPECT_NE(unknown.err.find("does not exist"), std::string::npos);
  for (auto verb : {"start", "kill", "delete"}) {
    CmdResult r = rt({verb, "nope"});
    EXPECT_NE(r.status, 0) << verb;
    EXPECT_TRUE(one_line(r.err)) << verb << ": " << r.err;
  }
  CmdResult bad_id = rt({"state", "../etc"});
  EXPECT_NE(bad_id.status, 0);
  EXPECT_NE(bad_id.err.find("invalid container id"), std::string::npos) << bad_id.err;
  CmdResult bad_flag = rt({"create", "--no-such-flag", "x"});
  EXPECT_NE(bad_flag.status, 0);
}

TEST_F(RuntimeCli, BadBundlesAreRefusedAndLeaveNothing) {
  STACK_REQUIRE_ROOT();
  stack::test::TempDir empty;
  std::string id = new_id();
  CmdResult none = rt({"create", "--bundle", empty.path(), id});
  EXPECT_NE(none.status, 0);
  EXPECT_NE(none.err.find("config.json"), std::string::npos) << none.err;

  Bundle b;
  std::ofstream(b.dir() + "/config.json") << "{ not json";
  CmdResult broken = rt({"create", "--bundle", b.dir(), id});
  EXPECT_NE(broken.status, 0);
  EXPECT_NE(broken.err.find("invalid JSON"), std::string::npos) << broken.err;

  b.config["process"].erase("args");
  b.write_config();
  CmdResult field = rt({"create", "--bundle", b.dir(), id});
  EXPECT_NE(field.status, 0);
  EXPECT_NE(field.err.find("process.args"), std::string::npos) << field.err;
  EXPECT_TRUE(one_line(field.err)) << field.err;

  // Fails inside the container's init, after namespaces and cgroup exist:
  // everything must be rolled back.
  b.set_args({"no-such-binary"});
  CmdResult late = rt({"create", "--bundle", b.dir(), id});
  EXPECT_NE(late.status, 0);
  EXPECT_NE(late.err.find("executable file not found"), std::string::npos) << late.err;
  EXPECT_FALSE(fs::exists(root_.path() + "/" + id));
  EXPECT_TRUE(RuntimeTest::cgroup_dirs_of(id).empty());

  // Starting twice is a state error.
  b.set_args({"true"});
  ASSERT_EQ(rt({"create", "--bundle", b.dir(), id}).status, 0);
  CmdResult dup = rt({"create", "--bundle", b.dir(), id});
  EXPECT_NE(dup.status, 0);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  ASSERT_EQ(rt({"start", id}).status, 0);
  wait_status(id, "stopped");
  CmdResult again = rt({"start", id});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("stopped"), std::string::npos) << again.err;
  EXPECT_EQ(rt({"delete", id}).status, 0);
}

TEST_F(RuntimeCli, ExecWithATerminalProxiesThePty) {
  STACK_REQUIRE_ROOT();
  if (!fs::exists("/usr/bin/script")) GTEST_SKIP() << "script(1) is not installed";
  Bundle b;
  b.set_args({"sleep", "30"});
  std::string id = new_id();
  ASSERT_EQ(rt({"run", "--detach", "--bundle", b.dir(), id}).status, 0);
  // script(1) gives exec a terminal; exec -t then proxies the container's
  // pty to it. Input typed at our terminal reaches the container's shell.
  std::string cmd = stack::test::binary("stack-runtime") + " --root " + root_.path() + " exec -t " + id +
                    " sh -c 'tty; read line; echo got-$line'";
  CmdResult r = stack::test::run({"script", "-qec", cmd, "/dev/null"}, "hello\n");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("got-hello"), std::string::npos) << r.out;
  ASSERT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(RuntimeCli, FeaturesIsJson) {
  CmdResult r = rt({"features"});
  ASSERT_EQ(r.status, 0);
  auto f = json::parse(r.out);
  EXPECT_TRUE(f["linux"]["seccomp"]["enabled"].get<bool>());
}

}  // namespace
