// The three escapes found against stack-runtime (issue 10), each shown
// working against an unprotected path first (the positive control), then
// failing against ours:
//   CVE-2019-5736  the runtime binary overwritten through /proc/<pid>/exe;
//   CVE-2024-21626 a leaked directory fd as the working directory;
//   host block devices read through a node the container made (no CVE: the
//   missing default-deny device cgroup).
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using stack::test::Bundle;
using stack::test::CmdResult;
using stack::test::read_file;
using stack::test::run;
using stack::test::TempDir;

namespace {

class Escape : public stack::test::RuntimeTest {
 protected:
  // Starts `b` detached and returns the container's pid.
  pid_t start_detached(Bundle& b, const std::string& id) {
    b.write_config();
    CmdResult r = rt({"run", "--detach", "--bundle", b.dir(), id});
    EXPECT_EQ(r.status, 0) << r.err;
    CmdResult s = rt({"state", id});
    return s.status == 0 ? json::parse(s.out)["pid"].get<pid_t>() : -1;
  }
};

void write_executable(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
  ::chmod(path.c_str(), 0755);
}

// The attacker's report, once it has tried its write.
std::string wait_for_write_attempt(const std::string& report, const std::function<void()>& trigger) {
  std::string text;
  for (int i = 0; i < 100 && text.find("write ") == std::string::npos; i++) {
    trigger();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = read_file(report);
  }
  for (int i = 0; i < 200 && text.find("write ") == std::string::npos; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = read_file(report);
  }
  return text;
}

// An image whose program is "#!/proc/self/exe": the kernel runs whatever
// binary the exec'ing process was, inside the container. The container's
// main process (stack-probe grab-exe) holds that process's /proc/<pid>/exe
// and writes through it once it is no longer busy.
TEST_F(Escape, CVE_2019_5736_ExecCannotOverwriteTheRuntimeBinary) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  write_executable(b.rootfs() + "/bin/evil", "#!/proc/self/exe --version\n");
  b.set_args({"/bin/probe", "grab-exe", "/report"});
  const std::string report = b.rootfs() + "/report";

  // Positive control: a process that enters the container from a host file,
  // with the container's capabilities (as any runtime execs), gets
  // overwritten. The victim is a copy of stack-probe in "enter" mode: static,
  // so it runs in a rootfs without libc, and a copy, so nothing real is at
  // risk.
  TempDir victim;
  const std::string unprotected = victim.path() + "/probe";
  fs::copy_file(stack::test::binary("stack-probe"), unprotected);
  const std::string control_id = new_id();
  pid_t pid = start_detached(b, control_id);
  ASSERT_GT(pid, 0);
  std::string seen = wait_for_write_attempt(report, [&] {
    run({unprotected, "enter", std::to_string(pid), "/bin/evil"});
  });
  EXPECT_NE(seen.find("captured "), std::string::npos) << seen;
  EXPECT_NE(seen.find("write OK"), std::string::npos) << seen;
  EXPECT_EQ(read_file(unprotected).rfind("#!/bin/sh\necho pwned-by-the-container", 0), 0u)
      << "the unprotected binary should have been overwritten";
  EXPECT_EQ(rt({"delete", "--force", control_id}).status, 0);

  // Ours: `stack-runtime exec` (also what stackd's exec health checks run).
  fs::remove(report);
  const std::string runtime = stack::test::binary("stack-runtime");
  const std::string before = read_file(runtime);
  const std::string id = new_id();
  ASSERT_GT(start_detached(b, id), 0);
  seen = wait_for_write_attempt(report, [&] { rt({"exec", id, "/bin/evil"}); });
  // A read-only mount clone (EROFS) or, without CAP_SYS_ADMIN, a sealed
  // memfd (EPERM): protected_exe.h.
  EXPECT_NE(seen.find("captured "), std::string::npos) << seen;
  EXPECT_TRUE(seen.find("write EROFS") != std::string::npos || seen.find("write EPERM") != std::string::npos) << seen;
  EXPECT_TRUE(read_file(runtime) == before) << "the host's stack-runtime binary changed";
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

// Whoever starts stack-runtime leaves fd 9 open on a host directory; the
// container asks for "/proc/self/fd/9" as its working directory.
TEST_F(Escape, CVE_2024_21626_LeakedDirectoryFdIsNotAWayOut) {
  STACK_REQUIRE_ROOT();
  TempDir host;
  std::ofstream(host.path() + "/host-secret") << "host bytes\n";
  Bundle b;

  // Positive control: a process in the container's mount namespace whose
  // working directory is that fd reads the host's file.
  const std::string sleeper = new_id();
  b.set_args({"sleep", "100"});
  pid_t pid = start_detached(b, sleeper);
  ASSERT_GT(pid, 0);
  pid_t child = ::fork();
  if (child == 0) {
    int dir = ::open(host.path().c_str(), O_RDONLY | O_DIRECTORY);
    int ns = ::open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY);
    if (dir < 0 || ns < 0 || ::setns(ns, CLONE_NEWNS) != 0) _exit(2);
    if (::fchdir(dir) != 0) _exit(3);  // what chdir("/proc/self/fd/9") does
    _exit(::access("host-secret", R_OK) == 0 ? 0 : 1);
  }
  int st = 0;
  ::waitpid(child, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "control: the host file should be reachable";

  // Ours, for exec --cwd: the caller's fd 9 is closed, the cwd resolved in
  // the container's root.
  const std::string leak = "exec 9<" + host.path() + "; exec " + stack::test::binary("stack-runtime") + " --root " +
                           root_.path() + " ";
  CmdResult e = run({"sh", "-c", leak + "exec --cwd /proc/self/fd/9 " + sleeper + " cat host-secret"});
  EXPECT_NE(e.status, 0);
  EXPECT_EQ(e.out.find("host bytes"), std::string::npos) << e.out;
  EXPECT_NE(e.err.find("cwd /proc/self/fd/9"), std::string::npos) << e.err;
  EXPECT_EQ(rt({"delete", "--force", sleeper}).status, 0);

  // Even when the caller passes fd 9 on on purpose (--preserve-fds), the
  // cwd is resolved inside the root: refused.
  b.set_args({"cat", "host-secret"});
  b.config["process"]["cwd"] = "/proc/self/fd/9";
  b.write_config();
  const std::string kept = new_id();
  CmdResult p = run({"sh", "-c", leak + "run --preserve-fds 7 --bundle " + b.dir() + " " + kept});
  EXPECT_NE(p.status, 0);
  EXPECT_EQ(p.out.find("host bytes"), std::string::npos) << p.out;
  EXPECT_NE(p.err.find("cwd /proc/self/fd/9"), std::string::npos) << p.err;

  // ... and for process.cwd at create: refused, nothing left behind.
  const std::string id = new_id();
  CmdResult c = run({"sh", "-c", leak + "run --bundle " + b.dir() + " " + id});
  EXPECT_NE(c.status, 0);
  EXPECT_EQ(c.out.find("host bytes"), std::string::npos) << c.out;
  EXPECT_NE(c.err.find("cwd /proc/self/fd/9"), std::string::npos) << c.err;
}

// A fd the caller leaks never reaches the container's program either (the
// init marks everything above the preserved range close-on-exec; the CLI
// also closes it at start, which the test above covers together with the
// cwd check).
TEST_F(Escape, CVE_2024_21626_LeakedFdsDoNotReachTheContainersProgram) {
  STACK_REQUIRE_ROOT();
  TempDir host;
  Bundle b;
  b.set_args({"/bin/probe", "fds"});
  b.write_config();
  const std::string id = new_id();
  CmdResult r = run({"sh", "-c", "exec 9<" + host.path() + "; exec " + stack::test::binary("stack-runtime") +
                                     " --root " + root_.path() + " run --bundle " + b.dir() + " " + id});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find(host.path()), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n9 "), std::string::npos) << r.out;
}

// A loop device over a file with a marker stands for the host's disk.
class LoopDevice {
 public:
  LoopDevice() {
    std::string data(1 << 20, '\0');
    data.replace(0, 22, "host-disk-marker-bytes");
    std::ofstream(file_.path() + "/disk") << data;
    CmdResult r = run({"losetup", "--find", "--show", file_.path() + "/disk"});
    dev_ = r.status == 0 ? r.out.substr(0, r.out.find('\n')) : "";
    struct stat st;
    if (!dev_.empty() && ::stat(dev_.c_str(), &st) == 0) rdev_ = st.st_rdev;
  }
  ~LoopDevice() {
    if (!dev_.empty()) run({"losetup", "--detach", dev_});
  }
  bool ok() const { return rdev_ != 0; }
  std::string mknod_and_read() const {
    return "mknod /tmp/disk b " + std::to_string(major(rdev_)) + " " + std::to_string(minor(rdev_)) +
           " && head -c 22 /tmp/disk";
  }
  unsigned maj() const { return major(rdev_); }
  unsigned min() const { return minor(rdev_); }

 private:
  TempDir file_;
  std::string dev_;
  dev_t rdev_ = 0;
};

TEST_F(Escape, DefaultContainerCannotReadAHostBlockDeviceThroughANodeItMade) {
  STACK_REQUIRE_ROOT();
  LoopDevice loop;
  if (!loop.ok()) GTEST_SKIP() << "no loop device available";

  // Positive control: the same container allowed that one device reads it.
  Bundle allowed;
  allowed.config["linux"]["resources"]["devices"] =
      json::array({{{"allow", true}, {"type", "b"}, {"major", loop.maj()}, {"minor", loop.min()}, {"access", "r"}}});
  CmdResult control = run_in(allowed, {"sh", "-c", loop.mknod_and_read()});
  EXPECT_EQ(control.status, 0) << control.err;
  EXPECT_EQ(control.out, "host-disk-marker-bytes");

  // Default container: CAP_MKNOD makes the node, the device cgroup refuses
  // the open.
  Bundle b;
  CmdResult r = run_in(b, {"sh", "-c", loop.mknod_and_read()});
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find("host-disk-marker"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;

  // The defaults still work: /dev/null, /dev/zero, /dev/urandom, a pty.
  CmdResult ok = run_in(b, {"sh", "-c", "head -c 4 /dev/zero > /dev/null && head -c 4 /dev/urandom | wc -c"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "4\n");
}

}  // namespace
