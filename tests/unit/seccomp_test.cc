// Seccomp without loading anything: Docker-profile parsing and resolution,
// parity of our built-in default with Docker's, the compiled BPF (run here in
// a small classic-BPF interpreter, so the verdict for a syscall is checked
// without root), and the on-disk cache.
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/kernel/seccomp.h"
#include "runtime/kernel/seccomp_docker.h"
#include "tests/support/bundle.h"

namespace {

using nlohmann::json;
using stack::rt::Seccomp;
using stack::rt::SeccompProgram;
namespace ds = stack::rt::docker_seccomp;
namespace fs = std::filesystem;

const std::vector<std::string> kDockerCaps = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",      "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",     "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",           "CAP_SYS_CHROOT",       "CAP_KILL",        "CAP_AUDIT_WRITE"};

std::vector<std::string> with(std::vector<std::string> caps, const std::string& extra) {
  caps.push_back(extra);
  return caps;
}

int nr(const char* name) { return seccomp_syscall_resolve_name(name); }

// ---- a classic-BPF interpreter, enough for what libseccomp emits ----------

uint32_t run_bpf(const std::vector<sock_filter>& prog, const seccomp_data& d) {
  uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&d);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    const uint32_t src = BPF_SRC(f.code) == BPF_X ? X : f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS && BPF_SIZE(f.code) == BPF_W && f.k + 4 <= sizeof d)
          std::memcpy(&A, bytes + f.k, 4);
        else if (BPF_MODE(f.code) == BPF_IMM) A = f.k;
        else if (BPF_MODE(f.code) == BPF_MEM && f.k < BPF_MEMWORDS) A = M[f.k];
        else if (BPF_MODE(f.code) == BPF_LEN) A = sizeof d;
        else { ADD_FAILURE() << "unsupported load at " << pc; return 0xffffffff; }
        break;
      case BPF_LDX:
        if (BPF_MODE(f.code) == BPF_IMM) X = f.k;
        else if (BPF_MODE(f.code) == BPF_MEM && f.k < BPF_MEMWORDS) X = M[f.k];
        else if (BPF_MODE(f.code) == BPF_LEN) X = sizeof d;
        else { ADD_FAILURE() << "unsupported ldx at " << pc; return 0xffffffff; }
        break;
      case BPF_ST: M[f.k % BPF_MEMWORDS] = A; break;
      case BPF_STX: M[f.k % BPF_MEMWORDS] = X; break;
      case BPF_ALU:
        switch (BPF_OP(f.code)) {
          case BPF_ADD: A += src; break;
          case BPF_SUB: A -= src; break;
          case BPF_MUL: A *= src; break;
          case BPF_DIV: A = src ? A / src : 0; break;
          case BPF_OR: A |= src; break;
          case BPF_AND: A &= src; break;
          case BPF_LSH: A <<= src; break;
          case BPF_RSH: A >>= src; break;
          case BPF_NEG: A = -A; break;
          default: ADD_FAILURE() << "unsupported alu at " << pc; return 0xffffffff;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) { pc += f.k; break; }
        bool c = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ: c = A == src; break;
          case BPF_JGT: c = A > src; break;
          case BPF_JGE: c = A >= src; break;
          case BPF_JSET: c = (A & src) != 0; break;
          default: ADD_FAILURE() << "unsupported jmp at " << pc; return 0xffffffff;
        }
        pc += c ? f.jt : f.jf;
        break;
      }
      case BPF_RET: return BPF_RVAL(f.code) == BPF_A ? A : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) X = A;
        else A = X;
        break;
    }
  }
  ADD_FAILURE() << "program fell off its end";
  return 0xffffffff;
}

uint32_t verdict(const SeccompProgram& p, int syscall_nr, std::vector<uint64_t> args = {},
                 uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data d{};
  d.nr = syscall_nr;
  d.arch = arch;
  for (size_t i = 0; i < args.size() && i < 6; ++i) d.args[i] = args[i];
  return run_bpf(p.insns, d);
}

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t errno_ret(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

// Highest x86_64 number among the names a resolved profile lists (what the
// ENOSYS stub is built from).
int max_named(const Seccomp& s) {
  int m = -1;
  for (const auto& r : s.syscalls)
    for (const auto& n : r.names) m = std::max(m, nr(n.c_str()));
  return m;
}

// ---- parity with Docker's default profile ---------------------------------

std::set<std::string> triples(const Seccomp& s) {
  std::set<std::string> out;
  for (const auto& r : s.syscalls) {
    std::string rest = "|" + r.action + "|" + (r.errno_ret ? std::to_string(*r.errno_ret) : "-") + "|";
    for (const auto& a : r.args)
      rest += std::to_string(a.index) + "," + std::to_string(a.value) + "," + std::to_string(a.value_two) + "," +
              a.op + ";";
    for (const auto& n : r.names) out.insert(n + rest);
  }
  return out;
}

json load_reference() {
  std::ifstream in(stack::test::shared_reference_dir() + "/moby-seccomp-default.json");
  return json::parse(in);
}

class DefaultParity : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(DefaultParity, BuiltInDefaultResolvesLikeDockersJson) {
  if (stack::test::shared_reference_dir().empty()) GTEST_SKIP() << "../shared/reference absent";
  auto ref = stack::rt::seccomp_from_docker_profile(load_reference(), GetParam());
  ASSERT_TRUE(ref) << ref.error().message();
  Seccomp ours = stack::rt::default_seccomp_profile(GetParam());

  EXPECT_EQ(ours.default_action, ref->default_action);
  EXPECT_EQ(ours.default_errno_ret, ref->default_errno_ret);
  EXPECT_EQ(ours.architectures, ref->architectures);
  EXPECT_EQ(ours.flags, ref->flags);
  auto a = triples(ours), b = triples(*ref);
  std::vector<std::string> only_ours, only_ref;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_ours));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_ref));
  EXPECT_TRUE(only_ours.empty()) << "only in ours, e.g. " << only_ours.front();
  EXPECT_TRUE(only_ref.empty()) << "only in Docker's, e.g. " << only_ref.front();
  EXPECT_GT(a.size(), 300u);
}

INSTANTIATE_TEST_SUITE_P(CapSets, DefaultParity,
                         ::testing::Values(kDockerCaps, with(kDockerCaps, "CAP_SYS_ADMIN"),
                                           with(kDockerCaps, "CAP_SYS_PTRACE")),
                         [](const auto& param_info) {
                           const auto& caps = param_info.param;
                           if (caps.size() == kDockerCaps.size()) return std::string("DockerDefaults");
                           return "Plus_" + caps.back();
                         });

TEST(SeccompDefault, CapabilitiesOpenTheirSyscalls) {
  auto allows = [](const Seccomp& s, const std::string& name) {
    for (const auto& r : s.syscalls)
      if (r.action == "SCMP_ACT_ALLOW" && r.args.empty() &&
          std::find(r.names.begin(), r.names.end(), name) != r.names.end())
        return true;
    return false;
  };
  Seccomp base = stack::rt::default_seccomp_profile(kDockerCaps);
  EXPECT_EQ(base.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(base.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(allows(base, "getpid"));
  EXPECT_TRUE(allows(base, "arch_prctl"));  // includes.arches amd64
  EXPECT_TRUE(allows(base, "chroot"));      // CAP_SYS_CHROOT is a Docker default
  EXPECT_FALSE(allows(base, "mount"));
  EXPECT_FALSE(allows(base, "s390_runtime_instr"));
  EXPECT_TRUE(allows(base, "ptrace"));  // minKernel 4.8 <= running kernel
  EXPECT_FALSE(allows(base, "kcmp"));
  Seccomp admin = stack::rt::default_seccomp_profile(with(kDockerCaps, "CAP_SYS_ADMIN"));
  EXPECT_TRUE(allows(admin, "mount"));
  EXPECT_TRUE(allows(admin, "clone3"));
  EXPECT_TRUE(allows(stack::rt::default_seccomp_profile(with(kDockerCaps, "CAP_SYS_PTRACE")), "kcmp"));
}

// ---- the resolver (moby's setupSeccomp) on a chosen host ------------------

ds::Profile parse_ok(const json& j) {
  auto p = ds::parse(j, "p");
  EXPECT_TRUE(p) << p.error().message();
  return p ? *p : ds::Profile{};
}

std::vector<std::string> kept_names(const Seccomp& s) {
  std::vector<std::string> out;
  for (const auto& r : s.syscalls) out.insert(out.end(), r.names.begin(), r.names.end());
  return out;
}

TEST(DockerSeccompResolve, IncludesNeedEveryConditionExcludesAnyOne) {
  ds::Profile p = parse_ok(json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [
      {"names": ["both_caps"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_A", "CAP_B"]}},
      {"names": ["not_a_or_b"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_A", "CAP_B"]}},
      {"names": ["on_amd64"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64", "amd64"]}},
      {"names": ["not_amd64"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
      {"names": ["kernel_5_10"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.10"}},
      {"names": ["before_5_10"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
      {"name": "single", "action": "SCMP_ACT_ALLOW"}
    ]})"));
  ds::Host amd64_5_4{"amd64", "SCMP_ARCH_X86_64", {5, 4}};
  ds::Host arm64_6_1{"arm64", "SCMP_ARCH_AARCH64", {6, 1}};
  EXPECT_EQ(kept_names(ds::resolve(p, {"CAP_A"}, amd64_5_4)),
            (std::vector<std::string>{"on_amd64", "before_5_10", "single"}));
  EXPECT_EQ(kept_names(ds::resolve(p, {"CAP_B", "CAP_A"}, arm64_6_1)),
            (std::vector<std::string>{"both_caps", "on_amd64", "not_amd64", "kernel_5_10", "single"}));
  EXPECT_EQ(kept_names(ds::resolve(p, {}, ds::Host{"amd64", "SCMP_ARCH_X86_64", {5, 10}})),
            (std::vector<std::string>{"not_a_or_b", "on_amd64", "kernel_5_10", "single"}));
}

TEST(DockerSeccompResolve, ArchMapPicksTheHostsEntry) {
  ds::Profile p = parse_ok(json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "archMap": [
      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
      {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
      {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
    ]})"));
  Seccomp amd = ds::resolve(p, {}, ds::Host{"amd64", "SCMP_ARCH_X86_64", {6, 1}});
  EXPECT_EQ(amd.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(amd.default_errno_ret, 1u);
  EXPECT_EQ(amd.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  EXPECT_EQ(ds::resolve(p, {}, ds::Host{"riscv64", "SCMP_ARCH_RISCV64", {6, 1}}).architectures,
            (std::vector<std::string>{"SCMP_ARCH_RISCV64"}));
  EXPECT_TRUE(ds::resolve(p, {}, ds::Host{"sparc", "", {6, 1}}).architectures.empty());
}

// ---- parser errors name the field ------------------------------------------

std::string docker_error(const std::string& text) {
  auto r = stack::rt::seccomp_from_docker_profile(json::parse(text), kDockerCaps);
  return r ? std::string("<no error>") : r.error().message();
}

TEST(DockerSeccompParse, ErrorsNameTheField) {
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["write"], "action": "SCMP_ACT_FOO"}]})"),
            "seccomp profile: syscalls[1].action: unknown action SCMP_ACT_FOO");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]})"),
            "seccomp profile: syscalls[0].args[0].op: unknown operator SCMP_CMP_XX");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": {"index": 0}}]})"),
            "seccomp profile: syscalls[0].args: must be an array");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})"),
            "seccomp profile: syscalls[0].args[0].index: 6 is not an argument index (0-5)");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_BAD"})"),
            "seccomp profile: defaultAction: unknown action SCMP_ACT_BAD");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "seccomp profile: syscalls[0].action: SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]})"),
            "seccomp profile: syscalls[0]: both 'name' and 'names' are set; use one");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}}]})"),
            "seccomp profile: syscalls[0].includes.minKernel: invalid kernel version \"4\", expected "
            "\"<kernel>.<major>\"");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
      "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})"),
            "seccomp profile: both 'architectures' and 'archMap' are set; use one");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]})"),
            "seccomp profile: flags[0]: unknown flag SECCOMP_FILTER_FLAG_NOPE");
  EXPECT_EQ(docker_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}]})"),
            "seccomp profile: syscalls[0].errnoRet: must not be negative");
  EXPECT_EQ(docker_error(R"([1, 2])"), "seccomp profile: must be a JSON object");
  EXPECT_EQ(docker_error(R"({})").rfind("seccomp profile: defaultAction: is required", 0), 0u);
}

TEST(SeccompValidate, OciProfileErrorsNameTheField) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  auto r = stack::rt::compile_seccomp(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "linux.seccomp: architectures[1]: unknown architecture SCMP_ARCH_VAX");
}

// ---- compile: run the BPF ---------------------------------------------------

TEST(SeccompCompile, DefaultProfileVerdicts) {
  Seccomp prof = stack::rt::default_seccomp_profile(kDockerCaps);
  auto prog = stack::rt::compile_seccomp(prof);
  ASSERT_TRUE(prog) << prog.error().message();
  ASSERT_FALSE(prog->empty());
  EXPECT_EQ(prog->flags, 0u);
  const int max = max_named(prof);
  ASSERT_GT(max, 400);

  EXPECT_EQ(verdict(*prog, nr("getpid")), kAllow);
  EXPECT_EQ(verdict(*prog, nr("mount")), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("unshare")), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("add_key")), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("clone3")), errno_ret(ENOSYS));  // Docker's explicit rule
  EXPECT_EQ(verdict(*prog, nr("socket"), {2}), kAllow);       // AF_INET
  EXPECT_EQ(verdict(*prog, nr("socket"), {40}), errno_ret(EPERM));  // AF_VSOCK
  EXPECT_EQ(verdict(*prog, nr("personality"), {0xffffffff}), kAllow);
  EXPECT_EQ(verdict(*prog, nr("personality"), {1}), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("clone"), {0x11}), kAllow);               // fork-like
  EXPECT_EQ(verdict(*prog, nr("clone"), {0x20000 | 0x11}), errno_ret(EPERM));  // CLONE_NEWNS
  // The ENOSYS stub: newer than anything named, on x86_64 only, below x32.
  EXPECT_EQ(verdict(*prog, max + 1), errno_ret(ENOSYS));
  EXPECT_EQ(verdict(*prog, 0x3fffffff), errno_ret(ENOSYS));
  EXPECT_EQ(verdict(*prog, max), kAllow) << "max is a named, allowed syscall";
  EXPECT_NE(verdict(*prog, 0x40000000 | 39), errno_ret(ENOSYS));  // x32 getpid: left to the filter
  EXPECT_EQ(verdict(*prog, 0x40000000 | 39), kAllow);
  EXPECT_EQ(verdict(*prog, 20, {}, AUDIT_ARCH_I386), kAllow);  // i386 getpid
  EXPECT_EQ(verdict(*prog, max + 1, {}, AUDIT_ARCH_I386), errno_ret(EPERM));
}

TEST(SeccompCompile, AllowDefaultGetsNoStubAndRulesKeepTheirErrno) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {{{"getppid"}, "SCMP_ACT_ERRNO", EXDEV, {}},
                {{"no_such_syscall_anywhere", "getpgrp"}, "SCMP_ACT_ERRNO", std::nullopt, {}}};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto prog = stack::rt::compile_seccomp(s);
  ASSERT_TRUE(prog) << prog.error().message();
  EXPECT_EQ(prog->flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW});
  EXPECT_EQ(verdict(*prog, nr("getppid")), errno_ret(EXDEV));
  EXPECT_EQ(verdict(*prog, nr("getpgrp")), errno_ret(EPERM));  // errnoRet unset: EPERM
  EXPECT_EQ(verdict(*prog, nr("getpid")), kAllow);
  EXPECT_EQ(verdict(*prog, 0x3fffffff), kAllow);  // no ENOSYS stub under ALLOW
}

TEST(SeccompCompile, ArgumentsAndSameArgumentTwice) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.syscalls = {
      // Two conditions on arg 0: runc makes one rule each, so either matches.
      {{"socket"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, 1, 0, "SCMP_CMP_EQ"}, {0, 10, 0, "SCMP_CMP_EQ"}}},
      // Different args are ANDed.
      {{"kill"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, 100, 0, "SCMP_CMP_GE"}, {1, 9, 0, "SCMP_CMP_NE"}}},
      {{"ioctl"}, "SCMP_ACT_KILL_PROCESS", std::nullopt, {{1, 0xff00, 0x5400, "SCMP_CMP_MASKED_EQ"}}},
  };
  auto prog = stack::rt::compile_seccomp(s);
  ASSERT_TRUE(prog) << prog.error().message();
  EXPECT_EQ(verdict(*prog, nr("socket"), {1}), kAllow);
  EXPECT_EQ(verdict(*prog, nr("socket"), {10}), kAllow);
  EXPECT_EQ(verdict(*prog, nr("socket"), {2}), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("kill"), {100, 15}), kAllow);
  EXPECT_EQ(verdict(*prog, nr("kill"), {100, 9}), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("kill"), {99, 15}), errno_ret(EPERM));
  EXPECT_EQ(verdict(*prog, nr("ioctl"), {0, 0x5413}), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(verdict(*prog, nr("ioctl"), {0, 0x8913}), errno_ret(EPERM));
}

TEST(SeccompCompile, UnknownNamesAreSkipped) {
  Seccomp s;
  s.default_action = "SCMP_ACT_KILL";
  s.syscalls = {{{"not_a_syscall"}, "SCMP_ACT_ALLOW", std::nullopt, {}}};
  auto prog = stack::rt::compile_seccomp(s);
  ASSERT_TRUE(prog) << prog.error().message();
  EXPECT_EQ(verdict(*prog, nr("getpid")), SECCOMP_RET_KILL_THREAD);
}

// ---- cache -------------------------------------------------------------------

std::vector<fs::path> bpf_files(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool same_insns(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)) == 0;
}

TEST(SeccompCache, HitReturnsTheSameProgramFromOneFile) {
  stack::test::TempDir tmp("seccomp-cache");
  const std::string dir = tmp.path() + "/a/b";  // created on first use
  Seccomp prof = stack::rt::default_seccomp_profile(kDockerCaps);
  auto fresh = stack::rt::compile_seccomp(prof);
  auto first = stack::rt::compile_seccomp(prof, dir);
  ASSERT_TRUE(fresh && first);
  EXPECT_TRUE(same_insns(fresh->insns, first->insns));
  auto files = bpf_files(dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].string(), stack::rt::seccomp_cache_path(prof, dir));
  EXPECT_EQ(files[0].extension(), ".bpf");
  struct stat st1 {};
  ASSERT_EQ(::stat(files[0].c_str(), &st1), 0);

  auto second = stack::rt::compile_seccomp(prof, dir);
  ASSERT_TRUE(second);
  EXPECT_TRUE(same_insns(first->insns, second->insns));
  EXPECT_EQ(second->flags, first->flags);
  EXPECT_EQ(bpf_files(dir).size(), 1u);
  struct stat st2 {};
  ASSERT_EQ(::stat(files[0].c_str(), &st2), 0);
  EXPECT_EQ(st1.st_ino, st2.st_ino) << "a hit must not rewrite the file";

  Seccomp other = stack::rt::default_seccomp_profile(with(kDockerCaps, "CAP_SYS_ADMIN"));
  auto third = stack::rt::compile_seccomp(other, dir);
  ASSERT_TRUE(third);
  EXPECT_FALSE(same_insns(first->insns, third->insns));
  EXPECT_EQ(bpf_files(dir).size(), 2u);
  EXPECT_NE(stack::rt::seccomp_cache_path(prof, dir), stack::rt::seccomp_cache_path(other, dir));

  // One errno differs: a different key, too.
  Seccomp tweaked = prof;
  tweaked.default_errno_ret = EACCES;
  EXPECT_NE(stack::rt::seccomp_cache_path(prof, dir), stack::rt::seccomp_cache_path(tweaked, dir));
}

TEST(SeccompCache, CorruptFilesAreIgnoredAndRewritten) {
  stack::test::TempDir tmp("seccomp-cache");
  Seccomp prof = stack::rt::default_seccomp_profile(kDockerCaps);
  auto good = stack::rt::compile_seccomp(prof, tmp.path());
  ASSERT_TRUE(good);
  const std::string path = stack::rt::seccomp_cache_path(prof, tmp.path());
  const auto size = fs::file_size(path);

  auto damage_and_check = [&](const char* what, auto damage) {
    SCOPED_TRACE(what);
    damage();
    auto again = stack::rt::compile_seccomp(prof, tmp.path());
    ASSERT_TRUE(again);
    EXPECT_TRUE(same_insns(good->insns, again->insns));
    EXPECT_EQ(fs::file_size(path), size) << "rewritten whole";
    EXPECT_EQ(bpf_files(tmp.path()).size(), 1u) << "no temporary left behind";
  };
  damage_and_check("truncated", [&] { fs::resize_file(path, size / 2); });
  damage_and_check("empty", [&] { fs::resize_file(path, 0); });
  damage_and_check("one byte flipped", [&] {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c ^= 0x40;
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  });
  damage_and_check("garbage appended", [&] {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << "junk";
  });
}

TEST(SeccompCache, UnwritableCacheStillCompiles) {
  stack::test::TempDir tmp("seccomp-cache");
  const std::string file = tmp.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  Seccomp prof = stack::rt::default_seccomp_profile(kDockerCaps);
  auto prog = stack::rt::compile_seccomp(prof, file + "/cache");
  ASSERT_TRUE(prog) << prog.error().message();
  EXPECT_FALSE(prog->empty());
}

}  // namespace
