// Seccomp against the real kernel: a forked child sets no_new_privs, loads a
// compiled program with load_seccomp and probes syscalls; what each probe
// returned (0 or errno) comes back over a pipe. The child runs as root with
// every capability, so an EPERM here is the filter's doing; a baseline run
// without a filter shows the same probes succeed.
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/kernel/seccomp.h"
#include "tests/support/bundle.h"

namespace {

using stack::rt::Seccomp;
using stack::rt::SeccompProgram;

const std::vector<std::string> kDockerCaps = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",      "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",     "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",           "CAP_SYS_CHROOT",       "CAP_KILL",        "CAP_AUDIT_WRITE"};

enum Probe : int {
  kUnshareMountNs,
  kMount,
  kAddKey,
  kKeyctl,
  kNewerSyscall,  // the number after the highest one the profile names
  kGetpid,
  kGetppid,
  kClone3,
  kSocketVsock,
  kSocketInet,
  kProbeCount,
};

// In the child, after the filter: raw syscalls only. 0 on success, else errno.
int run_probe(int probe, long newer_nr) {
  long r = -1;
  switch (probe) {
    case kUnshareMountNs: r = ::syscall(SYS_unshare, CLONE_NEWNS); break;
    case kMount: r = ::syscall(SYS_mount, "none", "/nonexistent-stack-seccomp", "tmpfs", 0, nullptr); break;
    case kAddKey: r = ::syscall(SYS_add_key, "user", "stack-seccomp-test", "v", 1, -2 /* process keyring */); break;
    case kKeyctl: r = ::syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -2, 0); break;
    case kNewerSyscall: r = ::syscall(newer_nr, 0, 0, 0, 0, 0, 0); break;
    case kGetpid: r = ::syscall(SYS_getpid); break;
    case kGetppid: r = ::syscall(SYS_getppid); break;
    case kClone3: r = ::syscall(SYS_clone3, nullptr, 0); break;
    case kSocketVsock: r = ::syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0); break;
    case kSocketInet: r = ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); break;
  }
  if (r < 0) return errno;
  if (probe == kSocketVsock || probe == kSocketInet) ::close(static_cast<int>(r));
  return 0;
}

struct Outcome {
  int load = -1;  // load_seccomp's return
  std::array<int, kProbeCount> probe{};
};

// `program` null: no filter (baseline).
Outcome probe_in_child(const SeccompProgram* program, long newer_nr) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Outcome o;
    o.load = 0;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) o.load = errno;
    if (o.load == 0 && program) o.load = stack::rt::load_seccomp(*program);
    if (o.load == 0)
      for (int p = 0; p < kProbeCount; ++p) o.probe[p] = run_probe(p, newer_nr);
    ssize_t n = ::write(fds[1], &o, sizeof o);
    ::_exit(n == static_cast<ssize_t>(sizeof o) ? 0 : 1);
  }
  ::close(fds[1]);
  Outcome o;
  ssize_t n = ::read(fds[0], &o, sizeof o);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof o)) << "child wrote no result; status " << status;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  return o;
}

// One past the highest x86_64 syscall number the resolved profile names.
long newer_than_profile(const Seccomp& s) {
  int m = -1;
  for (const auto& r : s.syscalls)
    for (const auto& n : r.names) m = std::max(m, seccomp_syscall_resolve_name(n.c_str()));
  return m + 1;
}

std::string errname(int e) { return e == 0 ? "success" : std::string(strerrorname_np(e) ? strerrorname_np(e) : "?"); }

#define EXPECT_PROBE(outcome, which, err) \
  EXPECT_EQ(errname((outcome).probe[which]), errname(err)) << #which

TEST(SeccompLoad, DefaultProfileRefusesWhatDockerRefuses) {
  STACK_REQUIRE_ROOT();
  Seccomp prof = stack::rt::default_seccomp_profile(kDockerCaps);
  auto prog = stack::rt::compile_seccomp(prof);
  ASSERT_TRUE(prog) << prog.error().message();
  const long newer = newer_than_profile(prof);
  ASSERT_LT(newer, 0x40000000);

  Outcome base = probe_in_child(nullptr, newer);  // the kernel alone, as root
  ASSERT_EQ(base.load, 0);
  EXPECT_PROBE(base, kUnshareMountNs, 0);
  EXPECT_PROBE(base, kMount, ENOENT);
  EXPECT_PROBE(base, kGetpid, 0);
  EXPECT_PROBE(base, kSocketInet, 0);
  EXPECT_NE(base.probe[kClone3], ENOSYS);

  Outcome o = probe_in_child(&*prog, newer);
  ASSERT_EQ(o.load, 0) << errname(o.load);
  EXPECT_PROBE(o, kUnshareMountNs, EPERM);
  EXPECT_PROBE(o, kMount, EPERM);
  EXPECT_PROBE(o, kAddKey, EPERM);
  EXPECT_PROBE(o, kKeyctl, EPERM);
  EXPECT_PROBE(o, kNewerSyscall, ENOSYS) << " (syscall " << newer << ")";
  EXPECT_PROBE(o, kGetpid, 0);
  EXPECT_PROBE(o, kGetppid, 0);
  EXPECT_PROBE(o, kClone3, ENOSYS);
  EXPECT_PROBE(o, kSocketVsock, EPERM);
  EXPECT_PROBE(o, kSocketInet, 0);
}

TEST(SeccompLoad, SysAdminProfileLetsMountAndClone3Through) {
  STACK_REQUIRE_ROOT();
  Seccomp prof = stack::rt::default_seccomp_profile({"CAP_SYS_ADMIN"});
  auto prog = stack::rt::compile_seccomp(prof);
  ASSERT_TRUE(prog) << prog.error().message();
  Outcome o = probe_in_child(&*prog, newer_than_profile(prof));
  ASSERT_EQ(o.load, 0) << errname(o.load);
  EXPECT_PROBE(o, kMount, ENOENT);  // reached the kernel
  EXPECT_PROBE(o, kUnshareMountNs, 0);
  EXPECT_NE(o.probe[kClone3], ENOSYS);
  EXPECT_NE(o.probe[kClone3], EPERM);
}

TEST(SeccompLoad, AllowAllWithOneErrnoRule) {
  STACK_REQUIRE_ROOT();
  Seccomp prof;
  prof.default_action = "SCMP_ACT_ALLOW";
  prof.syscalls = {{{"getppid"}, "SCMP_ACT_ERRNO", EXDEV, {}}};
  auto prog = stack::rt::compile_seccomp(prof);
  ASSERT_TRUE(prog) << prog.error().message();
  Outcome o = probe_in_child(&*prog, SYS_getpid);
  ASSERT_EQ(o.load, 0) << errname(o.load);
  EXPECT_PROBE(o, kGetppid, EXDEV);
  EXPECT_PROBE(o, kGetpid, 0);
  EXPECT_PROBE(o, kUnshareMountNs, 0);
}

TEST(SeccompLoad, BadProgramIsRefusedWithErrno) {
  STACK_REQUIRE_ROOT();
  SeccompProgram bad;
  bad.insns = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4096)};  // out of seccomp_data, no return
  Outcome o = probe_in_child(&bad, SYS_getpid);
  EXPECT_EQ(errname(o.load), errname(EINVAL));
}

TEST(SeccompLoad, CompileVersusCacheHitTime) {
  STACK_REQUIRE_ROOT();
  stack::test::TempDir tmp("seccomp-time");
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  Seccomp prof = stack::rt::default_seccomp_profile(kDockerCaps);

  auto t0 = clock::now();
  auto compiled = stack::rt::compile_seccomp(prof);
  auto t1 = clock::now();
  auto miss = stack::rt::compile_seccomp(prof, tmp.path());
  auto t2 = clock::now();
  constexpr int kHits = 100;
  for (int i = 0; i < kHits; ++i) ASSERT_TRUE(stack::rt::compile_seccomp(prof, tmp.path()));
  auto t3 = clock::now();
  ASSERT_TRUE(compiled && miss);

  // Measured, not asserted: the machine decides the numbers.
  std::printf("[seccomp] default profile: %zu insns; compile %.3f ms, compile+cache write %.3f ms, "
              "cache hit %.4f ms (mean of %d)\n",
              compiled->insns.size(), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2) / kHits, kHits);
  RecordProperty("compile_ms", std::to_string(ms(t1 - t0)));
  RecordProperty("cache_hit_ms", std::to_string(ms(t3 - t2) / kHits));

  // The cached program still loads and behaves.
  auto hit = stack::rt::compile_seccomp(prof, tmp.path());
  ASSERT_TRUE(hit);
  Outcome o = probe_in_child(&*hit, newer_than_profile(prof));
  ASSERT_EQ(o.load, 0) << errname(o.load);
  EXPECT_PROBE(o, kMount, EPERM);
  EXPECT_PROBE(o, kGetpid, 0);
}

}  // namespace
