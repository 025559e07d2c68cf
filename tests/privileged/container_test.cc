// What a process inside a default (Docker-equivalent) busybox container sees,
// run for real through `stack-runtime run`.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/container/default_spec.h"
#include "runtime/kernel/capabilities.h"
#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using stack::test::Bundle;
using stack::test::CmdResult;

namespace {

class Container : public stack::test::RuntimeTest {};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST_F(Container, IsPidOneAndSeesOnlyItsOwnProcesses) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  // ps lists /proc: only the shell (pid 1) and ps itself.
  CmdResult r = run_in(b, {"sh", "-c", "echo pid=$$; ps -o pid= | wc -l"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream out(r.out);
  std::string pid_line, count;
  std::getline(out, pid_line);
  std::getline(out, count);
  EXPECT_EQ(pid_line, "pid=1");
  EXPECT_LE(std::stoi(count), 3) << r.out;
}

TEST_F(Container, HasItsOwnHostnameAndOnlyLoopback) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["hostname"] = "web-1";
  CmdResult r = run_in(b, {"sh", "-c", "hostname; ls /sys/class/net; cat /sys/class/net/lo/operstate"});
  ASSERT_EQ(r.status, 0) << r.err;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_NE(std::string(host), "web-1");
  EXPECT_EQ(r.out, "web-1\nlo\nunknown\n");  // lo is up; its operstate reads "unknown"
}

TEST_F(Container, CapabilitiesAreDockersDefaultSet) {
  STACK_REQUIRE_ROOT();
  uint64_t want = 0;
  for (auto& c : stack::rt::docker_default_capabilities()) want |= 1ULL << *stack::rt::capability_from_name(c);
  char hex[32];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(want));
  Bundle b;
  CmdResult r = run_in(b, {"sh", "-c", "grep -E '^Cap(Eff|Bnd|Prm|Amb)' /proc/self/status"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("CapEff:\t") + hex), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("CapBnd:\t") + hex), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("CapPrm:\t") + hex), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapAmb:\t0000000000000000"), std::string::npos) << r.out;
}

TEST_F(Container, DefaultSeccompRefusesPrivilegedCallsAndUnknownOnesGetEnosys) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  CmdResult r = run_in(b, {"sh", "-c", "probe unshare; probe mount; probe keyctl; probe syscall 1000; probe syscall 39"});
  ASSERT_EQ(r.status, 0) << r.err;
  // 39 is getpid: allowed. 1000 is newer than anything the profile names, so
  // it gets ENOSYS (the default action would say EPERM).
  EXPECT_EQ(r.out, "EPERM\nEPERM\nEPERM\nENOSYS\nOK\n");
}

TEST_F(Container, WithoutSeccompTheSameCallsReachTheKernel) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["linux"].erase("seccomp");
  // keyctl is allowed by the kernel for root: the profile was what refused it.
  CmdResult r = run_in(b, {"probe", "keyctl"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n");
}

TEST_F(Container, MaskedPathsReadEmptyAndProcSysIsReadOnly) {
  STACK_REQUIRE_ROOT();
  ASSERT_GT(stack::test::read_file("/proc/timer_list").size(), 0u) << "host has no /proc/timer_list to mask";
  Bundle b;
  CmdResult r = run_in(b, {"sh", "-c",
                           "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; probe write /proc/sys/kernel/hostname; "
                           "probe write /proc/sys/vm/overcommit_memory"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "0\n0\nEROFS\nEROFS\n");
}

TEST_F(Container, NoStrayFileDescriptorsReachTheContainer) {
  STACK_REQUIRE_ROOT();
  // An fd this test process holds without O_CLOEXEC is inherited by
  // stack-runtime; it must not reach the container.
  int leaked = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(leaked, 3);
  Bundle b;
  CmdResult r = run_in(b, {"probe", "fds"});
  ::close(leaked);
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<int> fds;
  for (std::string l; std::getline(lines, l);) fds.push_back(std::stoi(l));
  EXPECT_EQ(fds, (std::vector<int>{0, 1, 2})) << r.out;
}

TEST_F(Container, PreservedFdsArePassed) {
  STACK_REQUIRE_ROOT();
  int extra = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(extra, 3);
  int fd3 = ::dup2(extra, 3);
  ASSERT_EQ(fd3, 3);
  Bundle b;
  b.set_args({"probe", "fds"});
  std::string id = new_id();
  CmdResult r = rt({"run", "--preserve-fds", "1", "--bundle", b.dir(), id});
  ::close(3);
  if (extra != 3) ::close(extra);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("3 /etc/hostname"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n4 "), std::string::npos) << r.out;
}

TEST_F(Container, RlimitsApplyAndUnraisableHardLimitsAreClamped) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 256}, {"hard", 512}},
                                    {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}};
  CmdResult r = run_in(b, {"sh", "-c", "probe rlimit nofile; probe rlimit core"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "256 512\n0 0\n");

  struct rlimit cur;
  ::getrlimit(RLIMIT_NPROC, &cur);
  if (cur.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "hard RLIMIT_NPROC is unlimited here; nothing to clamp";
  Bundle c;
  const uint64_t hard = cur.rlim_max;
  c.config["process"]["rlimits"] = {{{"type", "RLIMIT_NPROC"}, {"soft", hard}, {"hard", hard + 100}}};
  CmdResult clamped = run_in(c, {"probe", "rlimit", "nproc"});
  ASSERT_EQ(clamped.status, 0) << clamped.err;
  EXPECT_EQ(clamped.out, std::to_string(cur.rlim_max) + " " + std::to_string(cur.rlim_max) + "\n");
  EXPECT_NE(clamped.err.find("clamped"), std::string::npos) << clamped.err;
}

TEST_F(Container, MemoryHogIsOomKilledAndTheKillIsReported) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  b.set_args({"probe", "hog", "64"});
  std::string id = new_id();
  CmdResult r = rt({"run", "--keep", "--bundle", b.dir(), id});
  EXPECT_EQ(r.status, 137) << r.out << r.err;  // SIGKILL
  CmdResult ev = rt({"events", "--stats", id});
  ASSERT_EQ(ev.status, 0) << ev.err;
  auto stats = nlohmann::json::parse(ev.out);
  EXPECT_GE(stats["data"]["memory"]["oom_kills"].get<int>(), 1) << ev.out;
  EXPECT_EQ(rt({"delete", id}).status, 0);
}

TEST_F(Container, ForkBombStopsAtThePidsLimit) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["linux"]["resources"]["pids"] = {{"limit", 20}};
  CmdResult r = run_in(b, {"probe", "forks", "200"});
  ASSERT_EQ(r.status, 0) << r.err;
  int made = 0;
  char err[32] = {};
  ASSERT_EQ(std::sscanf(r.out.c_str(), "forked %d %31s", &made, err), 2) << r.out;
  EXPECT_LT(made, 20);
  EXPECT_STREQ(err, "EAGAIN");
}

TEST_F(Container, SymlinkedMountTargetCannotEscapeTheRootfs) {
  STACK_REQUIRE_ROOT();
  ASSERT_FALSE(fs::exists("/escape-target-stack")) << "host already has /escape-target-stack";
  Bundle b;
  fs::remove_all(b.rootfs() + "/etc");
  fs::create_symlink("/", b.rootfs() + "/etc");  // absolute symlink to "/"
  stack::test::TempDir src("stack-bindsrc");
  std::ofstream(src.path() + "/marker") << "inside";
  b.config["mounts"].push_back({{"destination", "/etc/escape-target-stack"}, {"type", "bind"},
                                {"source", src.path()}, {"options", {"rbind", "ro"}}});
  CmdResult r = run_in(b, {"cat", "/escape-target-stack/marker"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "inside");
  EXPECT_FALSE(fs::exists("/escape-target-stack")) << "mount target escaped onto the host";
  EXPECT_TRUE(fs::is_directory(b.rootfs() + "/escape-target-stack"));
}

TEST_F(Container, UserNamespaceMapsRootToAnUnprivilegedHostUid) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  // The mapped root (host uid 100000) must be able to reach its rootfs, as
  // with runc: mkdtemp made the bundle 0700.
  ::chmod(b.dir().c_str(), 0755);
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  // sysfs cannot be mounted from a user namespace without a matching netns
  // owner; Docker's userns mode binds it instead. Keep the test to proc/dev.
  auto& mounts = b.config["mounts"];
  for (size_t i = 0; i < mounts.size(); i++)
    if (mounts[i]["destination"] == "/sys/fs/cgroup") mounts.erase(i--);
  CmdResult r = run_in(b, {"sh", "-c", "id -u; cat /proc/self/uid_map"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream out(r.out);
  std::string uid, map;
  std::getline(out, uid);
  std::getline(out, map);
  EXPECT_EQ(uid, "0");
  std::istringstream m(map);
  long inside, outside, size;
  m >> inside >> outside >> size;
  EXPECT_EQ(inside, 0);
  EXPECT_EQ(outside, 100000);
  EXPECT_EQ(size, 65536);
}

TEST_F(Container, ReadOnlyRootRefusesWritesButTmpfsMountsStayWritable) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.config["root"]["readonly"] = true;
  b.config["mounts"].push_back({{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                                {"options", {"nosuid", "nodev"}}});
  CmdResult r = run_in(b, {"sh", "-c", "probe write /etc/x; probe write /tmp/x"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "EROFS\nOK\n");
}

TEST_F(Container, ExitStatusIsPropagatedByRun) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  EXPECT_EQ(run_in(b, {"sh", "-c", "exit 7"}).status, 7);
  // A child killed by a signal: the shell reports 128+9 and run passes it on.
  EXPECT_EQ(run_in(b, {"sh", "-c", "sh -c 'kill -9 $$'; exit $?"}).status, 137);
}

}  // namespace
